"""Exercises with checks that teach: what is wrong, and a hint, never a bare False.

A notebook cell leaves the student a placeholder (``...``) and calls::

    check("02.freeze_backbone", model)                 # the answer, plus the notebook's own results
    check("03.crossover", my_budget, results)          # results: what the notebook already measured

The check receives the answer *and* the notebook's results, so it can compare against the student's
own run without training anything again. It returns a :class:`Feedback` that names what is wrong
("stage1's BatchNorm weight and bias are still trainable") and gives a hint. A blank answer (``...`` or
``None``) prints "not answered yet" and the hint and returns a failed Feedback *without raising*, so a
student notebook runs to its end; a later cell that needs the value uses :func:`answer_or`.

Exercises are registered by id (``"NN.name"``, NN the notebook) in :mod:`workbench.course.lessons`, each
with a cheap ``fixture`` (results built without training), its ``blank`` placeholder and its
``solution``, so ``tests/test_exercises.py`` runs every check on both: the blank must fail with its hint,
the solution must pass. Each check's result and the number of attempts are recorded next to the
student's predictions (``runs/predictions/<student>/<notebook>__exercises.json``).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..errors import WorkbenchError
from . import records

BLANKS = (None, Ellipsis)


def is_blank(answer) -> bool:
    """``...`` (the student placeholder) or ``None``: not answered yet."""
    return answer is None or answer is Ellipsis


@dataclass(frozen=True)
class Feedback:
    """The result of one check: passed or not, what is wrong (or right), and a hint."""

    passed: bool
    message: str
    hint: str = ""
    answered: bool = True
    exercise: str = ""
    _printed: list = field(default_factory=list, repr=False, compare=False, init=False)

    def __bool__(self) -> bool:
        return self.passed

    def text(self) -> str:
        mark = "✓" if self.passed else ("·" if not self.answered else "✗")
        head = f"{mark} {self.exercise}: {self.message}" if self.exercise else f"{mark} {self.message}"
        return head + (f"\n  hint: {self.hint}" if self.hint and not self.passed else "")

    __str__ = text

    def _ipython_display_(self):
        # check() has already printed this feedback; showing it again as the cell's value would repeat it
        if not self._printed:
            print(self.text())


def passed(message: str = "correct") -> Feedback:
    """What a check returns for a right answer (say what it got right: it is feedback too)."""
    return Feedback(True, message)


def failed(message: str, hint: str | None = None) -> Feedback:
    """What a check returns for a wrong answer: ``message`` names the mistake; ``hint`` defaults to the exercise's."""
    return Feedback(False, message, hint or "")


@dataclass(frozen=True)
class Exercise:
    """One exercise: its check and what tests need to run the check without a notebook.

    ``check(answer, results) -> Feedback``; ``fixture() -> results`` (cheap, no training);
    ``blank(results)`` is what the student's cell holds before they answer (default ``...``);
    ``solution(results)`` is a right answer (tests only; the notebook's own solution lives in its source).
    """

    id: str
    task: str
    hint: str
    check: Callable
    fixture: Callable
    solution: Callable
    blank: Callable = lambda results: ...

    def evaluate(self, answer, results=None) -> Feedback:
        """The feedback for ``answer``, never raising for anything the student wrote."""
        if is_blank(answer):
            return Feedback(False, "not answered yet: replace the ... with your answer", self.hint, answered=False, exercise=self.id)
        try:
            feedback = self.check(answer, results)
        except WorkbenchError as err:
            feedback = failed(str(err))
        except Exception as err:  # noqa: BLE001 - the student's answer broke the check: say how, do not crash the notebook
            feedback = failed(f"checking your answer raised {type(err).__name__}: {err}")
        if isinstance(feedback, str):
            feedback = failed(feedback)
        if not isinstance(feedback, Feedback):
            raise TypeError(f"the check of exercise {self.id!r} returned {feedback!r}; checks return passed(...) or failed(...)")
        if not feedback.passed and not feedback.hint:
            feedback = replace(feedback, hint=self.hint)
        return replace(feedback, exercise=self.id)


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    if not isinstance(exercise.id, str) or "." not in exercise.id:
        raise WorkbenchError(f"exercise ids are 'NN.name' (NN = the notebook), got {exercise.id!r}")
    if exercise.id in _REGISTRY and _REGISTRY[exercise.id] is not exercise:
        raise WorkbenchError(f"exercise {exercise.id!r} is registered twice; give one of them another id")
    _REGISTRY[exercise.id] = exercise
    return exercise


