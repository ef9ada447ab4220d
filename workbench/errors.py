"""The workbench's own exception types.

Every user mistake (a bad name, a budget that does not fit, a checkpoint of another model) raises a
:class:`WorkbenchError` whose message is one line that says what was wrong and what to do. The CLI
prints that line and exits non-zero; notebooks show it without a wall of traceback.
"""
from __future__ import annotations

from collections.abc import Iterable


class WorkbenchError(ValueError):
    """A problem the user can fix; the message says how."""


class CheckpointError(WorkbenchError):
    """A checkpoint that cannot be loaded: missing, corrupted, unsafe or of another model."""


class TrainingDiverged(WorkbenchError):
    """The loss became NaN or infinite; the last good weights were restored."""


def check_choice(kind: str, value, allowed: Iterable) -> None:
    """Raise a one-line error naming the valid choices when ``value`` is not one of them."""
    allowed = list(allowed)
    if value not in allowed:
        raise WorkbenchError(f"unknown {kind} {value!r}; choose one of: {', '.join(map(str, allowed))}")


def check_positive(name: str, value, *, integer: bool = False, maximum=None) -> None:
    """Raise a one-line error unless ``value`` is a positive number (an int if ``integer``)."""
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or not value > 0:
        kind = "a positive integer" if integer else "a positive number"
        raise WorkbenchError(f"{name} must be {kind}, got {value!r}")
    if maximum is not None and value > maximum:
        raise WorkbenchError(f"{name}={value!r} is too large (at most {maximum}); lower it")
