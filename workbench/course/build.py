"""Student and solution notebooks from one source per lesson: ``python -m workbench.course.build``.

**Sources.** Each lesson is a jupytext *py:percent* file, ``notebooks/src/NN_name.py`` (cells start at
``# %%``, Markdown cells at ``# %% [markdown]``): it diffs and reviews like code, and it holds the
solutions. The builder writes two output-free notebooks from it:

* the student version ``notebooks/NN_name.ipynb``: every solution replaced by ``...``;
* the solution version ``solutions/NN_name.ipynb``: the markers removed, the solutions kept. It lives
  outside ``notebooks/`` so ``pytest --nbval-lax notebooks`` does not run every lesson twice.

**Markers** are the ones the ecosystem uses (otter-grader's assign format; nbgrader's ``### BEGIN
SOLUTION`` is read too, since any number of ``#`` is accepted)::

    x = compute()  # SOLUTION             ->  x = ...        (an assignment keeps its left side)
    model.head.requires_grad_(True)  # SOLUTION  ->  ...
    # BEGIN SOLUTION                       ->  ...            (at the marker's indentation)
    for p in model.parameters(): ...
    # END SOLUTION

and, in a Markdown cell, ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` (an open question's
model answer) becomes "_Type your answer here, replacing this text._". A marker without its partner is
an error that names the file, the cell and the line.

**Why not otter-grader or nbgrader.** Both do this split, and more: otter-grader 7 (its assign format
is the one followed here) depends on python-on-whales (Docker), dill, nbconvert[webpdf], ipylab,
jupytext and others, because it also grades in containers and exports PDFs; nbgrader 0.9 (an 11 MB
wheel) needs SQLAlchemy, alembic, notebook 7 and a jupyter-server extension, because it runs a course
database and a grading UI. Neither is needed to blank a few cells, and nbgrader's stub
(``raise NotImplementedError()``) would stop a student notebook at the first exercise, where ours must
run to the end (a blank ``...`` is checked as "not answered yet"). The checks themselves live in
:mod:`workbench.course.exercises`, where tests reach them. If the course ever needs graded submissions,
otter-grader reads these same markers.

``--check`` builds in memory and exits 1 when a committed notebook differs from what its source builds
(for CI): edit the source, run the build, commit both.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import re
import sys
from pathlib import Path

from ..errors import WorkbenchError

SOURCES = "notebooks/src"
STUDENT = "notebooks"
SOLUTIONS = "solutions"

_BEGIN = re.compile(r"^(?P<indent>\s*)#+\s*BEGIN SOLUTION\b")
_END = re.compile(r"^\s*#+\s*END SOLUTION\b")
_INLINE = re.compile(r"^(?P<code>.*?\S)\s*#+\s*SOLUTION\s*$")
_MD_BEGIN = re.compile(r"^\s*<!--\s*BEGIN SOLUTION\s*-->\s*$")
_MD_END = re.compile(r"^\s*<!--\s*END SOLUTION\s*-->\s*$")
_JUPYTEXT_CELL_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker")
MD_PROMPT = "_Type your answer here, replacing this text._"


def _blank_line(line: str) -> str:
    """``x = 3  # SOLUTION`` -> ``x = ...``; any other statement -> ``...`` (same indentation)."""
    code = _INLINE.match(line).group("code")
    indent = code[: len(code) - len(code.lstrip())]
    stmt = code.strip()
    try:
        body = ast.parse(stmt).body
    except SyntaxError:
        return f"{indent}..."
    node = body[0] if len(body) == 1 else None
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        prefix = stmt.encode()[: node.value.col_offset].decode().rstrip()
        return f"{indent}{prefix} ..."
    return f"{indent}..."


def split_code(source: str, where: str = "cell") -> tuple[str, str]:
    """(student, solution) versions of one code cell's source."""
    student, solution = [], []
    begin_line = None
    for i, line in enumerate(source.split("\n"), 1):
        if _BEGIN.match(line):
            if begin_line is not None:
                raise WorkbenchError(f"{where}, line {i}: BEGIN SOLUTION inside the BEGIN SOLUTION of line {begin_line}; close it first")
            begin_line = i
            student.append(f"{_BEGIN.match(line).group('indent')}...")
        elif _END.match(line):
            if begin_line is None:
                raise WorkbenchError(f"{where}, line {i}: END SOLUTION without a BEGIN SOLUTION before it")
            begin_line = None
        elif begin_line is not None:
            solution.append(line)
        elif _INLINE.match(line):
            student.append(_blank_line(line))
            solution.append(_INLINE.match(line).group("code"))
        else:
            student.append(line)
            solution.append(line)
    if begin_line is not None:
        raise WorkbenchError(f"{where}, line {begin_line}: BEGIN SOLUTION has no END SOLUTION")
    return "\n".join(student), "\n".join(solution)


