"""The committed notebooks are exactly what their jupytext sources build (edit the source, never the .ipynb)."""
from __future__ import annotations

from pathlib import Path

from workbench.course.build import build

ROOT = Path(__file__).resolve().parent.parent


def test_every_notebook_matches_its_source(monkeypatch):
    monkeypatch.chdir(ROOT)
    stale = build(check=True, quiet=True)
    assert not stale, f"out of date (run: python -m workbench.course.build): {stale}"


def test_every_notebook_has_a_source():
    sources = {p.stem for p in (ROOT / "notebooks" / "src").glob("*.py")}
    for folder in ("notebooks", "solutions"):
        built = {p.stem for p in (ROOT / folder).glob("*.ipynb")}
        assert built == sources, f"{folder}/ has notebooks without a source or is missing some: {built ^ sources}"
