"""Every lesson has the student's part: objectives, predictions with reveals, checked exercises, a
questionnaire, a summary, further reading and a description under every figure (the course's rules)."""
from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

SOURCES = sorted((Path(__file__).resolve().parent.parent / "notebooks" / "src").glob("*.py"))
FIGURE_CALL = re.compile(r"\b(figures|lab_figures)\.\w+\(|\bplt\.(show|subplots|figure)\(")


def _cells(path):
    nb = jupytext.read(path)
    return [(c.cell_type, c.source) for c in nb.cells]


def _headings(cells):
    return [line.lstrip("#").strip() for kind, src in cells if kind == "markdown"
            for line in src.splitlines() if line.startswith("#")]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_a_lesson_has_every_part(path):
    cells = _cells(path)
    heads = _headings(cells)
    code = "\n".join(src for kind, src in cells if kind == "code")
    assert any("Objectives" in h for h in heads), "a heading containing 'Objectives'"
    predicts = [h for h in heads if h.startswith("Predict")]
    exercises = [h for h in heads if h.startswith("Exercise")]
    assert len(predicts) >= 2, f"at least two 'Predict' headings, found {predicts}"
    assert len(exercises) >= 3, f"at least three 'Exercise' headings, found {exercises}"
    assert any("Questions" in h for h in heads), "a heading containing 'Questions'"
    assert any("Summary" in h for h in heads) and any("reading" in h.lower() for h in heads), "a summary and further reading"
    assert code.count(".reveal(") >= 2, "each prediction is revealed against this run's numbers"
    assert len(re.findall(r"\bcheck\(\"\d\d\.", code)) >= 3, "at least three checked exercises"
    assert "get_quiz(" in code
    first = next(src for kind, src in cells if kind == "code")
    last = [src for kind, src in cells if kind == "code"][-1]
    assert "begin(" in first and "elapsed()" in last, "begin() in the first code cell, elapsed() in the last"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_figure_has_a_text_description(path):
    cells = _cells(path)
    missing = []
    for i, (kind, src) in enumerate(cells):
        if kind == "code" and FIGURE_CALL.search(src):
            after = next((s for k, s in cells[i + 1:] if k == "markdown"), "")
            if "*Figure:*" not in after.split("\n\n")[0] and not after.lstrip().startswith("*Figure"):
                missing.append(src.splitlines()[0][:70])
    assert not missing, f"figure cells without a '*Figure:*' description right after: {missing}"
