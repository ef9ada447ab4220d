"""``workbench app``: the playground notebook served by Voila as a classroom app (no code shown).

It binds to 127.0.0.1 unless told otherwise: serving on another address makes the app, and the
Python kernel behind it, reachable from the network, so that has to be asked for explicitly.
"""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

from ..errors import WorkbenchError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def default_notebook() -> Path:
    return Path(__file__).resolve().parents[2] / "notebooks" / "08_playground.ipynb"


def app_command(notebook: str | os.PathLike | None = None, *, port: int = 8866, ip: str = "127.0.0.1",
                open_browser: bool = False) -> list[str]:
    """The voila command line that serves ``notebook`` (default: the playground)."""
    path = Path(notebook) if notebook is not None else default_notebook()
    if not path.is_file():
        raise WorkbenchError(f"notebook {str(path)!r} not found; pass the playground notebook's path")
    if not (isinstance(port, int) and 0 < port < 65536):
        raise WorkbenchError(f"port must be an integer in 1..65535, got {port!r}")
    cmd = [sys.executable, "-m", "voila", str(path), f"--port={port}", f"--Voila.ip={ip}",
           "--show_tracebacks=False", "--strip_sources=True"]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def serve_app(notebook: str | os.PathLike | None = None, *, port: int = 8866, ip: str = "127.0.0.1",
              open_browser: bool = False, wait: bool = True, env: dict | None = None):
    """Serve the playground with Voila at http://IP:PORT/ ; blocks until Ctrl-C unless ``wait=False``.

    With ``wait=False`` it returns the running ``subprocess.Popen`` (stop it with ``.terminate()``).
    """
    cmd = app_command(notebook, port=port, ip=ip, open_browser=open_browser)
    if ip not in LOOPBACK:
        warnings.warn(f"serving on {ip}: anyone who can reach this address can use the app and its kernel", stacklevel=2)
    full_env = {**os.environ, **(env or {})}
    # the kernel must import this workbench even when it is not installed
    root = str(Path(__file__).resolve().parents[2])
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, full_env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(cmd, env=full_env)
    if not wait:
        return proc
    print(f"workbench app: http://{ip}:{port}/  (Ctrl-C to stop)", flush=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait(10)
