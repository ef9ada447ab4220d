"""The course mechanism: smoke sizes, the clock, predictions, exercise feedback, the quiz, the builder, timings.

Everything here is cheap (no training): records go to a temporary folder, models are tiny.
"""
from __future__ import annotations

import json
import re

import pytest

from workbench.course import answer_or, begin, check, elapsed, get_quiz, is_smoke, records, seconds_elapsed, size
from workbench.course.exercises import summarize_exercises
from workbench.course.predictions import Prediction, summarize_predictions
from workbench.course.quiz import MultipleChoice, Numeric, Quiz, summarize_quizzes
from workbench.errors import WorkbenchError


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A student 'alice' whose records go under tmp_path/runs; the module defaults reset afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("WORKBENCH_STUDENT", "alice")
    records.set_defaults()
    yield tmp_path / "runs" / "predictions"
    records.set_defaults()


# ---- smoke switch and clock -------------------------------------------------------------------------
@pytest.mark.parametrize("value, smoke", [(None, False), ("", False), ("0", False), ("false", False), ("1", True), ("yes", True)])
def test_smoke_switch(monkeypatch, value, smoke):
    if value is None:
        monkeypatch.delenv("WORKBENCH_SMOKE", raising=False)
    else:
        monkeypatch.setenv("WORKBENCH_SMOKE", value)
    assert is_smoke() is smoke
    assert size(10, smoke=2) == (2 if smoke else 10)
    assert size([10, 20, 50], smoke=[10]) == ([10] if smoke else [10, 20, 50])


