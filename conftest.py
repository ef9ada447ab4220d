"""Notebook runs under nbval: which lessons run at full size and which in smoke mode.

CI runs every solution notebook (``pytest --nbval-lax tests solutions``). The headline lessons, 01-03,
run at full size so the numbers they teach stay checked; the others run with ``WORKBENCH_SMOKE=1``
(every code path, about a minute each). nbval starts one kernel per notebook, at the setup of its first
cell, and the kernel inherits this process's environment; so the switch is set here, per notebook,
just before that. An explicit ``WORKBENCH_SMOKE`` in the environment (``1`` or ``0``) wins for all.
"""
from __future__ import annotations

import os

import pytest

FULL_SIZE_IN_CI = ("01_", "02_", "03_")
_USER_CHOICE = os.environ.get("WORKBENCH_SMOKE")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    path = getattr(item, "path", None)
    if path is None or path.suffix != ".ipynb" or _USER_CHOICE is not None:
        return
    if path.name.startswith(FULL_SIZE_IN_CI):
        os.environ.pop("WORKBENCH_SMOKE", None)
    else:
        os.environ["WORKBENCH_SMOKE"] = "1"
