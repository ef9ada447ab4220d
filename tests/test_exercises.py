"""Every registered exercise and quiz, run on its own data: blanks fail with a hint, solutions pass.

The lessons (workbench/course/lessons/nbNN.py) register exercises with a cheap fixture (no training),
their blank placeholder and a solution; a new exercise is covered here without editing this file.
"""
from __future__ import annotations

import pytest

from workbench.course.exercises import all_exercises
from workbench.course.quiz import MultipleChoice, Numeric, all_quizzes

EXERCISES = all_exercises()
QUIZZES = all_quizzes()


def test_the_lessons_register_exercises_and_quizzes():
    assert len(EXERCISES) >= 4 and len(QUIZZES) >= 1
    for ex_id, ex in EXERCISES.items():
        notebook, _, name = ex_id.partition(".")
        assert notebook.isdigit() and name, ex_id
        assert ex.task.strip() and ex.hint.strip(), ex_id


@pytest.mark.parametrize("ex_id", sorted(EXERCISES))
def test_blank_placeholder_fails_with_its_hint(ex_id):
    ex = EXERCISES[ex_id]
    results = ex.fixture()
    fb = ex.evaluate(ex.blank(results), results)
    assert not fb.passed
    assert fb.hint, f"{ex_id}: a failed check must give a hint"
    assert fb.message and fb.exercise == ex_id


@pytest.mark.parametrize("ex_id", sorted(EXERCISES))
def test_solution_passes(ex_id):
    ex = EXERCISES[ex_id]
    results = ex.fixture()
    fb = ex.evaluate(ex.solution(results), results)
    assert fb.passed, fb.text()
    assert fb.message and fb.message != "correct", f"{ex_id}: say what the answer got right"


@pytest.mark.parametrize("ex_id", sorted(EXERCISES))
def test_a_wrong_type_of_answer_is_feedback_not_a_crash(ex_id):
    ex = EXERCISES[ex_id]
    results = ex.fixture()
    for junk in (object(), [1, 2], "not an answer"):
        fb = ex.evaluate(junk, results)
        assert not fb.passed and fb.message and fb.hint


@pytest.mark.parametrize("name", sorted(QUIZZES))
def test_quiz_questions_are_well_formed_and_grade(name):
    quiz = QUIZZES[name]
    for q in quiz.questions:
        if isinstance(q, MultipleChoice):
            assert q.answer in q.choices
            assert all(why.strip() for why in q.choices.values()), f"{q.id}: every choice needs feedback"
            for choice, why in q.choices.items():
                fb = q.grade(choice)
                assert fb.passed == (choice == q.answer)
                assert why in fb.message
        else:
            assert isinstance(q, Numeric)
            assert q.grade(q.answer).passed
            assert q.grade(str(q.answer)).passed
            below, above = q.grade(q.answer - 2 * q.tolerance - 1), q.grade(q.answer + 2 * q.tolerance + 1)
            assert not below.passed and q.low in below.message
            assert not above.passed and q.high in above.message
        assert not q.grade(...).passed and not q.grade(...).answered
