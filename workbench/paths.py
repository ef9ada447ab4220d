"""Where generated data, cached models and runs live.

``WORKBENCH_CACHE`` wins; otherwise a source checkout uses its own ``datasets/cache`` (gitignored) and
an installed package uses ``~/.cache/workbench``.
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    env = os.environ.get("WORKBENCH_CACHE")
    if env:
        path = Path(env).expanduser()
    else:
        repo = Path(__file__).resolve().parent.parent
        path = repo / "datasets" / "cache" if (repo / "pyproject.toml").exists() else Path.home() / ".cache" / "workbench"
    path.mkdir(parents=True, exist_ok=True)
    return path
