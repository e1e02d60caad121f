"""How long `cudaenv doctor` takes on an ordinary venv, paired with `python -c pass`.

    python benchmarks/doctor_speed.py [--venv DIR] [--runs 21] [--import MODULE ...]

Builds a fresh venv (pip only) unless one is given, activates it through the environment of
each run, and times whole processes: the console script, ``python -m cudaenv``, and the
interpreter floor, interleaved so that machine drift hits all three alike.  Prints medians,
spread, and each median as a multiple of the floor ("xpy").  ``--import torch`` adds the venv's own
``python -c "import torch"`` (what every framework reporter pays first) to the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, help="an existing venv to diagnose")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="also time the venv's python importing MODULE",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        venv = args.venv
        if venv is None:
            venv = Path(tmp) / "venv"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = {
            **os.environ,
            "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv}/bin:{os.environ.get('PATH', '')}",
        }
        cli = Path(sys.executable).parent / "cudaenv"
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "cudaenv doctor": [str(cli), "doctor"],
            "cudaenv doctor --format json": [str(cli), "doctor", "--format", "json"],
            "python -m cudaenv doctor": [sys.executable, "-m", "cudaenv", "doctor"],
        }
        for module in args.imports:
            commands[f"import {module}"] = [str(venv / "bin" / "python"), "-c", f"import {module}"]
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm the page cache
            timed(command, env)
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(timed(command, env))
    floor = statistics.median(samples["python -c pass"])
    print(f"{'command':32} {'median s':>9} {'min s':>7} {'max s':>7} {'xpy':>6}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"{name:32} {median:9.4f} {min(values):7.4f} {max(values):7.4f} {median / floor:6.1f}"
        )


if __name__ == "__main__":
    main()
