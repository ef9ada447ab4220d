"""Where a student's course records live, and how they are written.

Predictions, exercise results and quiz answers are small JSON files under one folder per student,
``<root>/predictions/<student>/``, so an instructor can collect the folders of a whole class and
summarise them (:mod:`workbench.course.instructor`). One module decides the folder, the student's
name and the notebook's name, so the three kinds of record can never disagree about them.

* root: ``root=`` argument, else ``WORKBENCH_RUNS``, else ``runs`` (relative to the working directory,
  which is the notebook's folder in Jupyter; ``runs/`` is gitignored).
* student: ``student=`` argument, else ``WORKBENCH_STUDENT``, else the operating-system user.
* notebook: set once per notebook by :func:`workbench.course.begin` (or :func:`set_notebook`),
  else the part of a key before its first dot (``"03.crossover"`` -> ``"03"``).

Files are written atomically (a temporary file renamed into place), so a summary never reads half a file.
"""
from __future__ import annotations

import getpass
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from ..data.store import atomic_write
from ..errors import WorkbenchError

STUDENT_ENV = "WORKBENCH_STUDENT"
RUNS_ENV = "WORKBENCH_RUNS"
FOLDER = "predictions"

_current = {"notebook": None, "student": None, "root": None}


def safe_name(text: str, kind: str = "name") -> str:
    """``text`` as a file-name part: letters, digits, ``_ . -``; never empty, never a path."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text).strip()).strip("._")
    if not cleaned:
        raise WorkbenchError(f"{kind} {text!r} has no usable characters; use letters, digits, '_', '.' or '-'")
    return cleaned


def set_notebook(name: str | None) -> None:
    """Name the notebook whose records follow (``None`` forgets it)."""
    _current["notebook"] = None if name is None else safe_name(name, "notebook name")


def set_defaults(*, notebook: str | None = None, student: str | None = None, root=None) -> None:
    """The notebook, student and root that later records use when they are not given."""
    set_notebook(notebook)
    _current["student"] = None if student is None else safe_name(student, "student name")
    _current["root"] = None if root is None else str(root)


def notebook_name(key: str | None = None) -> str:
    if _current["notebook"]:
        return _current["notebook"]
    if key and "." in key:
        return safe_name(key.split(".", 1)[0], "notebook name")
    return "notebook"


def student_id(name: str | None = None) -> str:
    """The explicit name, else ``WORKBENCH_STUDENT``, else the OS user (``student`` if there is none)."""
    raw = name or _current["student"] or os.environ.get(STUDENT_ENV)
    if not raw:
        try:
            raw = getpass.getuser()
        except Exception:  # noqa: BLE001 - no user database (some containers): a neutral name
            raw = "student"
    return safe_name(raw, "student name")


def runs_root(root=None) -> Path:
    return Path(root or _current["root"] or os.environ.get(RUNS_ENV) or "runs").expanduser()


def student_dir(student: str | None = None, root=None) -> Path:
    """``<root>/predictions/<student>``: every record of one student."""
    return runs_root(root) / FOLDER / student_id(student)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, data: dict) -> Path:
    text = json.dumps(data, indent=2, sort_keys=True, default=_plain) + "\n"
    atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return Path(path)


def read_json(path: Path) -> dict | None:
    """The record in ``path``, or None when it is missing or not a JSON object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load_records(folder, kind: str) -> list[dict]:
    """Every record of ``kind`` ("prediction", "exercises", "quiz") anywhere under ``folder``."""
    folder = Path(folder)
    if not folder.exists():
        raise WorkbenchError(f"no folder {folder}; give the folder that holds the students' prediction folders")
    out = []
    for path in sorted(folder.rglob("*.json")):
        data = read_json(path)
        if data is not None and data.get("type") == kind:
            out.append({**data, "_path": str(path)})
    return out


def _plain(value):
    """JSON for numpy scalars and tensors that reach a record."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
