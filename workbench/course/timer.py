"""How long the notebook took: a lesson states its measured time, so it has to measure it.

The clock starts when this module is first imported and again at :func:`start_clock` (which
:func:`workbench.course.begin` calls in a notebook's first cell, so "Run All" twice measures the second
run, not the kernel's lifetime). The last cell calls :func:`elapsed`, which prints the time (and returns
nothing, so the cell shows just that line); :func:`seconds_elapsed` returns the number.
"""
from __future__ import annotations

import time

from .smoke import is_smoke

_start = time.perf_counter()


def start_clock() -> None:
    global _start
    _start = time.perf_counter()


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def seconds_elapsed() -> float:
    """Seconds since the clock started."""
    return time.perf_counter() - _start


def elapsed() -> None:
    """Print how long the notebook ran, and whether this was a smoke run: a notebook's last call."""
    mode = " (smoke mode: shrunk sizes)" if is_smoke() else ""
    print(f"this notebook ran for {format_seconds(seconds_elapsed())}{mode}")
