"""What ``cudaenv fleet --scheduler`` runs on each Dask worker (nothing beyond the stdlib).

``Client.run`` calls these outside the worker's task queue, so a worker busy with a
long job still answers.  ``node_identity`` names the node: its host name and the world it
would diagnose (``CUDAENV_ROOT`` and ``CUDAENV_ENV_FILE``, as for every cudaenv command there),
so that a host with several workers is collected once.  ``node_snapshot`` runs ``cudaenv
snapshot`` in a child process of the worker, stopped after a timeout: a stuck collection
(an NFS mount that stopped answering) can neither hang the worker nor keep its memory.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, Optional

from ._worldenv import default_env_file, default_root

__all__ = ["node_identity", "node_snapshot", "run_bounded"]

_STDERR_KEPT = 4000  # bytes: enough for cudaenv's one-line errors and a traceback's end


def node_identity() -> dict[str, str]:
    """Who this worker is, as far as a diagnosis is concerned."""
    return {
        "host": socket.gethostname(),
        "root": default_root(os.environ),
        "env_file": default_env_file(os.environ) or "",
        "python": sys.executable,
    }


async def node_snapshot(target: Optional[Sequence[str]], timeout: float) -> dict[str, Any]:
    """``cudaenv snapshot`` of this node, unredacted (the caller redacts what it shows).

    ``target`` is ``["--prefix", P]`` or ``["--python", X]``; without one, the environment
    of the worker's own interpreter, which is where the cluster's tasks run."""
    if target is None:
        on_this_machine = default_root(os.environ) == "/"
        target = ["--python", sys.executable] if on_this_machine else []
    argv = [sys.executable, "-m", "cudaenv", "snapshot", "--no-redact", *target]
    return await run_bounded(argv, timeout)


async def run_bounded(argv: Sequence[str], timeout: float) -> dict[str, Any]:
    """Run ``argv``; its exit status and output, or an error once ``timeout`` seconds pass."""
    try:
        child = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a stop reaches only the child, never the worker
        )
    except OSError as exc:
        return {"error": f"cannot start {argv[0]}: {exc.strerror or exc}"}
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout)
    except asyncio.TimeoutError:
        child.kill()
        await child.wait()
        return {"error": f"no snapshot within {timeout:g} s (the collection was stopped)"}
    return {
        "returncode": child.returncode,
        "stdout": out.decode("utf-8", "replace"),
        "stderr": err[-_STDERR_KEPT:].decode("utf-8", "replace"),
    }
