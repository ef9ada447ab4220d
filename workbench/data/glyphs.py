"""Printed characters rendered from the fonts matplotlib ships: the offline pretraining source.

Each of 21 fonts draws 0-9, A-Z and a-z at three stroke widths. Glyphs are cropped, their longest
side fitted to 40 px and centred by centre of mass in a 56x56 canvas (MNIST's 20-in-28 convention at
twice the size), white on black. Rendering is slower than training, so the bank is built once and
cached; variety comes from :mod:`workbench.data.augment` applied to whole batches.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..errors import check_choice
from ..paths import cache_dir
from .store import load_tensors, save_tensors

CHARACTERS = string.digits + string.ascii_uppercase + string.ascii_lowercase
FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmb10.ttf", "cmss10.ttf", "cmti10.ttf", "cmtt10.ttf",
)
STROKE_WIDTHS = (0, 2, 4)
CANVAS = 56
FIT = 40
BANK_VERSION = 1


@dataclass
class GlyphBank:
    """Clean glyph images (uint8, N x 56 x 56), their class (index into ``classes``) and font."""

    images: torch.Tensor
    labels: torch.Tensor
    fonts: torch.Tensor
    classes: str

    def __len__(self) -> int:
        return len(self.labels)


def _font_dir() -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _render(char: str, font: ImageFont.FreeTypeFont, stroke: int) -> np.ndarray:
    canvas = Image.new("L", (192, 192), 0)
    ImageDraw.Draw(canvas).text((40, 20), char, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    box = canvas.getbbox()
    glyph = canvas.crop(box)
    w, h = glyph.size
    scale = FIT / max(w, h)
    glyph = glyph.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    arr = np.asarray(glyph, dtype=np.float32)
    ys, xs = np.indices(arr.shape)
    total = arr.sum()
    cy, cx = (ys * arr).sum() / total, (xs * arr).sum() / total
    out = np.zeros((CANVAS, CANVAS), np.float32)
    top, left = int(round(CANVAS / 2 - cy)), int(round(CANVAS / 2 - cx))
    top = min(max(top, 0), CANVAS - arr.shape[0])
    left = min(max(left, 0), CANVAS - arr.shape[1])
    out[top : top + arr.shape[0], left : left + arr.shape[1]] = arr
    return np.clip(out, 0, 255).astype(np.uint8)


def render_bank() -> GlyphBank:
    """Render every font x character x stroke width (about 3,900 glyphs, a few seconds)."""
    images, labels, fonts = [], [], []
    for f, name in enumerate(FONT_FILES):
        for stroke in STROKE_WIDTHS:
            font = ImageFont.truetype(str(_font_dir() / name), size=96)
            for c, char in enumerate(CHARACTERS):
                images.append(_render(char, font, stroke))
                labels.append(c)
                fonts.append(f)
    return GlyphBank(torch.from_numpy(np.stack(images)), torch.tensor(labels), torch.tensor(fonts), CHARACTERS)


def glyph_bank(classes: int = 62) -> GlyphBank:
    """The cached glyph bank with 62 classes (digits and letters) or 10 (digits only)."""
    check_choice("glyph class count", classes, (62, 10))
    path = cache_dir() / f"glyphs-v{BANK_VERSION}.safetensors"
    tensors = load_tensors(path)
    if tensors is None:
        bank = render_bank()
        save_tensors(path, {"images": bank.images, "labels": bank.labels, "fonts": bank.fonts})
    else:
        bank = GlyphBank(tensors["images"], tensors["labels"], tensors["fonts"], CHARACTERS)
    if classes == 10:
        keep = bank.labels < 10
        bank = GlyphBank(bank.images[keep], bank.labels[keep], bank.fonts[keep], CHARACTERS[:10])
    return bank


def split_by_font(bank: GlyphBank, val_fonts: tuple[int, ...] = (3, 10, 19)) -> tuple[GlyphBank, GlyphBank]:
    """Hold out whole fonts for validation, so the score measures new typefaces, not memorised ones."""
    held = torch.isin(bank.fonts, torch.tensor(val_fonts))
    pick = lambda m: GlyphBank(bank.images[m], bank.labels[m], bank.fonts[m], bank.classes)  # noqa: E731
    return pick(~held), pick(held)
