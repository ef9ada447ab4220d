"""The text commands fail early, with one line that says what to do."""
import os
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, env=dict(os.environ), timeout=300)


def test_compare_text_rejects_unknown_recipe_before_training(tmp_path):
    res = run("compare", "text", "--task", "genre", "--recipes", "scratch,nope", "--out", str(tmp_path))
    assert res.returncode == 2 and "unknown recipe 'nope'" in res.stderr and "likelihood" in res.stderr


def test_compare_text_rejects_a_budget_the_pool_cannot_give(tmp_path):
    res = run("compare", "text", "--task", "shuffled", "--budgets", "100000", "--recipes", "bow", "--out", str(tmp_path))
    assert res.returncode == 2 and "budget 100000" in res.stderr


def test_pretrain_text_flags_are_exclusive():
    res = run("pretrain", "text", "--budget-seconds", "5", "--steps", "3")
    assert res.returncode == 2 and "not allowed with argument" in res.stderr
