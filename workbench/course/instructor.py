"""What an instructor runs over a folder of the class's records: ``python -m workbench.course.instructor FOLDER``.

Collect each student's ``runs/predictions/<student>/`` folder into one folder (or point it at a shared
``runs/predictions``) and this prints three tables: the class's predictions against what their runs
measured, who passed which exercise in how many attempts, and how the quiz questions went.
``--csv PREFIX`` also writes ``PREFIX-predictions.csv``, ``PREFIX-exercises.csv`` and ``PREFIX-quiz.csv``.
"""
from __future__ import annotations

import argparse
import sys

from ..errors import WorkbenchError


def class_summary(folder) -> dict:
    """{"predictions", "exercises", "quiz"}: one DataFrame each."""
    from .exercises import summarize_exercises
    from .predictions import summarize_predictions
    from .quiz import summarize_quizzes

    return {"predictions": summarize_predictions(folder), "exercises": summarize_exercises(folder), "quiz": summarize_quizzes(folder)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workbench.course.instructor", description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="the folder that holds the students' record folders (e.g. runs/predictions)")
    ap.add_argument("--csv", metavar="PREFIX", help="also write PREFIX-predictions.csv, PREFIX-exercises.csv, PREFIX-quiz.csv")
    args = ap.parse_args(argv)
    try:
        tables = class_summary(args.folder)
    except WorkbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 30, "display.max_colwidth", 60):
        for name, table in tables.items():
            print(f"== {name} ==")
            print(table.to_string(index=False) if len(table) else "(no records)")
            print()
    if args.csv:
        for name, table in tables.items():
            table.to_csv(f"{args.csv}-{name}.csv", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
