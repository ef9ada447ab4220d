"""Each notebook's measured wall time, cold cache, warm cache and smoke mode, written to ``docs/timings.md``.

A lesson states its time, and the course promises at most 5 minutes of compute per notebook with a warm
cache; this measures it instead of guessing::

    python -m workbench.course.timings                 # every notebook, all three modes (slow: pretrains cold)
    python -m workbench.course.timings --smoke-only    # just WORKBENCH_SMOKE=1, warm cache (about a minute each)
    python -m workbench.course.timings notebooks/03_pretrained_vs_scratch.ipynb --modes warm

* cold: the notebook alone on an empty cache (what a student sees who skipped the prewarm command);
* warm: after :func:`workbench.course.prewarm.prewarm` (what class should look like);
* smoke: warm cache and ``WORKBENCH_SMOKE=1`` (what CI runs).

Notebooks run through nbclient, as nbval does: a fresh kernel, the notebook's folder as working
directory, the environment passed on (records go to a temporary ``WORKBENCH_RUNS``, not the checkout).
Modes not measured in a run keep their earlier value in the table.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from .timer import format_seconds

MODES = ("cold", "warm", "smoke")
DEFAULT_OUT = "docs/timings.md"


@contextlib.contextmanager
def _environ(changes: dict):
    """Set (value) or unset (None) environment variables for a block; the kernel inherits them."""
    saved = {k: os.environ.get(k) for k in changes}
    try:
        for k, v in changes.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(v)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_notebook(path, *, env: dict | None = None, timeout: int = 3600, kernel: str = "python3") -> float:
    """Execute ``path`` top to bottom in a fresh kernel (nothing written back); its wall time in seconds."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, resources={"metadata": {"path": str(path.parent.resolve())}})
    with _environ(env or {}):
        start = time.perf_counter()
        client.execute()
        return time.perf_counter() - start


def time_notebooks(notebooks, modes=MODES, *, warm_cache=None, timeout: int = 3600, prewarm_first: bool = True,
                   print_fn=print) -> list[dict]:
    """One row per notebook: seconds per mode (or ``"failed: ..."``)."""
    from ..errors import check_choice

    for m in modes:
        check_choice("timing mode", m, MODES)
    notebooks = [Path(n) for n in notebooks]
    rows = [{"notebook": n.stem} for n in notebooks]
    with tempfile.TemporaryDirectory(prefix="wb-timing-runs-") as runs:
        base = {"WORKBENCH_RUNS": runs, "WORKBENCH_SMOKE": None}
        warm = str(warm_cache) if warm_cache else os.environ.get("WORKBENCH_CACHE")
        if any(m in modes for m in ("warm", "smoke")) and prewarm_first:
            from .prewarm import prewarm

            with _environ({"WORKBENCH_CACHE": warm} if warm else {}):
                prewarm(progress=False, print_fn=print_fn)
        for mode in MODES:
            if mode not in modes:
                continue
            for row, nb in zip(rows, notebooks):
                with contextlib.ExitStack() as stack:
                    env = dict(base)
                    if mode == "cold":
                        env["WORKBENCH_CACHE"] = stack.enter_context(tempfile.TemporaryDirectory(prefix="wb-cold-cache-"))
                    elif warm:
                        env["WORKBENCH_CACHE"] = warm
                    if mode == "smoke":
                        env["WORKBENCH_SMOKE"] = "1"
                    try:
                        row[mode] = run_notebook(nb, env=env, timeout=timeout)
                        print_fn(f"{nb.name:45s} {mode:5s} {format_seconds(row[mode])}")
                    except Exception as err:  # noqa: BLE001 - one broken notebook must not lose the others' times
                        row[mode] = f"failed: {type(err).__name__}"
                        print_fn(f"{nb.name:45s} {mode:5s} FAILED ({type(err).__name__}: {str(err).strip().splitlines()[-1:]})")
    return rows


_ROW = re.compile(r"^\|\s*(?P<nb>[^|]+?)\s*\|(?P<rest>.*)\|\s*$")


def read_timings(path) -> dict[str, dict]:
    """The table already in ``path``: {notebook: {mode: cell text}}."""
    path = Path(path)
    out: dict[str, dict] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if not m or m.group("nb") in ("notebook", "---") or set(m.group("nb")) <= set("-: "):
            continue
        cells = [c.strip() for c in m.group("rest").split("|")]
        out[m.group("nb")] = dict(zip(MODES, cells + [""] * (len(MODES) - len(cells))))
    return out


def _cell(value) -> str:
    if value is None or value == "":
        return ""
    return value if isinstance(value, str) else format_seconds(value)


def write_timings(rows: list[dict], path=DEFAULT_OUT, *, note: str | None = None) -> Path:
    """Merge ``rows`` into the table in ``path`` (modes not in a row keep their old value) and write it."""
    path = Path(path)
    table = read_timings(path)
    for row in rows:
        old = table.setdefault(row["notebook"], {m: "" for m in MODES})
        for m in MODES:
            if m in row:
                old[m] = _cell(row[m])
    machine = note or (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
                       f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    lines = ["# Notebook run times", "",
             "Measured by `python -m workbench.course.timings` (wall time of a fresh kernel running the notebook top to bottom).",
             "cold: empty cache; warm: after `python -m workbench.course.prewarm`; smoke: warm cache and `WORKBENCH_SMOKE=1`.",
             f"Last measured {date.today().isoformat()} on {machine}.", "",
             "| notebook | cold | warm | smoke |", "|---|---|---|---|"]
    lines += [f"| {nb} | " + " | ".join(table[nb].get(m, "") for m in MODES) + " |" for nb in sorted(table)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workbench.course.timings", description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to time (default: notebooks/[0-9]*.ipynb)")
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)} (default all)")
    ap.add_argument("--smoke-only", action="store_true", help="same as --modes smoke")
    ap.add_argument("--out", default=DEFAULT_OUT, help=f"the Markdown table to update (default {DEFAULT_OUT})")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per cell before a notebook counts as failed")
    args = ap.parse_args(argv)
    modes = ("smoke",) if args.smoke_only else tuple(m.strip() for m in args.modes.split(",") if m.strip())
    notebooks = args.notebooks or sorted(str(p) for p in Path("notebooks").glob("[0-9]*.ipynb"))
    if not notebooks:
        print("no notebooks to time", file=sys.stderr)
        return 2
    rows = time_notebooks(notebooks, modes, timeout=args.timeout)
    print(f"wrote {write_timings(rows, args.out)}")
    return 1 if any(str(r.get(m, "")).startswith("failed") for r in rows for m in MODES) else 0


if __name__ == "__main__":
    sys.exit(main())