def exercise(id: str, *, task: str, hint: str, fixture: Callable, solution: Callable, blank: Callable | None = None):
    """Decorator form of :func:`register` for a check function."""
    def wrap(check: Callable) -> Callable:
        kw = {"blank": blank} if blank is not None else {}
        register(Exercise(id=id, task=task, hint=hint, check=check, fixture=fixture, solution=solution, **kw))
        return check
    return wrap


def all_exercises() -> dict[str, Exercise]:
    """Every registered exercise, the lessons' included, by id."""
    return dict(sorted(_REGISTRY.items()))


def get_exercise(id: str) -> Exercise:
    known = all_exercises()
    if id not in known:
        import difflib

        close = difflib.get_close_matches(id, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
        raise WorkbenchError(f"no exercise {id!r}{hint}")
    return known[id]


def check(id: str, answer, results=None, *, record: bool = True, show: bool = True, student: str | None = None, root=None) -> Feedback:
    """Check ``answer`` to exercise ``id`` against the notebook's ``results``; print and record the feedback."""
    fb = get_exercise(id).evaluate(answer, results)
    if record:
        try:
            record_result(fb, student=student, root=root)
        except OSError as err:  # a read-only folder must not stop the lesson
            warnings.warn(f"could not record the exercise result ({err})", stacklevel=2)
    if show:
        print(fb.text())
        fb._printed.append(True)
    return fb


def answer_or(answer, reference, feedback: Feedback | None = None):
    """``answer``, or ``reference`` while the answer is blank (or, given its ``feedback``, wrong).

    Later cells that need the exercise's value keep working for a student who has not answered yet.
    ``reference`` may be a function, called only when it is needed.
    """
    if is_blank(answer) or (feedback is not None and not feedback.passed):
        why = "blank" if is_blank(answer) else "not right yet"
        print(f"(your answer is {why}; the cells below use the reference value for now)")
        return reference() if callable(reference) else reference
    return answer


def reference(id: str, results=None):
    """The registered solution of exercise ``id`` for these ``results``: the value :func:`answer_or` falls back to."""
    return get_exercise(id).solution(results)


def _exercises_path(notebook: str, student: str | None, root):
    return records.student_dir(student, root) / f"{notebook}__exercises.json"


def record_result(fb: Feedback, *, student: str | None = None, root=None):
    """Add one check to the student's exercises file: latest result, attempts, when first passed."""
    notebook = records.notebook_name(fb.exercise)
    path = _exercises_path(notebook, student, root)
    data = records.read_json(path) or {}
    if data.get("type") != "exercises":
        data = {"type": "exercises", "notebook": notebook, "student": records.student_id(student), "exercises": {}}
    now = records.utc_now()
    entry = data["exercises"].get(fb.exercise, {"attempts": 0, "first_passed_at": None})
    entry["attempts"] = int(entry.get("attempts", 0)) + (1 if fb.answered else 0)
    entry["status"] = "passed" if fb.passed else ("blank" if not fb.answered else "failed")
    entry["passed"] = fb.passed
    entry["message"] = fb.message
    entry["last_at"] = now
    if fb.passed and not entry.get("first_passed_at"):
        entry["first_passed_at"] = now
    data["exercises"][fb.exercise] = entry
    return records.write_json(path, data)


def summarize_exercises(folder) -> "pd.DataFrame":  # noqa: F821 - pandas imported lazily
    """Per exercise: how many students attempted it, passed it, and their mean attempts."""
    import pandas as pd

    per: dict[str, list[dict]] = {}
    for rec in records.load_records(folder, "exercises"):
        for ex_id, entry in (rec.get("exercises") or {}).items():
            per.setdefault(ex_id, []).append({**entry, "student": rec.get("student")})
    rows = []
    for ex_id, entries in sorted(per.items()):
        tried = [e for e in entries if int(e.get("attempts", 0)) > 0]
        rows.append({"exercise": ex_id, "students": len({e["student"] for e in entries}), "attempted": len(tried),
                     "passed": sum(bool(e.get("passed")) for e in entries),
                     "mean_attempts": (sum(int(e["attempts"]) for e in tried) / len(tried)) if tried else None})
    return pd.DataFrame(rows, columns=["exercise", "students", "attempted", "passed", "mean_attempts"])
