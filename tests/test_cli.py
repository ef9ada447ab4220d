"""The command line: real subprocesses, one-line errors on stderr, exit codes, files written."""
import os
import subprocess
import sys

import pandas as pd
import pytest


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600)


@pytest.mark.parametrize("args,message", [
    (["compare", "vision", "--recipes", "scratch,nope"], "unknown recipe 'nope'; choose one of: scratch, probe"),
    (["compare", "vision", "--budgets", "5"], "budget 5 is smaller than the 10 classes"),
    (["compare", "vision", "--budgets", "100000"], "larger than the pool of 4000"),
    (["compare", "vision", "--budgets", "ten"], "expected whole numbers separated by commas"),
    (["compare", "vision", "--budgets", "-10"], "expected positive whole numbers"),
    (["compare", "vision", "--seeds", "0"], "--seeds takes a positive count"),
    (["compare", "vision", "--target", "imagenet"], "unknown dataset 'imagenet'; choose one of: mnist5k, sklearn-digits"),
    (["compare", "vision", "--target", "folder:/no/such/dir"], "does not exist"),
    (["compare", "vision", "--device", "cuda"] if not __import__("torch").cuda.is_available() else ["compare", "vision", "--device", "tpu"], "device"),
    (["compare", "vision", "--pretrained", "/no/such/ckpt", "--budgets", "10"], "no checkpoint at /no/such/ckpt"),
    (["compare", "vision", "--out", "/proc/forbidden"], "cannot create output folder"),
    (["pretrain", "vision", "--steps", "0"], "expected a positive whole number"),
    (["pretrain", "vision", "--classes", "26"], "invalid choice"),
])
def test_bad_input_gets_one_clear_line_and_a_nonzero_exit(args, message, capsys):
    from workbench.cli.main import main

    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()[-1]) < 300


def test_a_real_process_exits_2_with_one_line_on_stderr():
    res = run("compare", "vision", "--recipes", "scratch,nope")
    assert res.returncode == 2
    assert res.stderr.strip() == "workbench: error: unknown recipe 'nope'; choose one of: scratch, probe, finetune, partial, discriminative, gradual"


def test_recipes_lists_each_book_and_the_baselines_apart(capsys):
    from workbench.cli.main import main

    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    sections, current = {}, None
    for line in out.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
        elif line.strip():
            sections[current].append(line.split()[0])
    assert list(sections) == ["vision", "text", "baselines (no training)"]
    vision, text = set(sections["vision"]), set(sections["text"])
    assert vision == {"scratch", "probe", "finetune", "partial", "discriminative", "gradual"}
    assert {"likelihood", "scratch_lm", "finetune_last", "random_probe"} <= text - vision  # text-only recipes
    assert not vision - text  # every vision name has a text counterpart, so the difference is what matters
    assert sections["baselines (no training)"] == ["tfidf", "bow", "zeroshot"]
    assert not {"tfidf", "bow", "zeroshot"} & (vision | text)


def test_compare_writes_tidy_results_plots_and_summary(tmp_path, quick_pretrained):
    out = tmp_path / "cmp"
    res = run("compare", "vision", "--budgets", "10,20", "--seeds", "2", "--recipes", "scratch,probe", "--steps", "15",
              "--pretrained", quick_pretrained.path, "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(out / "results.csv")
    assert {"recipe", "budget", "seed", "metric", "score", "seconds"} <= set(df.columns)
    assert len(df) == 8 and set(df.metric) == {"accuracy"} and df.score.between(0, 1).all()
    assert (out / "score_vs_budget.png").stat().st_size > 10_000 and (out / "paired_gain.png").exists()
    assert "Paired gain over scratch" in (out / "summary.md").read_text()
    import json

    recipes = json.loads((out / "recipes.json").read_text())
    assert set(recipes) == {"scratch", "probe"} and {r["steps"] for r in recipes.values()} == {15}
    assert "wins" in res.stdout
