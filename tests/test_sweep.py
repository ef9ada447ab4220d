"""Parallel sweeps: the same table as a serial run, stops that leave no worker, crashes reported, a safe cache."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.experiments.compare import compare
from workbench.experiments.sweep import SweepFailed, default_jobs, resolve_jobs
from workbench.tasks.base import RunResult
from workbench.tasks.vision import VisionTask
from workbench.train.recipe import get_recipe

ROOT = Path(__file__).resolve().parent.parent
SCORE_COLUMNS = ["task", "recipe", "budget", "seed", "metric", "score", "steps"]  # all but wall-clock seconds


@pytest.fixture(scope="module", autouse=True)
def no_warm_workers_afterwards():
    """The pool a sweep leaves warm for the next one would idle through the rest of the suite: end it here."""
    yield
    from workbench.experiments.sweep import shutdown_workers

    shutdown_workers()


class FakeTask:
    """No training: a score made from (recipe, budget, seed); raises, exits or hangs at chosen budgets."""

    name, metric, device = "fake", "accuracy", "cpu"
    metrics, higher_is_better, budget_unit = {"accuracy": True}, True, "examples"
    pool_labels = torch.arange(100) % 10

    def check(self, recipes, budgets):
        return [get_recipe(r) for r in recipes]

    def load_pretrained(self, source=None, *, progress=True):
        return None

    def __init__(self, *, raise_at=None, exit_at=None, hang_at=None, flags=None):
        self.raise_at, self.exit_at, self.hang_at, self.flags = raise_at, exit_at, hang_at, flags

    def run(self, recipe, budget, seed, stop_event=None):
        if budget == self.raise_at:
            raise RuntimeError(f"boom at N={budget}")
        if (budget, seed) == self.exit_at:
            os._exit(3)  # the worker process dies: no exception, no result
        if budget == self.hang_at:
            Path(self.flags, str(os.getpid())).touch()
            time.sleep(600)  # ignores every stop request: only killing the worker ends it
        return RunResult(budget + seed / 10 + len(recipe.name) / 100, None, [], 0.0, 1)


def workers(pid=None) -> list[psutil.Process]:
    """Live child processes, less the resource trackers (one per parent, shared, gone when the parent exits)."""
    out = []
    for p in psutil.Process(pid).children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(p.cmdline()):
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def wait_for_flags(folder: Path, n: int, timeout: float = 60) -> list[int]:
    end = time.monotonic() + timeout
    while len(os.listdir(folder)) < n:
        assert time.monotonic() < end, "the workers never started their runs"
        time.sleep(0.05)
    return [int(f) for f in os.listdir(folder)]


def gone(pids) -> bool:
    return all(not psutil.pid_exists(p) or psutil.Process(p).status() == psutil.STATUS_ZOMBIE for p in pids)


def test_jobs_come_from_the_argument_the_environment_or_the_cores(monkeypatch):
    monkeypatch.setenv("WORKBENCH_JOBS", "3")
    assert resolve_jobs() == 3 and resolve_jobs(2) == 2
    monkeypatch.setenv("WORKBENCH_JOBS", "auto")
    assert resolve_jobs() == default_jobs() >= 1
    assert resolve_jobs("auto", device=torch.device("cuda")) == 1 and resolve_jobs(4, device="cuda") == 4
    for bad in (0, -1, "two", 1.5):
        with pytest.raises(WorkbenchError, match="jobs must be a positive whole number or 'auto'"):
            resolve_jobs(bad)


def test_a_run_does_not_depend_on_global_rng_state_left_by_earlier_runs(quick_pretrained, digits):
    task = VisionTask(digits, pretrained=quick_pretrained.model, device="cpu")
    recipes = [get_recipe(n, steps=15) for n in ("scratch", "probe", "discriminative")]
    first = [task.run(r, 10, 1).score for r in recipes]
    torch.manual_seed(123), np.random.seed(123), random.seed(123), torch.rand(7)
    assert [task.run(r, 10, 1).score for r in reversed(recipes)][::-1] == first


def test_two_jobs_give_the_same_table_as_one(quick_pretrained, digits):
    task = VisionTask(digits, pretrained=quick_pretrained.model, device="cpu")
    # scratch and a fine-tune with augmentation: model init, subset draw, batch order, augmentation
    recipes = [get_recipe("scratch", steps=20), get_recipe("discriminative", steps=20)]
    serial = compare(task, recipes, [10, 20], 2, progress=False, jobs=1)
    seen = []
    parallel = compare(task, recipes, [10, 20], 2, progress=True, jobs=2, on_result=seen.append)
    pd.testing.assert_frame_equal(serial[SCORE_COLUMNS], parallel[SCORE_COLUMNS], check_exact=True)
    assert serial.score.nunique() > 1 and len(seen) == 8  # every run was delivered as it finished
    assert sorted(r["score"] for r in seen) == sorted(parallel.score)


def test_cli_jobs_flag(capsys):
    from workbench.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["compare", "vision", "--jobs", "2"]).jobs == 2
    assert parser.parse_args(["demo", "--jobs", "auto"]).jobs == "auto" and parser.parse_args(["demo"]).jobs is None
    assert parser.parse_args(["compare", "text", "--jobs", "3"]).jobs == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["compare", "vision", "--jobs", "0"])
    assert "--jobs takes a positive whole number or auto" in capsys.readouterr().err


def test_a_stop_event_ends_every_worker_within_two_seconds(tmp_path):
    flags = tmp_path / "started"
    flags.mkdir()
    stop, stopped_at = threading.Event(), []

    def stop_once_both_runs_are_in_flight():  # the widget's Stop button, pressed mid-run
        wait_for_flags(flags, 2)
        stopped_at.append(time.monotonic())
        stop.set()

    threading.Thread(target=stop_once_both_runs_are_in_flight, daemon=True).start()
    results = compare(FakeTask(hang_at=10, flags=flags), ["scratch"], [10], 4, progress=False, jobs=2, stop_event=stop)
    latency = time.monotonic() - stopped_at[0]
    assert results.empty  # the runs cut short are not results
    assert latency < 2.0, f"the sweep took {latency:.1f} s to stop"
    assert gone(int(f) for f in os.listdir(flags)) and workers() == []


def test_a_time_budget_ends_every_worker_within_two_seconds(tmp_path):
    flags = tmp_path / "started"
    flags.mkdir()
    assert len(compare(FakeTask(), ["scratch"], [10], 2, progress=False, jobs=2)) == 2  # a warm pool: runs start at once
    start = time.monotonic()
    done = compare(FakeTask(hang_at=20, flags=flags), ["scratch"], [10, 20], 2, progress=False, jobs=2, time_budget=2.0)
    latency = time.monotonic() - start - 2.0
    assert len(os.listdir(flags)) == 2 and list(done.budget) == [10, 10]  # both hung runs were in flight; N=10 finished
    assert latency < 2.0, f"the sweep took {latency:.1f} s to stop after its time budget"
    assert gone(int(f) for f in os.listdir(flags)) and workers() == []


def test_ctrl_c_stops_the_sweep_and_its_workers(tmp_path):
    flags = tmp_path / "started"
    flags.mkdir()
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from test_sweep import FakeTask\n"
              "from workbench.experiments.compare import compare\n"
              "compare(FakeTask(hang_at=10, flags=sys.argv[2]), ['scratch'], [10], 4, progress=False, jobs=2)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(ROOT / "tests"), str(flags)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pids = wait_for_flags(flags, 2)
        proc.send_signal(signal.SIGINT)
        start = time.monotonic()
        while not gone(pids) and time.monotonic() - start < 10:
            time.sleep(0.02)
        latency = time.monotonic() - start  # until the workers are dead (the interpreter's own exit comes after)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in err and proc.returncode != 0
    assert latency < 2.0, f"Ctrl-C took {latency:.1f} s to end the workers"


def test_a_run_that_raises_is_reported_and_the_other_runs_are_kept():
    seen = []
    with pytest.raises(SweepFailed) as caught:
        compare(FakeTask(raise_at=20), ["scratch", "probe"], [10, 20, 30], 2, progress=False, jobs=2, on_result=seen.append)
    err = caught.value
    assert len(err.failures) == 4 and len(seen) == 8 and list(err.results.budget) == [10] * 4 + [30] * 4  # plan order
    assert "4 of 12 runs failed (scratch N=20 seed 0: RuntimeError: boom at N=20" in str(err)
    assert {f.label for f in err.failures} == {f"{r} N=20 seed {s}" for r in ("scratch", "probe") for s in (0, 1)}
    assert "raise RuntimeError" in err.failures[0].traceback


def test_a_worker_that_dies_is_reported_and_the_sweep_goes_on():
    with pytest.raises(SweepFailed) as caught:
        compare(FakeTask(exit_at=(20, 0)), ["scratch"], [10, 20, 30], 2, progress=False, jobs=2)
    err = caught.value
    labels = {f.label for f in err.failures}
    assert "scratch N=20 seed 0" in labels and all("worker process died" in f.error for f in err.failures)
    assert len(err.results) + len(err.failures) == 6 and {30} <= set(err.results.budget)  # runs after the death ran
    assert workers() == [] or all("LokyProcess" in " ".join(p.cmdline()) for p in workers())


RACE = """
import sys, time
from pathlib import Path
from workbench.pretrain import vision as pretrain
calls = []
real = pretrain.pretrain_vision
pretrain.pretrain_vision = lambda **kw: calls.append(1) or real(**kw)
go = Path(sys.argv[1])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
pre = pretrain.pretrained_cnn(steps=5, progress=False)
print("trained" if calls else "loaded", pre.path, float(sum(p.double().sum() for p in pre.model.state_dict().values())), flush=True)
"""


def test_two_processes_racing_on_an_empty_cache_train_once(tmp_path):
    cache, go = tmp_path / "cache", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBENCH_CACHE": str(cache), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", RACE, str(go)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    go.touch()  # both ask for the missing model at the same moment
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e[-2000:] for _, e in outs]
    lines = [out.split() for out, _ in outs]
    assert sorted(line[0] for line in lines) == ["loaded", "trained"]  # one trained, the other waited and loaded
    assert lines[0][1:] == lines[1][1:]  # the same cache entry, the same weights
    assert sorted(os.listdir(cache / "models")) == [Path(lines[0][1]).name]  # nothing temporary or partial left


def test_a_dask_cluster_gives_the_same_table(quick_pretrained, digits):
    """--backend dask on a loopback cluster of 2 worker processes, started and stopped here (the cluster extra)."""
    distributed = pytest.importorskip("distributed")
    task = VisionTask(digits, pretrained=quick_pretrained.model, device="cpu")
    recipes = [get_recipe("scratch", steps=10), get_recipe("discriminative", steps=10)]
    serial = compare(task, recipes, [10], 2, progress=False, jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        seen = []
        on_cluster = compare(task, recipes, [10], 2, progress=False, backend="dask", scheduler=cluster.scheduler_address,
                             on_result=seen.append)
    pd.testing.assert_frame_equal(serial[SCORE_COLUMNS], on_cluster[SCORE_COLUMNS], check_exact=True)
    assert len(seen) == 4
    with pytest.raises(WorkbenchError, match="the dask backend needs the scheduler's address"):
        compare(task, recipes, [10], 1, progress=False, backend="dask")