def test_elapsed_prints_the_notebooks_time(course, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SMOKE", "1")
    begin("01_demo")
    out = capsys.readouterr().out
    assert "01_demo" in out and "alice" in out and "smoke mode" in out
    assert 0 <= seconds_elapsed() < 60
    assert elapsed() is None  # prints, so a notebook's last cell shows one line
    assert re.search(r"this notebook ran for [\d.]+ s \(smoke mode", capsys.readouterr().out)


def test_format_seconds():
    from workbench.course.timer import format_seconds

    assert format_seconds(3.21) == "3.2 s"
    assert format_seconds(42) == "42 s"
    assert format_seconds(185) == "3 min 05 s"
    assert format_seconds(3720) == "1 h 02 min"


# ---- records ----------------------------------------------------------------------------------------
def test_student_name_explicit_then_env_then_os_user(course, monkeypatch):
    assert records.student_id("Bob Smith") == "Bob_Smith"
    assert records.student_id() == "alice"
    monkeypatch.delenv("WORKBENCH_STUDENT")
    monkeypatch.setattr(records.getpass, "getuser", lambda: "osuser")
    assert records.student_id() == "osuser"
    assert records.safe_name("../../etc/passwd") == "etc_passwd"  # never a path
    with pytest.raises(WorkbenchError, match="no usable characters"):
        records.safe_name("../")


# ---- predictions ------------------------------------------------------------------------------------
GAINS = [14.2 + d for d in (-3, -2, -1, 0, 0, 0, 0, 1, 2, 3)]  # mean 14.2, all above zero


def test_prediction_save_reveal_and_lock(course, capsys):
    begin("03_pretrained_vs_scratch", show=False)
    p = Prediction("03.gain_n10", "How many points will pretraining add at N=10?", unit="points", value=5)
    path = p.save()
    assert path == course / "alice" / "03_pretrained_vs_scratch__03.gain_n10.json"
    saved = json.loads(path.read_text())
    assert saved["value"] == 5.0 and saved["student"] == "alice" and saved["saved_at"].endswith("+00:00")
    assert saved["revealed_at"] is None

    summary = p.reveal(GAINS)
    out = capsys.readouterr().out
    assert "you predicted +5.0 points; this run measured +14.2 ± 1.8 points over 10 seeds, 10/10 seeds better." in out
    assert "Right direction; the mean is 9.2 points above your prediction, outside the seeds' range (+11.2 to +17.2)" in out
    assert summary["n"] == 10 and summary["above"] == 10 and summary["sentence"] in out
    assert p.locked

    with pytest.raises(WorkbenchError, match="is locked: it was revealed at"):
        p.value = 20
    assert p.save() is None
    assert "not saved" in capsys.readouterr().out
    rec = json.loads(path.read_text())
    assert rec["value"] == 5.0 and rec["revealed_at"] and rec["measurement"]["values"] == GAINS

    # a re-run of the notebook finds it locked: a new value is refused with a message, not used
    again = Prediction("03.gain_n10", "How many points will pretraining add at N=10?", unit="points", value=30)
    assert again.locked and again.value == 5.0
    assert "is not used" in capsys.readouterr().out


def test_prediction_direction_and_no_prediction(course, capsys):
    drop = Prediction("05.forgetting", "How many points does GLYPH accuracy drop?", unit="points", words=("a drop", "a rise"))
    drop.value = "+3"
    drop.reveal({0: -2.0, 1: -1.0, 2: 0.5})
    out = capsys.readouterr().out
    assert "this run measured -0.8 ± 1.3 points over 3 seeds, 1/3 seeds a drop, 2 a rise" in out
    assert "Wrong direction: the mean is a rise" in out

    silent = Prediction("05.none", "anything?", unit="%")
    silent.reveal(7.0)
    assert "you made no prediction; this run measured +7.0% on 1 seed." in capsys.readouterr().out
    assert silent.locked


def test_prediction_choice(course, capsys):
    p = Prediction("02.winner", "Which recipe wins at N=20?", choices=["probe", "finetune", "scratch"], value="probe")
    with pytest.raises(WorkbenchError, match="choose one of"):
        p.value = "lasso"
    p.reveal(["finetune"] * 7 + ["probe"] * 3)
    out = capsys.readouterr().out
    assert "you predicted 'probe'; this run measured 'finetune' on 7/10 seeds ('probe' 3/10). Your choice came out on 3 of 10 seeds." in out


def test_prediction_rejects_non_numbers(course):
    p = Prediction("01.x", "a number?")
    with pytest.raises(WorkbenchError, match="is a number"):
        p.value = "lots"
    assert p.save() is None  # nothing to save yet, said, not raised


def test_prediction_widget_reaches_python(course):
    p = Prediction("03.w", "points?", unit="points")
    box = p.widget()
    assert box is p.widget()
    p._input.value = "12.5"
    assert p.value == 12.5
    p._input.value = "many"
    assert "is a number" in p._status.value and p.value == 12.5
    p._button.click()
    assert json.loads(p.path.read_text())["value"] == 12.5
    p.reveal([10, 11])
    assert p._input.disabled and p._button.disabled and "locked" in p._status.value


def test_summarize_predictions_for_the_instructor(course, tmp_path, capsys):
    for student, guess, measured in (("ann", 5, [10, 12]), ("ben", 15, [11, 13]), ("cat", -2, [9, 11])):
        p = Prediction("03.gain", "points at N=10?", unit="points", value=guess, student=student, notebook="03_sweep")
        p.save()
        p.reveal(measured)
        c = Prediction("03.best", "best recipe?", choices=["probe", "finetune"], value="probe" if guess < 10 else "finetune",
                       student=student, notebook="03_sweep")
        c.reveal(["finetune", "finetune"])
    Prediction("03.gain", "points at N=10?", unit="points", value=8, student="dan", notebook="03_sweep").save()  # not revealed yet
    (course / "junk.json").write_text("not json")
    table = summarize_predictions(course).set_index("key")
    gain, best = table.loc["03.gain"], table.loc["03.best"]
    assert gain["students"] == 4 and gain["n"] == 4 and gain["revealed"] == 3
    assert gain["mean"] == pytest.approx(6.5) and gain["min"] == -2 and gain["max"] == 15
    assert gain["measured_mean"] == pytest.approx(11.0) and gain["right"] == pytest.approx(2 / 3)
    assert best["counts"] == "probe: 2, finetune: 1" and best["measured"] == "finetune" and best["right"] == pytest.approx(1 / 3)

    from workbench.course.instructor import main

    assert main([str(course), "--csv", str(tmp_path / "class")]) == 0
    out = capsys.readouterr().out
    assert "== predictions ==" in out and "03.gain" in out
    assert (tmp_path / "class-predictions.csv").exists()
    assert main([str(tmp_path / "nowhere")]) == 2


# ---- exercises --------------------------------------------------------------------------------------
def test_blank_answer_prints_hint_and_does_not_raise(course, capsys):
    begin("04_gpt", show=False)
    fb = check("04.perplexity", ..., {"val_loss": 4.0})
    out = capsys.readouterr().out
    assert not fb and not fb.answered
    assert "not answered yet" in out and "hint: perplexity = e to the power" in out
    assert check("04.perplexity", None, {"val_loss": 4.0}).answered is False


def test_wrong_answers_say_what_is_wrong(course):
    import math

    fb = check("04.perplexity", 2 ** 4.0, {"val_loss": 4.0}, show=False)
    assert not fb and "2 ** loss" in fb.message and fb.hint
    fb = check("04.perplexity", lambda loss: math.exp(-loss), {"val_loss": 4.0}, show=False)
    assert not fb and "inverse" in fb.message
    import torch

    assert check("04.perplexity", lambda loss: torch.exp(loss), {"val_loss": 4.0}, show=False)  # a torch function works too
    assert check("04.perplexity", math.exp(4.0), {"val_loss": 4.0}, show=False)


def test_freeze_check_names_batchnorm_parameters_and_buffers(course):
    from torch import nn

    from workbench.course.lessons._fixtures import tiny_cnn

    model = tiny_cnn()
    for m in model.modules():  # a common attempt: freeze the convolutions only
        if isinstance(m, nn.Conv2d):
            m.weight.requires_grad_(False)
    fb = check("02.freeze_backbone", model, show=False)
    assert not fb and "BatchNorm" in fb.message and "buffers" in fb.hint

    for p in model.parameters():
        p.requires_grad_(False)
    fb = check("02.freeze_backbone", model, show=False)
    assert not fb and "nothing is trainable" in fb.message

    for p in model.head.parameters():
        p.requires_grad_(True)
    assert check("02.freeze_backbone", model, show=False)

    n_with_buffers = sum(t.numel() for t in model.state_dict().values())
    fb = check("02.count_trainable", n_with_buffers, model, show=False)
    assert not fb and "buffers, not parameters" in fb.hint
    fb = check("02.count_trainable", 2, model, show=False)
    assert not fb and "tensors" in fb.message


def test_release_all_explains_a_plan_that_releases_too_late(course):
    from workbench.train.recipe import get_recipe

    results = {"groups": ["stage1", "stage2", "stage3", "stage4", "head"], "steps": 120}
    fb = check("02.release_all", get_recipe("gradual", steps=120, unfreeze_over=0.9), results, show=False)
    assert not fb and "stage1 is released at step 108" in fb.message and "only 12 of 120" in fb.message
    fb = check("02.release_all", get_recipe("gradual", steps=120, unfreeze_over=None), results, show=False)
    assert not fb and "stay frozen to the end" in fb.message
    fb = check("02.release_all", get_recipe("gradual", steps=200, unfreeze_over=0.3), results, show=False)
    assert not fb and "fixes it at 120" in fb.message
    assert check("02.release_all", get_recipe("gradual", steps=120, unfreeze_over=0.5), results, show=False)


def test_crossover_check_uses_the_notebooks_results(course):
    from workbench.course.lessons._fixtures import sweep_results

    results = sweep_results()
    assert "still ahead" in check("03.crossover", 50, results, show=False).message
    assert "already was at a smaller budget" in check("03.crossover", 200, results, show=False).message
    assert "not a budget of this sweep" in check("03.crossover", 75, results, show=False).message
    assert check("03.crossover", "100", results, show=False)
    no_cross = results[results.budget < 100]
    assert check("03.crossover", "none", no_cross, show=False)


def test_exercise_results_are_recorded_with_attempts(course):
    begin("04_gpt", show=False)
    check("04.perplexity", ..., {"val_loss": 1.0}, show=False)
    check("04.perplexity", 2.0, {"val_loss": 1.0}, show=False)
    check("04.perplexity", 2.718281828, {"val_loss": 1.0}, show=False)
    data = json.loads((course / "alice" / "04_gpt__exercises.json").read_text())
    entry = data["exercises"]["04.perplexity"]
    assert entry["attempts"] == 2 and entry["passed"] and entry["status"] == "passed" and entry["first_passed_at"]
    table = summarize_exercises(course)
    assert table.set_index("exercise").loc["04.perplexity", "passed"] == 1


def test_answer_or_and_unknown_ids(course, capsys):
    assert answer_or(..., 3.0) == 3.0
    assert "reference value" in capsys.readouterr().out
    assert answer_or(7, lambda: 3.0) == 7
    fb = check("04.perplexity", 1.0, {"val_loss": 1.0}, show=False)
    assert answer_or(1.0, 2.718, feedback=fb) == 2.718
    with pytest.raises(WorkbenchError, match="did you mean '04.perplexity'"):
        check("04.perplexty", 1.0)


# ---- quiz -------------------------------------------------------------------------------------------
def _quiz():
    return Quiz.from_dicts("99.demo", [
        {"id": "mc", "text": "Which is frozen in a probe?", "choices": {"the backbone": "Right: only the head trains.",
                                                                       "the head": "The head is what a probe trains."},
         "answer": "the backbone"},
        {"id": "num", "text": "exp(0)?", "answer": 1.0, "tolerance": 0.01, "low": "exp is never below 1 at 0.", "high": "e ** 0 is 1."},
    ])


def test_quiz_data_is_validated():
    with pytest.raises(WorkbenchError, match="not among its choices"):
        MultipleChoice("q", "?", {"a": "because", "b": "because"}, answer="c")
    with pytest.raises(WorkbenchError, match="have no feedback"):
        MultipleChoice("q", "?", {"a": "because", "b": " "}, answer="a")
    with pytest.raises(WorkbenchError, match="too low and too high"):
        Numeric("q", "?", answer=1, tolerance=0, low="", high="x")
    with pytest.raises(WorkbenchError, match="repeats question ids"):
        Quiz("dup", [Numeric("q", "?", 1, 0, "l", "h"), Numeric("q", "?", 1, 0, "l", "h")])
    with pytest.raises(WorkbenchError, match="no question 'zz'"):
        _quiz().answer("zz", 1)


def test_quiz_answers_reach_python_and_are_saved(course):
    quiz = _quiz()
    fb = quiz.answer("mc", "the head")
    assert not fb and "The head is what a probe trains." in fb.message
    assert quiz.answer("num", "1.005") and not quiz.answer("num", 3)
    assert quiz.score() == (0, 2)
    quiz.answer("mc", "the backbone")
    assert quiz.score() == (1, 2)
    saved = json.loads((course / "alice" / "notebook__quiz-99.demo.json").read_text())
    assert saved["right"] == 1 and saved["answers"]["mc"]["attempts"] == 2
    table = summarize_quizzes(course).set_index("question")
    assert table.loc["num", "common_wrong"] == "3"


def test_quiz_widget_buttons_grade(course):
    quiz = get_quiz("03.review")
    quiz.widget()
    box, button, out = quiz.controls["03.review.per_class"]
    box.value = "50"
    button.click()
    assert "Too high" in out.value
    box.value = "5"
    button.click()
    assert "Right" in out.value
    assert quiz.answers["03.review.per_class"]["correct"] is True
    assert get_quiz("03.review").answers == {}  # each get_quiz is a fresh copy


# ---- builder: student and solution notebooks from py:percent sources -------------------------------
SAMPLE = '''# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 99 · A sample lesson
# Why does a probe train fast?
#
# <!-- BEGIN SOLUTION -->
# Only the head's parameters get gradients.
# <!-- END SOLUTION -->

# %%
import math
loss = 2.0
perplexity = math.exp(loss)  # SOLUTION
print(perplexity)

# %%
def freeze(model):
    # BEGIN SOLUTION
    for p in model.parameters():
        p.requires_grad_(False)
    # END SOLUTION
    return model
'''


def _write_sample(tmp_path, text=SAMPLE):
    src = tmp_path / "notebooks" / "src"
    src.mkdir(parents=True)
    (src / "99_sample.py").write_text(text)
    return src


def test_builder_blanks_solutions_for_students_and_keeps_them_in_solutions(tmp_path):
    import nbformat

    from workbench.course.build import build

    src = _write_sample(tmp_path)
    student, solution = tmp_path / "notebooks", tmp_path / "solutions"
    written = build(src, student, solution, quiet=True)
    assert sorted(written) == sorted([str(student / "99_sample.ipynb"), str(solution / "99_sample.ipynb")])

    stu = nbformat.read(student / "99_sample.ipynb", as_version=4)
    sol = nbformat.read(solution / "99_sample.ipynb", as_version=4)
    nbformat.validate(stu)
    assert [c.cell_type for c in stu.cells] == ["markdown", "code", "code"]
    assert stu.cells[1].source == "import math\nloss = 2.0\nperplexity = ...\nprint(perplexity)"
    assert stu.cells[2].source == "def freeze(model):\n    ...\n    return model"
    assert "_Type your answer here" in stu.cells[0].source and "Only the head" not in stu.cells[0].source
    assert sol.cells[1].source == "import math\nloss = 2.0\nperplexity = math.exp(loss)\nprint(perplexity)"
    assert "for p in model.parameters():" in sol.cells[2].source and "SOLUTION" not in sol.cells[2].source
    assert "Only the head" in sol.cells[0].source and "BEGIN" not in sol.cells[0].source
    for nb in (stu, sol):  # output-free, no jupytext pairing metadata
        assert all(c.get("outputs", []) == [] and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
        assert "jupytext" not in nb.metadata and nb.metadata["kernelspec"]["name"] == "python3"

    # the student version runs: its blanks are valid Python
    ns = {}
    exec(stu.cells[1].source.replace("print(perplexity)", ""), ns)
    assert ns["perplexity"] is Ellipsis

    assert build(src, student, solution, quiet=True) == []  # reproducible: a rebuild changes nothing


def test_builder_check_detects_drift(tmp_path, capsys):
    from workbench.course.build import main

    src = _write_sample(tmp_path)
    args = ["--src", str(src), "--student", str(tmp_path / "notebooks"), "--solution", str(tmp_path / "solutions")]
    assert main(args + ["--check"]) == 1  # nothing built yet
    assert "is missing" in capsys.readouterr().out
    assert main(args) == 0
    assert main(args + ["--check"]) == 0
    (src / "99_sample.py").write_text(SAMPLE.replace("loss = 2.0", "loss = 3.0"))
    assert main(args + ["--check"]) == 1
    out = capsys.readouterr().out
    assert "differs from what its source builds" in out and "python -m workbench.course.build" in out


@pytest.mark.parametrize("line, student", [
    ("x = 3  # SOLUTION", "x = ..."),
    ("    a, b = f(1)  # SOLUTION", "    a, b = ..."),
    ("model.head.weight: int = 3 # SOLUTION", "model.head.weight: int = ..."),
    ("    p.requires_grad_(False)  ### SOLUTION", "    ..."),
    ("print('no marker')  # not a solution", "print('no marker')  # not a solution"),
])
def test_single_line_solution_marker(line, student):
    from workbench.course.build import split_code

    assert split_code(line)[0] == student


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION\nx = 1", "has no END SOLUTION"),
    ("x = 1\n# END SOLUTION", "END SOLUTION without a BEGIN"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside the BEGIN SOLUTION of line 1"),
])
def test_unbalanced_markers_name_the_line(tmp_path, source, message):
    from workbench.course.build import build

    src = _write_sample(tmp_path, SAMPLE + "\n# %%\n" + source + "\n")
    with pytest.raises(WorkbenchError, match=message) as err:
        build(src, tmp_path / "s", tmp_path / "t", quiet=True)
    assert "99_sample.py, cell 4" in str(err.value)


def test_nbgrader_style_markers_are_read():
    from workbench.course.build import split_code

    student, solution = split_code("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    assert student == "def f():\n    ..." and solution == "def f():\n    return 1"


# ---- prewarm and timings ----------------------------------------------------------------------------
def test_prewarm_reports_built_then_cached(tmp_path, monkeypatch):
    from workbench.course.prewarm import prewarm

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))

    def fake_model(progress):
        from workbench.paths import cache_dir

        path = cache_dir() / "models" / "fake"
        if not path.exists():
            path.mkdir(parents=True)
            (path / "model.safetensors").write_bytes(b"x")
        return str(path)

    steps = [("fake model", "a test", fake_model), ("optional", "a test", lambda progress: "not installed (optional)")]
    lines = []
    first = prewarm(progress=False, steps=steps, print_fn=lines.append)
    assert [r["status"] for r in first] == ["built", "not installed (optional)"]
    assert first[0]["where"].endswith("fake") and first[0]["seconds"] >= 0
    second = prewarm(progress=False, steps=steps, print_fn=lines.append)
    assert second[0]["status"] == "cached"
    assert any("cached in" in line for line in lines)


