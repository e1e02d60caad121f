"""`cudaenv archs` against `cuobjdump --list-elf` + `--list-ptx` on the same files.

    python benchmarks/archs_speed.py FILE... [--runs 7] [--cuobjdump PATH]

Runs every command as a whole process, interleaved with `python -c pass`, and reports each
median wall time and peak resident memory, and the ratios cuobjdump / cudaenv.  It also checks
that both name the same SASS and PTX architectures and the same number of images, and says so
(a benchmark of a wrong answer is worthless).  Peak memory is the child's ``ru_maxrss``, which
includes the few MiB of this Python process that the child starts from: small numbers are a
floor, and the memory ratio is a lower bound.  cuobjdump comes from PATH or the
``nvidia-cuda-cuobjdump`` wheel (``pip install nvidia-cuda-cuobjdump``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

_LISTED = re.compile(r"^(ELF|PTX) file\s+\d+: .*\.(sm_\w+?)\.(cubin|ptx)$")


def find_cuobjdump() -> str | None:
    found = shutil.which("cuobjdump")
    if found:
        return found
    for entry in sys.path:
        candidate = Path(entry) / "nvidia" / "cu13" / "bin" / "cuobjdump"
        if candidate.is_file():
            return str(candidate)
    return None


def run(command: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KiB, stdout."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None
    out = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, out


def cuobjdump_answer(binary: str, path: str) -> tuple[set[str], set[str], int]:
    sass: set[str] = set()
    ptx: set[str] = set()
    count = 0
    for option in ("--list-elf", "--list-ptx"):
        for line in run([binary, option, path])[2].splitlines():
            match = _LISTED.match(line.strip())
            if match:
                count += 1
                arch = match.group(2)
                if match.group(1) == "ELF":
                    sass.add(arch)
                else:
                    ptx.add("compute_" + arch[3:])
    return sass, ptx, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cuobjdump", default=find_cuobjdump())
    args = parser.parse_args()
    if not args.cuobjdump:
        parser.error("no cuobjdump found: pip install nvidia-cuda-cuobjdump, or --cuobjdump")
    cli = str(Path(sys.executable).parent / "cudaenv")
    print(f"{'file':28} {'tool':22} {'median s':>9} {'peak MiB':>9}")
    for path in args.files:
        path = os.path.abspath(path)
        ours = json.loads(run([cli, "archs", path, "--format", "json"])[2])["files"][0]
        sass, ptx, count = cuobjdump_answer(args.cuobjdump, path)
        agree = sass == set(ours["sass"]) and ptx == set(ours["ptx"]) and count == ours["entries"]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "cuobjdump -lelf + -lptx": None,
            "cudaenv archs": [cli, "archs", path, "--format", "json"],
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        peaks: dict[str, list[int]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                if command is None:  # cuobjdump needs one run per listing
                    elf = run([args.cuobjdump, "--list-elf", path])
                    listed = run([args.cuobjdump, "--list-ptx", path])
                    walls[name].append(elf[0] + listed[0])
                    peaks[name].append(max(elf[1], listed[1]))
                else:
                    wall, peak, _ = run(command)
                    walls[name].append(wall)
                    peaks[name].append(peak)
        label = Path(path).name
        for name in commands:
            wall = statistics.median(walls[name])
            peak = statistics.median(peaks[name]) / 1024
            print(f"{label:28} {name:22} {wall:9.3f} {peak:9.1f}")
        time_ratio = statistics.median(walls["cuobjdump -lelf + -lptx"]) / statistics.median(
            walls["cudaenv archs"]
        )
        memory_ratio = statistics.median(peaks["cuobjdump -lelf + -lptx"]) / statistics.median(
            peaks["cudaenv archs"]
        )
        print(
            f"{label:28} cuobjdump/cudaenv: {time_ratio:.1f}x time, {memory_ratio:.1f}x memory;"
            f" {ours['entries']} images; same answer: {'yes' if agree else 'NO'}"
        )


if __name__ == "__main__":
    main()
