"""Several processes (and GPUs) through torchrun and DistributedDataParallel.

``torchrun --nproc_per_node N -m workbench pretrain vision`` runs the same command in N processes.
Semantics, which the tests check: every rank draws the same *global* batch from the same seeded
iterator and trains on its own slice of it (rank r takes rows r, r+N, ...); DDP averages gradients, so
a step equals one process's step on the global batch. Exception: BatchNorm statistics are computed
per process (SyncBatchNorm needs a GPU; on GPUs the CNN is converted to it). Only rank 0 shows
progress bars, runs callbacks that write, and saves checkpoints.
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


def shard_batches(batches: Iterable, rank: int, size: int) -> Iterator:
    """This rank's rows of every global batch (tensors, tuples/lists or dicts of tensors)."""

    def take(b):
        if isinstance(b, torch.Tensor):
            if b.shape[0] % size:
                raise ValueError(f"global batch of {b.shape[0]} does not split into {size} processes; use a multiple of {size}")
            return b[rank::size]
        if isinstance(b, dict):
            return {k: take(v) for k, v in b.items()}
        return type(b)(take(v) for v in b)

    for batch in batches:
        yield take(batch)


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """DistributedDataParallel around ``model`` over its currently trainable parameters."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index or 0] if device.type == "cuda" else None
    return DDP(model, device_ids=ids)


def mean_across_ranks(value: torch.Tensor) -> torch.Tensor:
    if world()[1] > 1:
        value = value.clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        value /= world()[1]
    return value
