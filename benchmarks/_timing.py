"""One whole-process run, timed, with its peak memory: shared by the benchmark scripts."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

GNU_TIME = Path("/usr/bin/time")


def run_timed(
    argv: list[str], env: dict[str, str], cwd: Optional[Path] = None, *, capture: bool = False
) -> tuple[float, int, int, bytes]:
    """Seconds, peak resident KiB, exit status and (with ``capture``) stdout of one run.

    The peak comes from GNU time (Debian's ``time``), 0 without it: a child forked from this
    Python counts this process's pages in its own ``ru_maxrss``, so only a small launcher
    can measure it."""
    with tempfile.NamedTemporaryFile("r") as peak_file:
        timer = [str(GNU_TIME), "-f", "%M", "-o", peak_file.name] if GNU_TIME.exists() else []
        start = time.perf_counter()
        done = subprocess.run(
            [*timer, *argv],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        elapsed = time.perf_counter() - start
        lines = peak_file.read().strip().splitlines()
    peak = int(lines[-1]) if timer and lines and lines[-1].isdigit() else 0
    return elapsed, peak, done.returncode, done.stdout or b""
