"""Run a sweep's independent runs in parallel worker processes, one torch thread each.

A comparison is dozens of small runs (recipe x budget x seed) that share nothing but their inputs. On a
CPU they scale across processes, not threads: the models are too small for torch's intra-op threads to
pay (see :func:`workbench.device.configure_cpu_threads`), and the GIL rules out a thread pool. So
:func:`run_sweep` hands runs to a pool of worker processes from loky, the executor behind joblib and
scikit-learn: it pickles with cloudpickle (a task or function defined in a notebook travels), it notices
a worker that dies, and it can kill its workers, and their children, at once.

Why the table equals a serial run's bit for bit on CPU: a run depends only on its (recipe, budget, seed).
The labeled subset, batch order, augmentation and initial weights come from generators seeded by the
seed, never from global RNG state left by an earlier run (``tests/test_sweep.py`` checks both), and every
worker trains with one torch thread, as a serial run does on a machine with two cores or fewer. (With
more threads in the serial run, float sums may be split differently: set ``WORKBENCH_THREADS=1`` there.)

The shared object (the task, with its data and pretrained model) is pickled once per sweep into a
temporary file; each worker reads it on its first run and keeps it for every later one, so nothing is
retrained or sent again per run. The pool stays warm for :data:`IDLE_SECONDS`, so the next sweep in a
notebook starts at once.

Stopping: a stop request (``stop_event.is_set()``, the widget's Stop), the ``time_budget`` running out,
or Ctrl-C kills the workers straight away (a run cut short is not a result either way), so a sweep stops
within a fraction of a second and leaves no worker behind. A run that raises does not stop the others:
the failed runs, each named with its error, are raised together as :class:`SweepFailed` once the rest
have finished, with the finished results attached.
"""
from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkbenchError

JOBS_ENV = "WORKBENCH_JOBS"
BACKENDS = ("loky", "dask")
#: A finished sweep's workers wait this long for the next sweep (a notebook's next cell), then exit; joblib's default.
IDLE_SECONDS = 300
_POLL = 0.05  # seconds between looks at the stop request while runs are in flight
#: What every worker runs with: one thread per math library, and no nested pools of its own.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "WORKBENCH_THREADS": "1",
              JOBS_ENV: "1"}


def default_jobs(device=None) -> int:
    """Worker processes when nobody says: the physical cores, less one for JupyterLab above two cores; 1 on a GPU.

    Physical, because a second hyperthread on a busy core adds little to these compute-bound runs. On a
    2-core machine both cores work (the notebook kernel only waits while the workers train; measured in
    ``benchmarks/run.py --only sweep_parallel``); from 3 cores on, one is left for the browser and JupyterLab
    so the page stays responsive. On a GPU one process owns the device: parallel workers would only queue
    on it and each hold a CUDA context.
    """
    from joblib import cpu_count

    if device is not None and getattr(device, "type", str(device)).split(":")[0] not in ("cpu",):
        return 1
    cores = max(1, cpu_count(only_physical_cores=True))  # loky's count: affinity and cgroup quotas respected
    return cores if cores <= 2 else cores - 1


def resolve_jobs(jobs: int | str | None = None, device=None) -> int:
    """``jobs`` as a worker count: a positive int, or None / ``"auto"``: ``WORKBENCH_JOBS``, else :func:`default_jobs`."""
    if jobs is None:
        jobs = os.environ.get(JOBS_ENV) or "auto"
    if isinstance(jobs, str) and jobs.strip().lower() == "auto":
        return default_jobs(device)
    try:
        n = int(jobs)
    except (TypeError, ValueError):
        n = 0
    if isinstance(jobs, bool) or n < 1 or (isinstance(jobs, float) and jobs != n):
        raise WorkbenchError(f"jobs must be a positive whole number or 'auto', got {jobs!r} (check {JOBS_ENV} too)")
    return n


@dataclass
class RunFailure:
    """One run that raised in a worker: what it was, the one-line error, and the worker's traceback."""

    item: object
    label: str
    error: str
    traceback: str = ""


