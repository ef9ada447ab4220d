"""The student's part of a lesson: predictions, exercise checks, a quiz, smoke sizes and the clock.

A notebook's first cell calls :func:`begin`; then, where the lesson needs them::

    from workbench.course import begin, Prediction, check, answer_or, get_quiz, size, elapsed
    begin("03_pretrained_vs_scratch")                     # names the records, starts the clock
    seeds = size(10, smoke=2)                             # WORKBENCH_SMOKE=1 runs it in about a minute
    gain = Prediction("03.gain_n10", "Points pretraining adds at N=10?", unit="points"); gain
    gain.reveal(gains_per_seed * 100)                     # after the run: prints, records and locks
    check("03.crossover", my_budget, results)             # feedback and a hint, never a bare False
    get_quiz("03.review")                                 # the end-of-notebook questionnaire
    elapsed()                                             # the last cell: "this notebook ran for 3 min 05 s"

Modules: :mod:`.smoke` (the switch), :mod:`.timer`, :mod:`.records` (where files go),
:mod:`.predictions`, :mod:`.exercises`, :mod:`.quiz`, :mod:`.lessons` (each notebook's exercises and
quizzes), :mod:`.build` (student and solution notebooks from sources), :mod:`.instructor` (class summaries),
:mod:`.prewarm` (the cache before class) and :mod:`.timings` (measured notebook times).
"""
from __future__ import annotations

from . import records
from .exercises import Feedback, answer_or, check, reference
from .predictions import Prediction, summarize_predictions
from .quiz import MultipleChoice, Numeric, Quiz, get_quiz
from .smoke import is_smoke, size, smoke_note
from .timer import elapsed, seconds_elapsed, start_clock

# The lessons register their exercises and quizzes with the modules above; importing them here, in the
# package, makes the registries complete whichever course module is imported first (and keeps
# exercises/quiz free of an import cycle with the lessons that use them).
from . import lessons  # noqa: E402,F401


def begin(notebook: str, *, student: str | None = None, root=None, show: bool = True) -> None:
    """A notebook's first call: name its records (and the student), start its clock, say if it runs in smoke mode."""
    records.set_defaults(notebook=notebook, student=student, root=root)
    start_clock()
    if show:
        note = smoke_note()
        print(f"{notebook} · student {records.student_id(student)} · records in {records.student_dir(student, root)}"
              + (f"\n{note}" if note else ""))


__all__ = ["Feedback", "MultipleChoice", "Numeric", "Prediction", "Quiz", "answer_or", "begin", "check", "elapsed", "get_quiz",
           "is_smoke", "reference", "seconds_elapsed", "size", "smoke_note", "start_clock", "summarize_predictions"]
