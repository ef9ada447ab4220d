"""Atomic, pickle-free storage of tensors for caches.

A cache file is written to a temporary file in the same folder, fsynced and renamed into place, so a
crash mid-write never leaves a half-written file under the real name. A file that does not parse is
treated as missing (and rebuilt by the caller) rather than trusted. What is expensive to build (a
pretrained model) is built under :func:`cache_lock`, so two workers or notebooks never train it twice.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then move ``tmp`` onto ``path`` in one rename, after an fsync."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def cache_lock(path: Path, *, notice_after: float = 1.0) -> Iterator[None]:
    """Hold a lock named after ``path`` while checking for, building and writing that cache entry.

    Atomic renames keep a cache entry whole, but two processes that both find it missing would both build
    it: for a pretrained model, minutes of duplicate training. Under this lock the second one waits, then
    finds the entry the first one wrote. It is an OS file lock (the ``filelock`` package), dropped by the
    system if its holder dies; the lock files live in ``<cache>/locks`` so cache folders hold only entries.
    Says so on stderr when the wait is longer than ``notice_after`` seconds.

    Under torchrun (``WORLD_SIZE`` > 1) there is no lock: the ranks of one job train one model together and
    only rank 0 writes it, so a lock would make rank 1 wait for rank 0, which waits for rank 1 in its first
    all-reduce (a deadlock, seen in ``tests/test_distributed.py``).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        yield
        return
    from filelock import FileLock, Timeout

    from ..paths import cache_dir

    path = Path(path)
    folder = cache_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"{path.parent.name}-{path.name}.lock"))
    try:
        lock.acquire(timeout=notice_after)
    except Timeout:
        print(f"workbench: waiting for another process that is building {path.name} ...", file=sys.stderr, flush=True)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    atomic_write(path, lambda tmp: save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp)))


def load_tensors(path: Path) -> dict[str, torch.Tensor] | None:
    """The tensors in ``path``, or None if it is missing or corrupted (the caller rebuilds it)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return load_file(str(path))
    except Exception as err:  # a truncated or foreign file: rebuild rather than fail
        warnings.warn(f"cache file {path} is unreadable ({err.__class__.__name__}); rebuilding it", stacklevel=2)
        path.unlink(missing_ok=True)
        return None