class SweepFailed(WorkbenchError):
    """Some runs of a sweep raised; the others finished. ``failures`` names each; ``results`` holds the rest."""

    def __init__(self, failures: list[RunFailure], results, planned: int):
        self.failures, self.results = failures, results
        shown = "; ".join(f"{f.label}: {f.error}" for f in failures[:3])
        more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
        super().__init__(f"{len(failures)} of {planned} runs failed ({shown}{more}); the other runs finished "
                         "and are kept (the exception's .results); fix the failing runs and run them again")


def deadline_event(stop_event=None, time_budget: float | None = None):
    """A stop request that is also set once ``time_budget`` seconds have passed (``stop_event`` itself without one)."""
    if time_budget is None:
        return stop_event
    return _Deadline(stop_event, time.monotonic() + time_budget)


class _Deadline:
    def __init__(self, stop_event, deadline: float):
        self.stop_event, self.deadline = stop_event, deadline

    def is_set(self) -> bool:
        return time.monotonic() >= self.deadline or (self.stop_event is not None and self.stop_event.is_set())


def run_sweep(fn: Callable, shared, items: Sequence, *, jobs: int | str | None = None, on_result: Callable | None = None,
              stop_event=None, time_budget: float | None = None, progress: bool = True, desc: str = "sweep",
              label: Callable = repr, postfix: Callable | None = None, device=None, backend: str = "loky",
              scheduler: str | None = None) -> list:
    """``[fn(shared, item) for item in items]`` in ``jobs`` worker processes; the results come back in ``items`` order.

    ``fn`` must be importable (a module-level function) or picklable and return a small picklable result
    (a row dict, not a model). ``on_result(result)`` is called in this process as each run finishes, in
    finish order, so a stopped or failed sweep keeps what it measured. A stop (``stop_event``,
    ``time_budget`` seconds, Ctrl-C) ends the sweep at once and returns the runs finished so far (Ctrl-C
    re-raises ``KeyboardInterrupt`` once the workers are gone). ``label(item)`` names a failed run in
    :class:`SweepFailed`; ``postfix(result)`` gives the progress bar's last-result fields. With one job
    the runs happen here, in a plain loop.

    ``backend="dask"`` with ``scheduler="tcp://host:8786"`` sends the runs to a dask.distributed cluster
    instead (the ``cluster`` extra; see :mod:`workbench.experiments.sweep_dask`); ``jobs`` then defaults to
    the cluster's worker threads.
    """
    from ..errors import check_choice

    check_choice("backend", backend, BACKENDS)
    items = list(items)
    workers = None
    if backend == "dask":
        from .sweep_dask import DaskWorkers

        workers = DaskWorkers(scheduler)
        jobs = workers.threads() if jobs is None else resolve_jobs(jobs)
    jobs = min(resolve_jobs(jobs, device), max(1, len(items)))
    stop = deadline_event(stop_event, time_budget)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(items), desc=desc)

    def finished(result) -> None:
        if on_result is not None:
            on_result(result)
        if bar is not None:
            bar.update(1)
            if postfix is not None:
                bar.set_postfix(postfix(result))

    try:
        if jobs == 1 and workers is None:
            results, failures = {}, []
            for i, item in enumerate(items):
                if stop is not None and stop.is_set():
                    break
                results[i] = fn(shared, item)
                finished(results[i])
        else:
            workers = workers or LocalWorkers(jobs)
            try:
                results, failures = _in_workers(fn, shared, items, jobs, finished, stop, label, bar, workers)
            finally:
                workers.close()
    finally:
        if bar is not None:
            bar.close()
    ordered = [results[i] for i in sorted(results)]
    if failures:
        raise SweepFailed(failures, ordered, len(items))
    return ordered


