"""One switch that shrinks a notebook to a smoke test: ``WORKBENCH_SMOKE=1``.

A lesson is sized for class (minutes of training, 5-10 seeds). CI, an instructor checking a notebook
before class, or a student on a slow laptop wants the same notebook to run *every code path* in about a
minute. Notebooks therefore write every size that costs time through :func:`size`::

    seeds = size(10, smoke=2)
    budgets = size([10, 20, 50, 100, 500], smoke=[10, 50])

so the full and the smoke value sit side by side in the cell and nothing else in the notebook changes.
The switch is read at each call (not at import), so a test can set the variable and run a notebook.
Numbers a smoke run prints are not the lesson's results; :func:`smoke_note` says so in the output.
"""
from __future__ import annotations

import os
from typing import TypeVar

SMOKE_ENV = "WORKBENCH_SMOKE"
_OFF = ("", "0", "false", "no", "off")

T = TypeVar("T")


def is_smoke() -> bool:
    """True when ``WORKBENCH_SMOKE`` is set to anything but empty/0/false/no/off."""
    return os.environ.get(SMOKE_ENV, "").strip().lower() not in _OFF


def size(full: T, smoke: T) -> T:
    """``smoke`` under ``WORKBENCH_SMOKE=1``, else ``full``: steps, seeds, budgets, time limits..."""
    return smoke if is_smoke() else full


def smoke_note() -> str:
    """One line for a notebook's output: empty at full size, a warning in smoke mode."""
    if not is_smoke():
        return ""
    return (f"smoke mode ({SMOKE_ENV}=1): sizes are shrunk to test the code paths; "
            "the numbers below are not the lesson's results")