def test_prewarm_builds_the_notebooks_default_models(monkeypatch):
    """The model steps call pretrained_cnn() and pretrained_lm() with their defaults: what the notebooks load."""
    from types import SimpleNamespace

    import workbench.pretrain.vision as vision
    import workbench.pretrain.text as text
    from workbench.course.prewarm import STEPS

    calls = []
    monkeypatch.setattr(vision, "pretrained_cnn", lambda **kw: calls.append(("cnn", kw)) or SimpleNamespace(path="c"))
    monkeypatch.setattr(text, "pretrained_lm", lambda **kw: calls.append(("lm", kw)) or SimpleNamespace(path="l"))
    steps = {name: step for name, _, step in STEPS}
    assert steps["pretrained CNN"](False) == "c" and steps["pretrained tiny GPT"](False) == "l"
    assert calls == [("cnn", {"progress": False}), ("lm", {"progress": False})]


def test_timings_table_merges_modes(tmp_path):
    from workbench.course.timings import read_timings, write_timings

    out = tmp_path / "docs" / "timings.md"
    write_timings([{"notebook": "01_a", "cold": 130.0, "warm": 42.0}, {"notebook": "02_b", "warm": 200.0}], out, note="a test box")
    write_timings([{"notebook": "01_a", "smoke": 12.3}], out, note="a test box")
    text = out.read_text()
    assert "| notebook | cold | warm | smoke |" in text and "a test box" in text
    table = read_timings(out)
    assert table["01_a"] == {"cold": "2 min 10 s", "warm": "42 s", "smoke": "12 s"}
    assert table["02_b"] == {"cold": "", "warm": "3 min 20 s", "smoke": ""}