def _in_workers(fn, shared, items, jobs, finished, stop, label, bar, workers) -> tuple[dict, list[RunFailure]]:
    """The parallel loop: at most ``jobs`` runs in flight, the next one handed out as each finishes."""
    results: dict[int, object] = {}
    failures: list[RunFailure] = []
    workers.send(shared)
    todo = list(enumerate(items))[::-1]  # popped from the end: handed out in plan order
    pending: dict = {}
    try:
        while todo or pending:
            while todo and len(pending) < jobs and not (stop is not None and stop.is_set()):
                i, item = todo.pop()
                pending[workers.submit(fn, item)] = i
            if stop is not None and stop.is_set():
                break
            done, _ = wait(list(pending), timeout=_POLL, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                i = pending.pop(future)
                try:
                    status, value, tb = future.result()
                except Exception as err:  # noqa: BLE001 - the process died (killed, out of memory, a crash in C)
                    status, value, tb, broken = "error", f"its worker process died ({type(err).__name__}: {err})", "", True
                if status == "ok":
                    results[i] = value
                    finished(value)
                else:
                    failures.append(RunFailure(items[i], label(items[i]), value, tb))
                    if bar is not None:
                        bar.set_postfix(failed=len(failures))
            if broken:
                workers.renew()
    except BaseException:
        workers.stop()
        raise
    if pending:  # stopped with runs in flight: they are not results, and their workers must not outlive the sweep
        workers.stop()
    return results, failures


class LocalWorkers:
    """loky worker processes on this machine; the shared object travels through a temporary file, read once per worker."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.folder = Path(tempfile.mkdtemp(prefix="workbench-sweep-"))
        self.payload = self.folder / "shared.pkl"
        self.pool = None

    def send(self, shared) -> None:
        try:
            import cloudpickle

            with open(self.payload, "wb") as fh:
                cloudpickle.dump(shared, fh, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as err:  # noqa: BLE001 - say what to do instead of a pickling traceback
            raise WorkbenchError(f"cannot send {type(shared).__name__} to worker processes ({type(err).__name__}: {err}); "
                                 "run with jobs=1") from err
        self.pool = _pool(self.jobs)

    def submit(self, fn, item):
        return self.pool.submit(_work, str(self.payload), fn, item)

    def renew(self) -> None:  # loky marks the whole pool broken when one worker dies: the other runs go to a fresh one
        self.pool = _pool(self.jobs)

    def stop(self) -> None:
        if self.pool is not None:
            _kill(self.pool)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


_last_pool: list = []  # the pool the last sweep used, for shutdown_workers


def _pool(jobs: int):
    """loky's reusable pool (a new one if the environment the workers need has changed since the last sweep)."""
    from joblib.externals.loky import get_reusable_executor

    env = {k: v for k, v in os.environ.items() if k.startswith("WORKBENCH_")}  # cache folder, device, ...
    env.update(WORKER_ENV)
    pool = get_reusable_executor(max_workers=jobs, timeout=IDLE_SECONDS, initializer=_init_worker, env=env)
    _last_pool[:] = [pool]
    return pool


def shutdown_workers() -> None:
    """End the warm workers now (their memory back at once); the next sweep starts fresh ones."""
    while _last_pool:
        _kill(_last_pool.pop())


def _kill(pool) -> None:
    """Kill the pool's workers and their children now and wait until they are gone."""
    pool.shutdown(wait=True, kill_workers=True)


def _init_worker() -> None:
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the parent, which then stops the whole pool
    torch.set_num_threads(1)


_loaded: dict = {}  # in a worker: the shared object of the current sweep, read once


def _work(payload: str, fn: Callable, item):
    """One run in a worker: ("ok", result, "") or ("error", one-line error, traceback)."""
    try:
        if _loaded.get("path") != payload:
            _loaded.clear()
            with open(payload, "rb") as fh:
                _loaded.update(path=payload, shared=pickle.load(fh))
        return "ok", fn(_loaded["shared"], item), ""
    except Exception as err:  # noqa: BLE001 - reported with the run it belongs to; the other runs go on
        return "error", f"{type(err).__name__}: {err}", traceback.format_exc()


def warm_up(task, recipes: Sequence) -> None:
    """Load, here and once, what the first run would load lazily: the pretrained model, the encoded passages.

    The task is then sent to the workers with them, instead of every worker loading (or, with an empty
    cache, pretraining) its own copy. Only the Task protocol is used (``load_pretrained``), plus the text
    tasks' passage encoding when the task has it.
    """
    from ..tasks.baselines import Baseline

    trained = [r for r in recipes if not isinstance(r, Baseline)]
    if not trained:
        return
    if any(r.init in ("pretrained", "random") for r in trained):
        task.load_pretrained(progress=False)
    encoded = getattr(task, "encoded", None)  # the text tasks cache their tokenised passages per backbone
    if encoded is not None:
        encoded("pool")
        encoded("test")
