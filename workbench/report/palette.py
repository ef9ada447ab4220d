"""One colour-blind-safe palette, so a recipe has the same colour in every figure.

The colours are Okabe & Ito's eight (distinguishable under the common colour-vision deficiencies),
extended by Paul Tol's "muted" set for the rarer names. The shipped recipes and baselines have fixed
colours (``scratch`` is always black, the baseline every gain is measured against); any other name gets
a colour from a stable hash of the name, never from its position in a table, so a recipe keeps its
colour whichever comparison it appears in. Line plots also vary the marker, which survives greyscale
printing.
"""
from __future__ import annotations

import zlib

OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
TOL_MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499", "#DDDDDD")
EXTENDED = OKABE_ITO[1:] + TOL_MUTED

#: fixed colours for the names the workbench ships (recipes, baselines, lab variants)
FIXED = {
    "scratch": "#000000", "probe": "#E69F00", "finetune": "#0072B2", "discriminative": "#D55E00",
    "partial": "#009E73", "gradual": "#CC79A7", "likelihood": "#56B4E9", "lpft": "#882255",
    "random_probe": "#999933", "scratch_lm": "#DDCC77", "finetune_last": "#332288", "lora": "#117733",
    "tfidf": "#888888", "bow": "#BBBBBB", "zeroshot": "#44AA99", "l2sp": "#AA4499",
}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def recipe_color(name: str) -> str:
    """The colour of a recipe (or baseline) name, the same in every figure."""
    if name in FIXED:
        return FIXED[name]
    base = name.split("@")[0].split(" ")[0]
    if base in FIXED:
        return FIXED[base]
    return EXTENDED[zlib.crc32(name.encode()) % len(EXTENDED)]


def recipe_marker(name: str) -> str:
    """A marker that goes with the colour, so lines stay distinguishable in greyscale."""
    return MARKERS[zlib.crc32(name.encode()) % len(MARKERS)]


def series_color(i: int) -> str:
    """The i-th colour for series that are not recipes (budgets, batch sizes, phases)."""
    return OKABE_ITO[1:][i % (len(OKABE_ITO) - 1)]
