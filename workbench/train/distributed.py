"""Several processes (and GPUs) through torchrun and DistributedDataParallel.

``torchrun --nproc_per_node N -m workbench pretrain vision`` runs the same command in N processes.
Semantics, which the tests check: every rank draws the same *global* batch from the same seeded
iterator and trains on its own slice of it (rank r takes rows r, r+N, ...); DDP averages gradients, so
a step equals one process's step on the global batch. Exception: BatchNorm statistics are computed
per process (SyncBatchNorm needs a GPU; on GPUs the CNN is converted to it). Only rank 0 shows
progress bars, runs callbacks that write, and saves checkpoints. A stop (Stop button, time budget,
early stopping, Ctrl-C) on any rank takes effect on every rank at the next log step, so no rank is left
waiting in an all-reduce; a resumable checkpoint written by rank 0 resumes every rank.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import torch
import torch.distributed as dist
from torch import nn


def init_distributed() -> tuple[int, int]:
    """Join the process group torchrun describes in the environment; (rank, world size). No-op alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()


def world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    return world()[0] == 0


class shard_batches:
    """This rank's rows of every global batch (tensors, tuples/lists or dicts of tensors).

    Resumable when the global iterator is: its ``state_dict()`` is the global iterator's, so a resumed
    run under torchrun restores the batch position instead of replaying the batches.
    """

    def __init__(self, batches: Iterable, rank: int, size: int):
        self.inner, self.rank, self.size = iter(batches), rank, size

    def _take(self, b):
        if isinstance(b, torch.Tensor):
            if b.shape[0] % self.size:
                raise ValueError(f"global batch of {b.shape[0]} does not split into {self.size} processes; use a multiple of {self.size}")
            return b[self.rank::self.size]
        if isinstance(b, dict):
            return {k: self._take(v) for k, v in b.items()}
        return type(b)(self._take(v) for v in b)

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        return self._take(next(self.inner))

    def __getattr__(self, name):  # state_dict / load_state_dict exist exactly when the global iterator has them
        if name in ("state_dict", "load_state_dict"):
            return getattr(self.inner, name)
        raise AttributeError(name)


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """DistributedDataParallel around ``model`` over its currently trainable parameters."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index or 0] if device.type == "cuda" else None
    return DDP(model, device_ids=ids)


def agree(loss: torch.Tensor, stop: bool) -> tuple[float, bool]:
    """One all-reduce: the loss averaged over ranks, and whether any rank wants to stop (so all stop together)."""
    both = torch.stack([loss.detach().float().reshape(()), torch.tensor(float(stop), device=loss.device)])
    dist.all_reduce(both, op=dist.ReduceOp.SUM)
    total, stops = both.tolist()
    return total / world()[1], stops > 0
