"""A sweep's runs on a dask.distributed cluster: ``--backend dask --scheduler tcp://host:8786`` (the ``cluster`` extra).

The same loop as on one machine (:func:`workbench.experiments.sweep.run_sweep`); only the workers differ.
The shared object (the task, its data, the pretrained model) is scattered to every worker once
(``broadcast=True``), and each run goes out through the client's ``concurrent.futures`` executor, so
the loop can wait for runs with a timeout and see a Stop in time. joblib's dask backend would send the
same work, but its result generator blocks until the next run ends, so a Stop would wait for it.

What differs from local workers: a stop cancels the runs not yet started and returns at once, but dask
cannot kill a run already executing in a worker thread: it finishes there and its result is dropped.
Each run sets one torch thread; give the workers ``--nthreads 1`` (or one per core they may use).
The cluster needs ``workbench`` importable in the same version as here.
"""
from __future__ import annotations

from ..errors import WorkbenchError


class DaskWorkers:
    """The workers of the dask scheduler at ``scheduler``, as :class:`~workbench.experiments.sweep.LocalWorkers` are local ones."""

    def __init__(self, scheduler: str | None, timeout: float = 10.0):
        if not scheduler:
            raise WorkbenchError("the dask backend needs the scheduler's address: --scheduler tcp://HOST:8786 "
                                 "(scheduler= in the API)")
        try:
            from distributed import Client
        except ImportError:
            raise WorkbenchError("the dask backend needs dask.distributed: pip install 'workbench[cluster]'") from None
        try:
            self.client = Client(scheduler, timeout=timeout, set_as_default=False)
        except OSError as err:
            raise WorkbenchError(f"cannot reach the dask scheduler at {scheduler} ({err}); is it running?") from None
        self.executor = self.client.get_executor(pure=False)
        self.shared = None

    def threads(self) -> int:
        """How many runs the cluster can run at once: its worker threads."""
        return max(1, sum(self.client.nthreads().values()))

    def send(self, shared) -> None:
        [self.shared] = self.client.scatter([shared], broadcast=True, hash=False)

    def submit(self, fn, item):
        return self.executor.submit(_work_remote, self.shared, fn, item)

    def renew(self) -> None:  # dask reschedules the runs of a worker that died; nothing to rebuild here
        pass

    def stop(self) -> None:
        self.executor.shutdown(wait=False)  # cancels what has not started; running runs finish and are dropped

    def close(self) -> None:
        self.client.close()


def _work_remote(shared, fn, item):
    """One run on a dask worker, reported like a local one: ("ok", result, "") or ("error", message, traceback)."""
    import traceback

    import torch

    torch.set_num_threads(1)  # as in local workers: the same numbers as a serial run
    try:
        return "ok", fn(shared, item), ""
    except Exception as err:  # noqa: BLE001 - reported with the run it belongs to; the other runs go on
        return "error", f"{type(err).__name__}: {err}", traceback.format_exc()
