"""Predict, then run, then reveal: a student's prediction checked against their own measured run.

Before the cell that measures something, the student commits a number ("how many points will
pretraining add at one label per class?") or a choice ("which recipe wins at N=20?"). After the run,
:meth:`Prediction.reveal` prints both, the spread over seeds and how many seeds went which way::

    you predicted +5.0 points; this run measured +14.2 ± 3.1 points over 10 seeds, 10/10 seeds better.
    Right direction; the mean is 9.2 points above your prediction, outside the seeds' range (+9.8 to +19.0).

The surprise is the lesson, and the number is real because the student just produced it. The reveal
*locks* the prediction: changing it afterwards raises, saving it again is refused, and the file records
when it was revealed and what was measured. An instructor collects the files of a class and shows the
spread of predictions next to the measurement (:func:`summarize_predictions`; the command is
``python -m workbench.course.instructor FOLDER``).

The prediction is a plain value (``Prediction(..., value=5)`` or ``p.value = 5``) or typed into a small
ipywidgets box shown when the object is displayed; either way the code reads ``p.value``.
Records live in ``runs/predictions/<student>/<notebook>__<key>.json`` (see :mod:`workbench.course.records`).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ..errors import WorkbenchError, check_choice
from . import records

KINDS = ("number", "choice")


class Reveal(dict):
    """The measurement summary :meth:`Prediction.reveal` returns (a dict, with its printed ``sentence``).

    As a cell's last value it shows nothing more: the reveal has already printed its sentence.
    """

    def _ipython_display_(self):
        pass


class Prediction:
    """A number or a choice the student commits before a measurement, locked once it is revealed.

    ``unit`` names what the number counts ("points", "%", "nats"); ``signed`` prints numbers with a sign
    and judges the direction (> 0 is ``words[0]``, < 0 is ``words[1]``, e.g. "better"/"worse" for a gain,
    "a drop"/"a rise" for forgetting). Give ``choices`` for a choice instead of a number.
    """

    def __init__(self, key: str, question: str, unit: str = "", *, choices: Sequence[str] | None = None, value=None,
                 signed: bool = True, digits: int = 1, words: tuple[str, str] = ("better", "worse"),
                 notebook: str | None = None, student: str | None = None, root=None):
        if not isinstance(key, str) or not key.strip():
            raise WorkbenchError(f"a prediction needs a key such as '03.gain_at_n10', got {key!r}")
        self.key, self.question, self.unit = key, question, unit
        self.kind = "choice" if choices is not None else "number"
        self.choices = [str(c) for c in choices] if choices is not None else None
        if self.choices is not None and len(self.choices) < 2:
            raise WorkbenchError(f"prediction {key!r} needs at least two choices, got {self.choices}")
        self.signed, self.digits, self.words = signed, int(digits), tuple(words)
        self.notebook = records.notebook_name(key) if notebook is None else records.safe_name(notebook, "notebook name")
        self.student = records.student_id(student)
        self.root = root
        self.path = records.student_dir(self.student, root) / f"{self.notebook}__{records.safe_name(key, 'key')}.json"
        self._value = None
        self._saved_at = None
        self._revealed_at = None
        self._measurement = None
        self._reveals = 0
        self._widget = None
        self._input = None
        self._status = None
        stored = records.read_json(self.path)
        if stored and stored.get("type") == "prediction":
            self._value = stored.get("value")
            self._saved_at = stored.get("saved_at")
            self._revealed_at = stored.get("revealed_at")
            self._measurement = stored.get("measurement")
            self._reveals = int(stored.get("reveals", 0) or 0)
        if value is not None:
            if self.locked and self._parse(value) != self._value:
                print(f"prediction {key!r} was revealed at {self._revealed_at} and is locked at {self._show(self._value)}; "
                      f"the new value {value!r} is not used (use a new key to predict again)")
            elif not self.locked:
                self.value = value

    # ---- the value ---------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        """True once revealed: the prediction can no longer change."""
        return self._revealed_at is not None

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, new) -> None:
        if self.locked:
            raise WorkbenchError(f"prediction {self.key!r} is locked: it was revealed at {self._revealed_at} "
                                 f"(you predicted {self._show(self._value)}); use a new key to predict again")
        self._value = self._parse(new)
        if self._input is not None and self._input.value != self._widget_value():
            self._input.value = self._widget_value()

    def set(self, new):
        """Set the prediction (same as ``p.value = new``); returns the prediction for chaining."""
        self.value = new
        return self

    def _parse(self, new):
        if new is None or new is Ellipsis or (isinstance(new, str) and not new.strip()):
            return None
        if self.kind == "choice":
            check_choice(f"choice for {self.key!r}", str(new), self.choices)
            return str(new)
        try:
            number = float(str(new).strip().replace("+", "", 1)) if isinstance(new, str) else float(new)
        except (TypeError, ValueError):
            raise WorkbenchError(f"prediction {self.key!r} is a number{self._unit_sp()}, e.g. +5; got {new!r}") from None
        if not math.isfinite(number):
            raise WorkbenchError(f"prediction {self.key!r} must be a finite number, got {new!r}")
        return number

    # ---- saving -------------------------------------------------------------------------------------
    def save(self) -> Path | None:
        """Write the prediction to its JSON file; refused (with a message) once revealed or while empty."""
        if self.locked:
            self._say(f"not saved: prediction {self.key!r} was revealed at {self._revealed_at} and is locked "
                      f"at {self._show(self._value)}")
            return None
        if self._value is None:
            self._say(f"nothing to save yet: {self._how_to_answer()}")
            return None
        self._saved_at = records.utc_now()
        path = records.write_json(self.path, self.record())
        self._say(f"prediction saved: {self._show(self._value)} ({self._saved_at})")
        return path

    def record(self) -> dict:
        """What the JSON file holds."""
        return {"type": "prediction", "key": self.key, "question": self.question, "unit": self.unit, "kind": self.kind,
                "choices": self.choices, "signed": self.signed, "notebook": self.notebook, "student": self.student,
                "value": self._value, "saved_at": self._saved_at, "revealed_at": self._revealed_at,
                "measurement": self._measurement, "reveals": self._reveals}

    # ---- the reveal ---------------------------------------------------------------------------------
    def reveal(self, measured, *, seeds: Sequence | None = None, show: bool = True) -> Reveal:
        """Compare the prediction with ``measured`` (one value per seed), print it, record it and lock.

        ``measured``: a number or choice, a list/array/Series (one per seed), or a dict ``{seed: value}``.
        Returns the measurement summary, with the printed ``sentence``. Revealing again (a re-run)
        records the new measurement; the prediction itself stays what it was at the first reveal.
        """
        values, seeds = _per_seed(measured, seeds)
        if not values:
            raise WorkbenchError(f"nothing measured to reveal {self.key!r} against; pass one value per seed")
        summary = self._summarize(values)
        summary["seeds"] = seeds
        summary["sentence"] = self._sentence(summary)
        now = records.utc_now()
        self._revealed_at = self._revealed_at or now
        self._measurement = {**summary, "measured_at": now}
        self._reveals += 1
        records.write_json(self.path, self.record())
        self._lock_widget()
        if show:
            print(summary["sentence"])
        return Reveal(summary)

    def _summarize(self, values: list) -> dict:
        if self.kind == "choice":
            values = [str(v) for v in values]
            counts = Counter(values)
            mode = max(counts, key=lambda c: (counts[c], -values.index(c)))
            return {"values": values, "n": len(values), "counts": dict(counts), "mode": mode}
        try:
            numbers = [float(v) for v in values]
        except (TypeError, ValueError):
            raise WorkbenchError(f"prediction {self.key!r} is a number, so the measurement must be numbers, got {values[:3]}") from None
        n = len(numbers)
        mean = sum(numbers) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in numbers) / (n - 1)) if n > 1 else 0.0
        return {"values": numbers, "n": n, "mean": mean, "std": std, "min": min(numbers), "max": max(numbers),
                "above": sum(v > 0 for v in numbers), "below": sum(v < 0 for v in numbers)}

    def _sentence(self, s: dict) -> str:
        yours = "you made no prediction" if self._value is None else f"you predicted {self._show(self._value)}"
        n = s["n"]
        if self.kind == "choice":
            if n == 1:
                measured = f"this run measured {s['mode']!r}"
            else:
                others = ", ".join(f"{c!r} {k}/{n}" for c, k in sorted(s["counts"].items(), key=lambda x: -x[1]) if c != s["mode"])
                measured = f"this run measured {s['mode']!r} on {s['counts'][s['mode']]}/{n} seeds" + (f" ({others})" if others else "")
            text = f"{yours}; {measured}."
            if self._value is not None:
                won = s["counts"].get(self._value, 0)
                if n == 1:
                    text += " Right." if won else " Not this time."
                else:
                    text += f" Your choice came out on {won} of {n} seeds."
            return text
        mean = self._num(s["mean"])
        if n == 1:
            measured = f"this run measured {mean}{self._unit_sp()} on 1 seed"
        else:
            measured = f"this run measured {mean} ± {s['std']:.{self.digits}f}{self._unit_sp()} over {n} seeds"
            if self.signed:
                ways = f"{s['above']}/{n} seeds {self.words[0]}"
                if s["below"]:
                    ways += f", {s['below']} {self.words[1]}"
                measured += f", {ways}"
        text = f"{yours}; {measured}."
        if self._value is None:
            return text
        p = float(self._value)
        parts = []
        if self.signed:
            if p == 0:
                parts.append("You predicted no difference")
            elif (p > 0) == (s["mean"] > 0) and s["mean"] != 0:
                parts.append("Right direction")
            else:
                parts.append(f"Wrong direction: the mean is {self.words[0] if s['mean'] > 0 else self.words[1]}")
        gap = s["mean"] - p
        if round(abs(gap), self.digits) == 0:
            where = "the mean matches your prediction"
        else:
            where = f"the mean is {abs(gap):.{self.digits}f}{self._unit_sp()} {'above' if gap > 0 else 'below'} your prediction"
        if n > 1:
            inside = s["min"] <= p <= s["max"]
            where += f", {'inside' if inside else 'outside'} the seeds' range ({self._num(s['min'])} to {self._num(s['max'])})"
        parts.append(where)
        return text + " " + "; ".join(parts) + "."

    # ---- the widget ---------------------------------------------------------------------------------
    def widget(self):
        """The input box (a text box for a number, radio buttons for a choice), a Commit button and a status line."""
        if self._widget is not None:
            return self._widget
        import ipywidgets as w

        if self.kind == "choice":
            self._input = w.RadioButtons(options=self.choices, index=None if self._value is None else self.choices.index(self._value))
        else:
            self._input = w.Text(value=self._widget_value(), placeholder=f"a number{self._unit_sp()}, e.g. +5",
                                 layout=w.Layout(width="14em"))
        button = w.Button(description="Commit prediction", icon="lock")
        self._status = w.Label(value="")
        self._button = button

        def on_change(change):
            if self.locked:
                return
            try:
                self.value = change["new"]
                self._status.value = ""
            except WorkbenchError as err:
                self._status.value = str(err)

        self._input.observe(on_change, names="value")
        button.on_click(lambda _: self.save())
        self._widget = w.VBox([w.HTML(f"<b>Predict:</b> {self.question}"), w.HBox([self._input, button]), self._status])
        if self.locked:
            self._lock_widget()
        return self._widget

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())

    def _lock_widget(self) -> None:
        if self._input is None:
            return
        self._input.disabled = True
        self._button.disabled = True
        self._status.value = f"locked: revealed at {self._revealed_at} (you predicted {self._show(self._value)})"

    def _widget_value(self):
        if self.kind == "choice":
            return self._value
        return "" if self._value is None else f"{self._value:g}"

    # ---- formatting ---------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        if self._status is not None:
            self._status.value = text
        print(text)

    def _unit_sp(self) -> str:
        if not self.unit:
            return ""
        return self.unit if not self.unit[0].isalnum() else f" {self.unit}"

    def _num(self, x: float) -> str:
        return f"{x:+.{self.digits}f}" if self.signed else f"{x:.{self.digits}f}"

    def _show(self, value) -> str:
        if value is None:
            return "nothing"
        return repr(value) if self.kind == "choice" else f"{self._num(float(value))}{self._unit_sp()}"

    def _how_to_answer(self) -> str:
        if self.kind == "choice":
            return f"pick one of {self.choices} in the box, or set .value"
        return "type a number in the box, or set .value (e.g. pred.value = 5)"

    def __repr__(self) -> str:
        state = "locked" if self.locked else "open"
        return f"Prediction({self.key!r}, value={self._value!r}, {state})"


def _per_seed(measured, seeds) -> tuple[list, list | None]:
    """(values, seeds) from a scalar, a sequence, a pandas Series (index = seeds) or a {seed: value} dict."""
    if isinstance(measured, dict):
        return list(measured.values()), [_plain(k) for k in measured]
    if hasattr(measured, "index") and hasattr(measured, "tolist") and not isinstance(measured, (list, tuple)):
        values = measured.tolist()
        if seeds is None:
            idx = list(measured.index)
            seeds = None if idx == list(range(len(values))) else [_plain(k) for k in idx]
        return values, (list(seeds) if seeds is not None else None)
    if hasattr(measured, "tolist"):  # numpy array or tensor
        values = measured.tolist()
        return (values if isinstance(values, list) else [values]), (list(seeds) if seeds is not None else None)
    if isinstance(measured, (list, tuple)):
        return list(measured), (list(seeds) if seeds is not None else None)
    return [measured], (list(seeds) if seeds is not None else None)


def _plain(x):
    return x.item() if hasattr(x, "item") else x


def summarize_predictions(folder) -> "pd.DataFrame":  # noqa: F821 - pandas imported lazily
    """Per notebook and key: the class's predictions against what their runs measured.

    ``folder`` holds the students' records (``runs/predictions`` or a folder of collected student folders).
    Numbers: n, mean, std, min, max of the predictions, and ``measured_mean`` (the mean over students of
    their runs' means). Choices: ``counts`` of each choice and ``measured`` (the most common measured
    choice). ``right`` is the share of revealed predictions that had the direction (or the choice) their
    own run measured.
    """
    import pandas as pd

    rows = []
    recs = records.load_records(folder, "prediction")
    by_key: dict[tuple, list[dict]] = {}
    for r in recs:
        by_key.setdefault((r.get("notebook"), r.get("key")), []).append(r)
    for (notebook, key), group in sorted(by_key.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        first = group[0]
        kind = first.get("kind", "number")
        made = [r for r in group if r.get("value") is not None]
        revealed = [r for r in group if r.get("measurement")]
        row = {"notebook": notebook, "key": key, "question": first.get("question"), "unit": first.get("unit"), "kind": kind,
               "students": len({r.get("student") for r in group}), "n": len(made), "revealed": len(revealed)}
        if kind == "choice":
            counts = Counter(str(r["value"]) for r in made)
            row["counts"] = ", ".join(f"{c}: {k}" for c, k in counts.most_common())
            modes = Counter(r["measurement"].get("mode") for r in revealed)
            row["measured"] = modes.most_common(1)[0][0] if modes else None
            judged = [r for r in revealed if r.get("value") is not None]
            row["right"] = (sum(r["value"] == r["measurement"].get("mode") for r in judged) / len(judged)) if judged else None
        else:
            values = pd.Series([float(r["value"]) for r in made], dtype=float)
            row.update(mean=values.mean() if len(values) else None, std=values.std() if len(values) > 1 else (0.0 if len(values) else None),
                       min=values.min() if len(values) else None, max=values.max() if len(values) else None)
            means = [float(r["measurement"]["mean"]) for r in revealed if "mean" in r["measurement"]]
            row["measured_mean"] = sum(means) / len(means) if means else None
            judged = [r for r in revealed if r.get("value") is not None and "mean" in r["measurement"]]
            row["right"] = (sum((float(r["value"]) > 0) == (r["measurement"]["mean"] > 0) for r in judged) / len(judged)) if judged else None
        rows.append(row)
    columns = ["notebook", "key", "question", "unit", "kind", "students", "n", "mean", "std", "min", "max", "counts",
               "revealed", "measured_mean", "measured", "right"]
    return pd.DataFrame(rows, columns=columns)
