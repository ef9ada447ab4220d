"""An end-of-notebook questionnaire whose answers reach Python.

jupyterquiz (the usual choice) renders its questions in HTML and JavaScript: an answer lives in the
browser page only, so it cannot be saved with the predictions, checked by a test, or seen by the kernel.
This module keeps the same two kinds of question, small:

* :class:`MultipleChoice`: every choice carries its own explanation, shown when it is picked, so a
  wrong choice is explained rather than just marked wrong;
* :class:`Numeric`: a number with an absolute tolerance, with feedback for too low and too high.

Questions are plain data (dataclasses, or dicts through :meth:`Quiz.from_dicts`) and are validated when
the quiz is built: each choice has feedback and the answer is among the choices, so a test can import
every lesson's quiz and know it is well formed. :meth:`Quiz.answer` grades from Python (what the widget's
Check button calls, and what tests call); answers are recorded beside the student's predictions.
"""
from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import WorkbenchError
from . import records
from .exercises import Feedback, is_blank


@dataclass(frozen=True)
class MultipleChoice:
    """One right ``answer`` among ``choices``: {choice text: why it is right or wrong}."""

    id: str
    text: str
    choices: dict[str, str]
    answer: str

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        _need_text(self.id, self.text)
        if len(self.choices) < 2:
            raise WorkbenchError(f"question {self.id!r} needs at least two choices, got {list(self.choices)}")
        missing = [c for c, why in self.choices.items() if not str(why).strip()]
        if missing:
            raise WorkbenchError(f"question {self.id!r}: choices {missing} have no feedback; say why each is right or wrong")
        if self.answer not in self.choices:
            raise WorkbenchError(f"question {self.id!r}: the answer {self.answer!r} is not among its choices {list(self.choices)}")

    def grade(self, value) -> Feedback:
        if is_blank(value):
            return Feedback(False, "not answered yet", f"pick one of: {', '.join(self.choices)}", answered=False, exercise=self.id)
        value = str(value)
        if value not in self.choices:
            return Feedback(False, f"{value!r} is not one of the choices", f"pick one of: {', '.join(self.choices)}", exercise=self.id)
        right = value == self.answer
        return Feedback(right, ("Right. " if right else "Not quite. ") + self.choices[value], exercise=self.id)


@dataclass(frozen=True)
class Numeric:
    """A number within ``tolerance`` of ``answer``; ``low``/``high`` explain answers below/above it."""

    id: str
    text: str
    answer: float
    tolerance: float
    low: str
    high: str
    explain: str = ""
    unit: str = ""

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        _need_text(self.id, self.text)
        if not (isinstance(self.answer, (int, float)) and math.isfinite(self.answer)):
            raise WorkbenchError(f"question {self.id!r}: the answer must be a finite number, got {self.answer!r}")
        if not (isinstance(self.tolerance, (int, float)) and self.tolerance >= 0):
            raise WorkbenchError(f"question {self.id!r}: the tolerance must be a number >= 0, got {self.tolerance!r}")
        if not (str(self.low).strip() and str(self.high).strip()):
            raise WorkbenchError(f"question {self.id!r}: give feedback for answers too low and too high")

    def grade(self, value) -> Feedback:
        if is_blank(value) or (isinstance(value, str) and not value.strip()):
            return Feedback(False, "not answered yet", "type a number", answered=False, exercise=self.id)
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            return Feedback(False, f"{value!r} is not a number", "type a number, e.g. 12.5", exercise=self.id)
        if math.isfinite(number) and abs(number - self.answer) <= self.tolerance:
            return Feedback(True, "Right." + (f" {self.explain}" if self.explain else ""), exercise=self.id)
        return Feedback(False, "Too low. " + self.low if number < self.answer else "Too high. " + self.high, exercise=self.id)


Question = MultipleChoice | Numeric


def _need_text(qid, text) -> None:
    if not isinstance(qid, str) or not qid.strip():
        raise WorkbenchError(f"every question needs an id, got {qid!r}")
    if not str(text).strip():
        raise WorkbenchError(f"question {qid!r} has no text")