def test_time_a_trivial_notebook_cold_and_smoke(tmp_path, monkeypatch):
    import nbformat

    from workbench.course.timings import time_notebooks, write_timings

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, pathlib\n"
        "pathlib.Path('seen.txt').open('a').write(os.environ.get('WORKBENCH_SMOKE', '-') + ' ' + os.environ['WORKBENCH_CACHE'] + '\\n')")]
    path = tmp_path / "00_trivial.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "warm"))
    rows = time_notebooks([path], modes=("cold", "smoke"), prewarm_first=False, timeout=120, print_fn=lambda *_: None)
    assert set(rows[0]) == {"notebook", "cold", "smoke"} and all(isinstance(rows[0][m], float) for m in ("cold", "smoke"))
    cold, smoke = (tmp_path / "seen.txt").read_text().splitlines()  # run in the notebook's folder, with the mode's env
    assert cold.startswith("- ") and "wb-cold-cache-" in cold
    assert smoke == f"1 {tmp_path / 'warm'}"
    write_timings(rows, tmp_path / "timings.md")
    assert "| 00_trivial |" in (tmp_path / "timings.md").read_text()


LESSON = '''# %%
import math
from workbench.course import begin, Prediction, check, answer_or, get_quiz, size, elapsed
begin("98_lesson")
seeds = size(10, smoke=3)

# %%
gain = Prediction("98.gain", "How many points?", unit="points")
gain.value = 5  # SOLUTION
gain

# %%
gain.reveal([10.0 + s for s in range(seeds)])

# %%
ppl = math.exp(2.0)  # SOLUTION
fb = check("04.perplexity", ppl, {"val_loss": 2.0})
ppl = answer_or(ppl, lambda: math.exp(2.0), feedback=fb)
assert abs(ppl - 7.389) < 1e-2

# %%
get_quiz("04.review")

# %%
elapsed()
'''


