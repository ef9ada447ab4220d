"""Build, before class, everything the notebooks would otherwise build on first use.

A lesson has about five minutes of compute; pretraining the tiny GPT alone takes several minutes on a
2-core laptop. So the pretrained models (and the data caches under them) are built once, by one
command, into the cache (``WORKBENCH_CACHE``, else ``datasets/cache`` in a checkout)::

    python -m workbench.course.prewarm

Each step prints whether it built something or found it cached, and how long it took; a second run
finds everything cached in seconds. The models are exactly the notebooks' defaults
(``pretrained_cnn()`` and ``pretrained_lm()``), so the notebooks load what this built.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable


def _cnn(progress: bool):
    from ..pretrain.vision import pretrained_cnn

    return pretrained_cnn(progress=progress).path


def _lm(progress: bool):
    from ..pretrain.text import pretrained_lm

    return pretrained_lm(progress=progress).path


def _data_vision(progress: bool):
    from ..data.digits import mnist5k
    from ..data.glyphs import glyph_bank

    glyph_bank(62)
    mnist5k()


def _data_text(progress: bool):
    from ..data import shakespeare
    from ..data.text import corpus_ids, shakespeare_tokenizer

    shakespeare.load_speeches()
    for kind in ("char", "bpe"):
        tok = shakespeare_tokenizer(kind)
        for split in ("train", "held_out"):
            corpus_ids(tok, split)


def _minilm(progress: bool):
    from ..models.minilm import INSTALL_HINT, minilm_available, minilm_folder

    if not minilm_available():
        return f"not installed (optional; {INSTALL_HINT})"
    return str(minilm_folder())


#: (name, what uses it, step): the order matters only for the printout (data first, then models).
STEPS: list[tuple[str, str, Callable]] = [
    ("glyphs and digits", "notebooks 01-03, 07", _data_vision),
    ("Shakespeare corpus and tokenizers", "notebooks 04-07", _data_text),
    ("pretrained CNN", "notebooks 01-03, 07 (pretrained_cnn())", _cnn),
    ("pretrained tiny GPT", "notebooks 04-07 (pretrained_lm())", _lm),
    ("MiniLM checkpoint", "notebook 06 (a package, nothing to build)", _minilm),
]


def _model_paths() -> list[tuple[str, str, object]]:
    """(model, notebooks, folder) of the two pretrained models the notebooks load by default."""
    from ..paths import cache_dir
    from ..pretrain import text, vision

    models = cache_dir() / "models"
    cnn = vision._cache_key(62, vision.PRETRAIN_VISION.steps, 0, (16, 32, 64, 128))
    lm = text._cache_key("clm", "bpe", text.PRETRAIN_TEXT.steps, 0, 4, 128)
    return [("pretrained CNN", "notebooks 01-03, 07 (pretrained_cnn())", models / cnn),
            ("pretrained tiny GPT", "notebooks 04-07 (pretrained_lm())", models / lm)]


def cache_status() -> list[dict]:
    """What is pre-warmed, building nothing: one row per pretrained model the notebooks load.

    ``cached`` says whether ``pretrained_cnn()`` / ``pretrained_lm()`` would load it; for a cached model,
    ``pretrain_seconds`` and ``steps`` are what its pretraining measured (read from the checkpoint), i.e.
    what a cold start costs on the machine that built it. Missing models have ``None`` there.
    """
    from ..errors import CheckpointError
    from ..train.checkpoints import read_meta

    rows = []
    for name, used_by, path in _model_paths():
        row = {"model": name, "used by": used_by, "cached": False, "pretrain_seconds": None, "steps": None, "path": str(path)}
        if path.exists():
            try:
                metrics = read_meta(path).get("metrics", {})
                row.update(cached=True, pretrain_seconds=metrics.get("seconds"), steps=metrics.get("steps"))
            except CheckpointError:
                pass  # an unreadable entry is rebuilt on first use: not pre-warmed
        rows.append(row)
    return rows


def _snapshot(folder) -> dict:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


def prewarm(progress: bool = True, *, steps=None, print_fn=print) -> list[dict]:
    """Run every step; one row each: step, status (built / cached / the step's note), seconds, where."""
    from ..paths import cache_dir

    cache = cache_dir()
    rows = []
    print_fn(f"prewarming the cache in {cache}")
    for name, used_by, step in (steps or STEPS):
        before = _snapshot(cache)
        start = time.perf_counter()
        where = step(progress)
        seconds = time.perf_counter() - start
        changed = _snapshot(cache) != before
        note = where if isinstance(where, str) and where.startswith("not installed") else None
        status = note or ("built" if changed else "cached")
        rows.append({"step": name, "used by": used_by, "status": status, "seconds": round(seconds, 1),
                     "where": None if note else (where or str(cache))})
        print_fn(f"  {name:36s} {status if note else status + f' in {seconds:.1f} s'}")
    total = sum(r["seconds"] for r in rows)
    print_fn(f"done in {total:.0f} s; the notebooks now load these from the cache")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workbench.course.prewarm", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quiet", action="store_true", help="no training progress bars")
    args = ap.parse_args(argv)
    prewarm(progress=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