@dataclass
class Quiz:
    """A named list of questions; answers by question id, graded and recorded."""

    name: str
    questions: Sequence[Question]
    notebook: str | None = None
    answers: dict = field(default_factory=dict)

    def __post_init__(self):
        self.questions = list(self.questions)
        if not self.questions:
            raise WorkbenchError(f"quiz {self.name!r} has no questions")
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise WorkbenchError(f"quiz {self.name!r} repeats question ids {dupes}")
        for q in self.questions:
            q.validate()
        self.controls: dict = {}
        self._widget = None

    @classmethod
    def from_dicts(cls, name: str, items: Sequence[dict], notebook: str | None = None) -> Quiz:
        """Questions as dicts: with ``choices`` a multiple choice, else a numeric question."""
        questions = []
        for i, d in enumerate(items):
            d = dict(d)
            d.setdefault("id", f"q{i + 1}")
            try:
                questions.append(MultipleChoice(**d) if "choices" in d else Numeric(**d))
            except TypeError as err:
                raise WorkbenchError(f"question {d['id']!r} of quiz {name!r}: {err}") from None
        return cls(name, questions, notebook)

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise WorkbenchError(f"quiz {self.name!r} has no question {qid!r}; its questions: {', '.join(q.id for q in self.questions)}")

    def answer(self, qid: str, value, *, record: bool = True, student: str | None = None, root=None) -> Feedback:
        """Grade ``value`` for question ``qid``, remember it, and (with ``record``) save the quiz's answers."""
        fb = self.question(qid).grade(value)
        entry = self.answers.get(qid, {"attempts": 0})
        if fb.answered:
            entry = {"value": value if not hasattr(value, "item") else value.item(), "correct": fb.passed,
                     "attempts": entry["attempts"] + 1, "at": records.utc_now()}
            self.answers[qid] = entry
            if record:
                self.save(student=student, root=root)
        return fb

    def score(self) -> tuple[int, int]:
        """(right answers, questions)."""
        return sum(bool(a.get("correct")) for a in self.answers.values()), len(self.questions)

    def save(self, *, student: str | None = None, root=None):
        notebook = self.notebook or records.notebook_name()
        path = records.student_dir(student, root) / f"{notebook}__quiz-{records.safe_name(self.name, 'quiz name')}.json"
        right, total = self.score()
        return records.write_json(path, {"type": "quiz", "quiz": self.name, "notebook": notebook, "student": records.student_id(student),
                                         "answers": self.answers, "right": right, "questions": total, "saved_at": records.utc_now()})

    # ---- the widget ---------------------------------------------------------------------------------
    def widget(self):
        """One block per question: the choices (or a number box), a Check button and the feedback line."""
        if self._widget is not None:
            return self._widget
        import ipywidgets as w

        blocks = []
        total = w.HTML("")

        def refresh_total():
            right, n = self.score()
            total.value = f"<b>{right} of {n}</b> right so far"

        for i, q in enumerate(self.questions, 1):
            if isinstance(q, MultipleChoice):
                box = w.RadioButtons(options=list(q.choices), index=None, layout=w.Layout(width="auto"))
            else:
                box = w.Text(placeholder=f"a number{' (' + q.unit + ')' if q.unit else ''}", layout=w.Layout(width="14em"))
            button = w.Button(description="Check")
            out = w.HTML("")

            def on_click(_, q=q, box=box, out=out):
                fb = self.answer(q.id, box.value)
                colour = "green" if fb.passed else ("gray" if not fb.answered else "firebrick")
                out.value = f'<span style="color:{colour}">{html.escape(fb.message)}' + (
                    f" <i>{html.escape(fb.hint)}</i>" if fb.hint and not fb.passed else "") + "</span>"
                refresh_total()

            button.on_click(on_click)
            self.controls[q.id] = (box, button, out)
            blocks.append(w.VBox([w.HTML(f"<b>{i}.</b> {html.escape(q.text)}"), w.HBox([box, button]), out]))
        refresh_total()
        self._widget = w.VBox([*blocks, total])
        return self._widget

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())


_QUIZZES: dict[str, Quiz] = {}


def register_quiz(quiz: Quiz) -> Quiz:
    if quiz.name in _QUIZZES and _QUIZZES[quiz.name] is not quiz:
        raise WorkbenchError(f"quiz {quiz.name!r} is registered twice; give one of them another name")
    _QUIZZES[quiz.name] = quiz
    return quiz


def all_quizzes() -> dict[str, Quiz]:
    return dict(sorted(_QUIZZES.items()))


def get_quiz(name: str) -> Quiz:
    """A fresh copy of a lesson's quiz (no answers yet), so a re-run notebook starts clean."""
    quizzes = all_quizzes()
    if name not in quizzes:
        raise WorkbenchError(f"no quiz {name!r}; known: {', '.join(quizzes)}")
    q = quizzes[name]
    return Quiz(q.name, q.questions, q.notebook)


def summarize_quizzes(folder) -> "pd.DataFrame":  # noqa: F821 - pandas imported lazily
    """Per quiz question: how many students answered, how many got it right, the most common wrong answer."""
    from collections import Counter

    import pandas as pd

    per: dict[tuple, list] = {}
    for rec in records.load_records(folder, "quiz"):
        for qid, a in (rec.get("answers") or {}).items():
            per.setdefault((rec.get("quiz"), qid), []).append(a)
    rows = []
    for (quiz, qid), answers in sorted(per.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        wrong = Counter(str(a.get("value")) for a in answers if not a.get("correct"))
        rows.append({"quiz": quiz, "question": qid, "answered": len(answers), "right": sum(bool(a.get("correct")) for a in answers),
                     "common_wrong": wrong.most_common(1)[0][0] if wrong else None})
    return pd.DataFrame(rows, columns=["quiz", "question", "answered", "right", "common_wrong"])