def test_a_built_lesson_runs_to_the_end_blank_and_solved(tmp_path, monkeypatch):
    """The student version (every answer blank) and the solution version both run top to bottom in a kernel."""
    from workbench.course.build import build
    from workbench.course.timings import run_notebook

    src = _write_sample(tmp_path, LESSON)
    build(src, tmp_path / "notebooks", tmp_path / "solutions", quiet=True)
    runs = tmp_path / "runs"
    for version, student in (("notebooks", "stu"), ("solutions", "sol")):
        run_notebook(tmp_path / version / "99_sample.ipynb", timeout=120,
                     env={"WORKBENCH_RUNS": str(runs), "WORKBENCH_STUDENT": student, "WORKBENCH_SMOKE": "1"})
    blank = json.loads((runs / "predictions" / "stu" / "98_lesson__exercises.json").read_text())
    solved = json.loads((runs / "predictions" / "sol" / "98_lesson__exercises.json").read_text())
    assert blank["exercises"]["04.perplexity"]["status"] == "blank"
    assert solved["exercises"]["04.perplexity"]["status"] == "passed"
    table = summarize_predictions(runs / "predictions").iloc[0]
    assert table["students"] == 2 and table["n"] == 1 and table["revealed"] == 2 and table["measured_mean"] == 11.0