def split_markdown(source: str, where: str = "cell") -> tuple[str, str]:
    """(student, solution) versions of one Markdown cell: a model answer becomes the answer prompt."""
    student, solution = [], []
    begin_line = None
    for i, line in enumerate(source.split("\n"), 1):
        if _MD_BEGIN.match(line):
            if begin_line is not None:
                raise WorkbenchError(f"{where}, line {i}: <!-- BEGIN SOLUTION --> inside another one (line {begin_line})")
            begin_line = i
            student.append(MD_PROMPT)
        elif _MD_END.match(line):
            if begin_line is None:
                raise WorkbenchError(f"{where}, line {i}: <!-- END SOLUTION --> without a BEGIN before it")
            begin_line = None
        elif begin_line is not None:
            solution.append(line)
        else:
            student.append(line)
            solution.append(line)
    if begin_line is not None:
        raise WorkbenchError(f"{where}, line {begin_line}: <!-- BEGIN SOLUTION --> has no END")
    return "\n".join(student), "\n".join(solution)


def _finish(nb):
    """Output-free, jupytext-free, with cell ids that depend only on the cells (so builds are reproducible)."""
    kernelspec = nb.metadata.get("kernelspec") or {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata = {"kernelspec": kernelspec, "language_info": {"name": "python"}}
    nb.nbformat, nb.nbformat_minor = 4, 5
    seen: dict[str, int] = {}
    for cell in nb.cells:
        cell.source = cell.source.rstrip("\n")
        for key in _JUPYTEXT_CELL_KEYS:
            cell.metadata.pop(key, None)
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def build_notebooks(path) -> tuple:
    """(student, solution) notebooks from one py:percent source."""
    import copy

    import jupytext

    path = Path(path)
    source = jupytext.read(path, fmt="py:percent")
    student, solution = copy.deepcopy(source), copy.deepcopy(source)
    for k, cell in enumerate(source.cells):
        where = f"{path}, cell {k + 1}"
        split = split_code if cell.cell_type == "code" else split_markdown if cell.cell_type == "markdown" else None
        if split is not None:
            student.cells[k].source, solution.cells[k].source = split(cell.source, where)
    return _finish(student), _finish(solution)


def notebook_text(nb) -> str:
    import nbformat

    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def sources(src=SOURCES) -> list[Path]:
    """The lesson sources: ``*.py`` in ``src`` whose names do not start with ``_``."""
    src = Path(src)
    return sorted(p for p in src.glob("*.py") if not p.name.startswith("_")) if src.is_dir() else []


def build(src=SOURCES, student=STUDENT, solution=SOLUTIONS, *, check: bool = False, quiet: bool = False) -> list[str]:
    """Write (or, with ``check``, compare) every student and solution notebook; returns the paths written or out of date."""
    found = sources(src)
    if not found and not quiet:
        print(f"no notebook sources in {src}; nothing to build")
    changed = []
    for path in found:
        for folder, nb in zip((Path(student), Path(solution)), build_notebooks(path)):
            target = folder / f"{path.stem}.ipynb"
            text = notebook_text(nb)
            current = target.read_text(encoding="utf-8") if target.exists() else None
            if current == text:
                continue
            changed.append(str(target))
            if check:
                if not quiet:
                    why = "is missing" if current is None else "differs from what its source builds"
                    print(f"{target} {why} ({path}); rebuild: python -m workbench.course.build")
            else:
                folder.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                if not quiet:
                    print(f"wrote {target}")
    if check and not changed and found and not quiet:
        print(f"{2 * len(found)} notebooks match their {len(found)} sources")
    return changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workbench.course.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=SOURCES, help=f"folder of py:percent sources (default {SOURCES})")
    ap.add_argument("--student", default=STUDENT, help=f"folder for student notebooks (default {STUDENT})")
    ap.add_argument("--solution", default=SOLUTIONS, help=f"folder for solution notebooks (default {SOLUTIONS})")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a committed notebook differs from its source")
    args = ap.parse_args(argv)
    try:
        changed = build(args.src, args.student, args.solution, check=args.check)
    except WorkbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
