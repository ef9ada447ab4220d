"""Where training runs and how it is made repeatable.

The order is cuda > mps > cpu unless the caller or ``WORKBENCH_DEVICE`` says otherwise. Seeding sets
every generator the workbench uses, so the same seed gives the same numbers on CPU.
"""
from __future__ import annotations

import contextlib
import os
import random
import warnings

import numpy as np
import torch

from .errors import WorkbenchError, check_choice

DEVICES = ("auto", "cpu", "cuda", "mps")


def pick_device(requested: str | torch.device | None = None) -> torch.device:
    """Return the device to train on: the requested one, ``WORKBENCH_DEVICE``, or the best available."""
    if isinstance(requested, torch.device):
        return requested
    name = (requested or os.environ.get("WORKBENCH_DEVICE") or "auto").lower()
    kind = name.split(":")[0]
    check_choice("device", kind, DEVICES)
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise WorkbenchError("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu or auto")
    if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise WorkbenchError("device 'mps' was asked for but Apple's MPS is not available; use --device cpu or auto")
    return torch.device(name)


def configure_cpu_threads() -> int:
    """Use one intra-op thread on machines with two cores or fewer (``WORKBENCH_THREADS`` overrides).

    The models here are small, so a second thread buys little on an idle laptop, and while anything
    else runs (JupyterLab, the browser, a second notebook) OpenMP's spinning threads made steps 2-7x
    slower on the 2-core course machines. Returns the thread count in force.
    """
    wanted = os.environ.get("WORKBENCH_THREADS")
    if wanted:
        torch.set_num_threads(max(1, int(wanted)))
    elif (os.cpu_count() or 1) <= 2 and torch.get_num_threads() > 1:
        torch.set_num_threads(1)
    return torch.get_num_threads()


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 on GPUs that support it, fp16 on other GPUs, none (fp32) on CPU."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return None


def autocast(device: torch.device):
    """A mixed-precision context on GPU and a no-op on CPU."""
    dtype = autocast_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU generator for the caller's own draws."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def warn_if_nondeterministic(device: torch.device) -> None:
    """Warn (once per process and device type) that a GPU run is not bitwise repeatable.

    On CPU the same seed gives the same numbers. On CUDA, cuDNN and atomic-add kernels (e.g. the
    backward of conv and of index operations) may sum in a different order each run, unless
    ``torch.use_deterministic_algorithms(True)`` is set (and ``CUBLAS_WORKSPACE_CONFIG=:4096:8``),
    which is slower and raises on ops that have no deterministic version. See docs/reliability.md.
    """
    if device.type in ("cuda", "mps") and not torch.are_deterministic_algorithms_enabled() and device.type not in _warned:
        _warned.add(device.type)
        warnings.warn(
            f"training on {device.type}: results can differ slightly between runs with the same seed; for bitwise "
            "repeatable runs call torch.use_deterministic_algorithms(True) (slower) or train on cpu",
            stacklevel=3,
        )


_warned: set[str] = set()
