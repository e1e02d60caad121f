"""`cudaenv envs` on a machine of 100 conda envs x 300 packages, paired with the floor it must
beat: a process that reads and parses every ``conda-meta`` record on that machine.

    python benchmarks/envs_speed.py [--machine DIR] [--envs 100] [--packages 300] [--runs 11]

Builds the machine of ``tests/machine.py`` in a temporary directory (real conda prefixes that
py-rattler installs from a local channel, cloned with hard links as conda clones from its
package cache; pixi envs, venvs, uv projects, pipx and uv tools, pyenv, a Jupyter kernel), or
reuses ``--machine DIR`` built before.  Then times whole processes, interleaved so that drift
hits all alike, with the page cache warm:

- ``read+parse every record``: Python that is *given* the list of prefixes (no discovery) and
  ``json.loads`` every ``conda-meta/*.json`` — what any tool that loads the records pays;
- ``cudaenv envs`` (workers: the default, one per core up to 8) and ``cudaenv envs --jobs 1``,
  run with the machine's environment (HOME, PATH, CONDA_EXE) from inside its projects folder;
- ``python -c pass``, the interpreter floor.

Prints medians, spread, peak memory of the process tree, and each median as a ratio to the
records baseline (below 1.0 means faster than reading the records).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _timing import run_timed

TESTS = Path(__file__).resolve().parent.parent / "tests"

READ_EVERY_RECORD = """
import json, os, sys
count = 0
for prefix in open(sys.argv[1]).read().split("\\n"):
    meta = os.path.join(prefix, "conda-meta")
    for name in os.listdir(meta):
        if name.endswith(".json"):
            with open(os.path.join(meta, name), "rb") as handle:
                json.loads(handle.read())
            count += 1
print(count)
"""


def run_once(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, bytes]:
    """Seconds, peak resident KiB and stdout of one run (``_timing.run_timed``)."""
    elapsed, peak, status, out = run_timed(command, env, cwd, capture=True)
    if status not in (0, 1):  # 1: some environment has an error finding
        raise SystemExit(f"{command[:3]} exited {status}")
    return elapsed, peak, out


def load_machine(directory: Path, envs: int, packages: int) -> tuple[dict[str, str], Path, list]:
    sys.path.insert(0, str(TESTS))
    from machine import build_machine  # noqa: PLC0415 - the tests' builder, only here

    saved = directory / "machine.json"
    if not saved.exists():
        start = time.perf_counter()
        machine = build_machine(directory, conda_envs=envs, packages=packages)
        prefixes = [machine.conda_root, *machine.conda_envs, *machine.pixi_envs]
        saved.write_text(
            json.dumps(
                {
                    "environ": machine.environ,
                    "projects": str(machine.projects),
                    "prefixes": [str(p) for p in prefixes],
                }
            )
        )
        print(f"built the machine in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    data = json.loads(saved.read_text())
    return data["environ"], Path(data["projects"]), data["prefixes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machine", type=Path, help="build (or reuse) the machine here")
    parser.add_argument("--envs", type=int, default=100)
    parser.add_argument("--packages", type=int, default=300)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    temporary = None
    directory = args.machine
    if directory is None:
        temporary = tempfile.mkdtemp(prefix="cudaenv-machine-")
        directory = Path(temporary)
    try:
        measure(directory, args.envs, args.packages, args.runs)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


def measure(directory: Path, envs: int, packages: int, runs: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    environ, projects, prefixes = load_machine(directory, envs, packages)
    prefix_list = directory / "prefixes.txt"
    prefix_list.write_text("\n".join(prefixes))
    cli = shutil.which("cudaenv", path=str(Path(sys.executable).parent))
    if cli is None:
        raise SystemExit("cudaenv is not installed next to this Python")
    env = {**environ, "LANG": "C.UTF-8"}
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "read+parse every record": [sys.executable, "-c", READ_EVERY_RECORD, str(prefix_list)],
        "cudaenv envs": [cli, "envs"],
        "cudaenv envs --jobs 1": [cli, "envs", "--jobs", "1"],
        "cudaenv envs --format json": [cli, "envs", "--format", "json"],
    }
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    memory: dict[str, int] = dict.fromkeys(commands, 0)
    outputs: dict[str, bytes] = {}
    for name, command in commands.items():  # warm the page cache
        outputs[name] = run_once(command, env, projects)[2]
    for _ in range(runs):
        for name, command in commands.items():
            elapsed, peak, _ = run_once(command, env, projects)
            seconds[name].append(elapsed)
            memory[name] = max(memory[name], peak)

    records = int(outputs["read+parse every record"])
    surveyed = json.loads(outputs["cudaenv envs --format json"])["environments"]
    print(
        f"machine: {len(surveyed)} environments found by cudaenv, "
        f"{records:,} conda-meta records in {len(prefixes)} conda prefixes; "
        f"{runs} paired runs, warm page cache, {os.cpu_count()} CPUs"
    )
    baseline = statistics.median(seconds["read+parse every record"])
    print(f"{'command':28} {'median s':>9} {'min s':>7} {'max s':>7} {'peak MiB':>9} {'ratio':>6}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(
            f"{name:28} {median:9.3f} {min(values):7.3f} {max(values):7.3f} "
            f"{memory[name] / 1024 if memory[name] else float('nan'):9.1f} "
            f"{median / baseline:6.2f}"
        )
    print("ratio: median / median of 'read+parse every record' (below 1.00 is faster)")


if __name__ == "__main__":
    main()
