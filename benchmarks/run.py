"""cudaenv against every peer, on the same work, in one run.

    python benchmarks/run.py [--cache DIR] [--runs 9] [--groups doctor,which,archs,envs]
                             [--write docs/benchmarks.md]

Builds once, under ``--cache`` (default ``~/.cache/cudaenv-bench``), and reuses after:

- ``venv/``: torch 2.13.0 (CPU), cupy-cuda12x, the NVIDIA runtime, NVRTC and cuBLAS wheels
  (CUDA 12), numba, cuda-pathfinder, auditwheel, nvidia-ml-py, the peers cuda-doctor,
  env-doctor and rapids-cli, NVIDIA's cuobjdump wheel, and this checkout of cudaenv;
- ``machine/``: 100 conda envs x 300 packages and the rest of ``tests/machine.py``.

Then times whole processes, group by group, each command run once to warm the page cache and
then ``--runs`` times interleaved with the others of its group, so that the machine's drift
hits all alike.  Peak resident memory comes from GNU time (``/usr/bin/time``).  Prints each
command's median, range, peak and its ratio to cudaenv, checks the targets of issue 8, and
writes the tables to ``--write`` (``docs/benchmarks.md`` in the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, Optional

from _timing import run_timed

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PACKAGES = [
    "torch==2.13.0",
    "cupy-cuda12x",
    "nvidia-cuda-runtime-cu12",
    "nvidia-cuda-nvrtc-cu12",
    "nvidia-cublas-cu12",
    "numba",
    "cuda-pathfinder",
    "auditwheel",
    "pyelftools",
    "nvidia-ml-py",
    "cuda-doctor",
    "env-doctor",
    "rapids-cli",
    "nvidia-cuda-cuobjdump",
]

READ_EVERY_METADATA = """
import os, sys
site = sys.argv[1]
for name in os.listdir(site):
    if name.endswith(".dist-info"):
        try:
            with open(os.path.join(site, name, "METADATA"), "rb") as handle:
                handle.read()
        except OSError:
            pass
"""
PATHFINDER = """
from cuda.pathfinder import load_nvidia_dynamic_lib
for name in ("cudart", "cublas", "nvrtc"):
    load_nvidia_dynamic_lib(name)
"""
FULL_DOCTOR = "cudaenv doctor --gpu-code"
"""The whole diagnosis: loader trees and, though this machine has no GPU, the fat binaries."""
LDDTREE = """
import sys
from pathlib import Path
from auditwheel import lddtree
(lddtree.ldd if hasattr(lddtree, "ldd") else lddtree.lddtree)(Path(sys.argv[1]))
"""


class Command(NamedTuple):
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path


class Result(NamedTuple):
    seconds: list[float]
    peak_kib: int
    status: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run_once(command: Command) -> tuple[float, int, int]:
    """Seconds, peak resident KiB (GNU time, 0 without it) and exit status of one run."""
    elapsed, peak, status, _ = run_timed(command.argv, command.env, command.cwd)
    return elapsed, peak, status


def measure(commands: Sequence[Command], runs: int) -> dict[str, Result]:
    for command in commands:  # warm the page cache
        run_once(command)
    seconds: dict[str, list[float]] = {c.name: [] for c in commands}
    peaks = dict.fromkeys(seconds, 0)
    statuses = dict.fromkeys(seconds, 0)
    for _ in range(runs):
        for command in commands:
            elapsed, peak, status = run_once(command)
            seconds[command.name].append(elapsed)
            peaks[command.name] = max(peaks[command.name], peak)
            statuses[command.name] = status
    return {name: Result(seconds[name], peaks[name], statuses[name]) for name in seconds}


# -- building what is measured ---------------------------------------------------------------


def build_venv(cache: Path) -> Path:
    venv = cache / "venv"
    marker = venv / "cudaenv-bench.json"
    wanted = {"packages": PACKAGES}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        subprocess.run(  # this checkout's cudaenv, as it is now
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(REPO)],
            check=True,
        )
        return venv
    print(f"building {venv} (once; several GB of wheels) ...", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, PACKAGES[0]], check=True)  # the CPU torch first: nothing replaces it
    subprocess.run([*pip, *PACKAGES, str(REPO)], check=True)
    marker.write_text(json.dumps(wanted))
    return venv


def build_machine(cache: Path, envs: int, packages: int) -> tuple[dict[str, str], Path, Path]:
    sys.path.insert(0, str(HERE))
    from envs_speed import load_machine  # noqa: PLC0415 - the same machine as envs_speed.py

    directory = cache / f"machine-{envs}x{packages}"
    directory.mkdir(parents=True, exist_ok=True)
    environ, projects, prefixes = load_machine(directory, envs, packages)
    listing = directory / "prefixes.txt"
    listing.write_text("\n".join(prefixes))
    return {**environ, "LANG": "C.UTF-8"}, projects, listing


# -- the groups --------------------------------------------------------------------------------


def venv_environ(venv: Path) -> dict[str, str]:
    """The shell of someone who activated the venv."""
    return {
        "HOME": os.environ.get("HOME", "/root"),
        "PATH": f"{venv}/bin:/usr/local/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": str(venv),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
    }


def doctor_group(venv: Path) -> list[Command]:
    env, python, cwd = venv_environ(venv), str(venv / "bin" / "python"), venv
    site = next(venv.glob("lib/python3*/site-packages"))
    bin_ = venv / "bin"
    return [
        Command(FULL_DOCTOR, [str(bin_ / "cudaenv"), "doctor", "--gpu-code"], env, cwd),
        Command("cudaenv doctor", [str(bin_ / "cudaenv"), "doctor"], env, cwd),
        Command(
            "cudaenv doctor --format json",
            [str(bin_ / "cudaenv"), "doctor", "--format", "json"],
            env,
            cwd,
        ),
        Command(
            "python -m torch.utils.collect_env", [python, "-m", "torch.utils.collect_env"], env, cwd
        ),
        Command("cupy.show_config()", [python, "-c", "import cupy; cupy.show_config()"], env, cwd),
        Command("numba -s", [str(bin_ / "numba"), "-s"], env, cwd),
        Command("cuda-doctor", [str(bin_ / "cuda-doctor")], env, cwd),
        Command("env-doctor check", [str(bin_ / "env-doctor"), "check"], env, cwd),
        Command("rapids doctor", [str(bin_ / "rapids"), "doctor"], env, cwd),
        Command("cuda-pathfinder: cudart, cublas, nvrtc", [python, "-c", PATHFINDER], env, cwd),
        Command("pip list", [python, "-m", "pip", "list"], env, cwd),
        Command("pip inspect", [python, "-m", "pip", "inspect"], env, cwd),
        Command(
            "floor: read every METADATA", [python, "-c", READ_EVERY_METADATA, str(site)], env, cwd
        ),
        Command("floor: python -c pass", [python, "-c", "pass"], env, cwd),
    ]


def which_group(venv: Path) -> list[Command]:
    env, python = venv_environ(venv), str(venv / "bin" / "python")
    cublas = next(venv.glob("lib/python3*/site-packages/nvidia/cublas/lib/libcublas.so.12"))
    return [
        Command(
            "cudaenv which libcublas.so.12",
            [str(venv / "bin" / "cudaenv"), "which", "libcublas.so.12"],
            env,
            venv,
        ),
        Command("ldd libcublas.so.12", ["ldd", str(cublas)], env, venv),
        Command("auditwheel lddtree", [python, "-c", LDDTREE, str(cublas)], env, venv),
        Command("floor: python -c pass", [python, "-c", "pass"], env, venv),
    ]


def archs_group(venv: Path) -> list[Command]:
    env = venv_environ(venv)
    lt = next(venv.glob("lib/python3*/site-packages/nvidia/cublas/lib/libcublasLt.so.12"))
    cuobjdump = next(venv.glob("lib/python3*/site-packages/nvidia/cu*/bin/cuobjdump"))
    return [
        Command(
            "cudaenv archs libcublasLt.so.12",
            [str(venv / "bin" / "cudaenv"), "archs", str(lt)],
            env,
            venv,
        ),
        Command(
            "cuobjdump --list-elf libcublasLt.so.12",
            [str(cuobjdump), "--list-elf", str(lt)],
            env,
            venv,
        ),
    ]


def envs_group(venv: Path, environ: dict[str, str], projects: Path, listing: Path) -> list[Command]:
    from envs_speed import READ_EVERY_RECORD  # noqa: PLC0415 - the same floor as envs_speed.py

    python = str(venv / "bin" / "python")
    return [
        Command("cudaenv envs", [str(venv / "bin" / "cudaenv"), "envs"], environ, projects),
        Command(
            "floor: read+parse every record",
            [python, "-c", READ_EVERY_RECORD, str(listing)],
            environ,
            projects,
        ),
    ]


# -- targets and the report ----------------------------------------------------------------------


class Target(NamedTuple):
    what: str
    ours: str
    theirs: str
    kind: str  # "faster": theirs/ours time >= bound; "memory": ours/theirs peak <= bound;
    #            "within": ours/theirs time <= bound
    bound: float


TARGETS = [
    Target("doctor vs collect_env", FULL_DOCTOR, "python -m torch.utils.collect_env", "faster", 10),
    Target("doctor vs cupy.show_config()", FULL_DOCTOR, "cupy.show_config()", "faster", 3),
    Target(
        "doctor's peak memory vs collect_env's",
        FULL_DOCTOR,
        "python -m torch.utils.collect_env",
        "memory",
        0.25,
    ),
    Target("which vs ldd", "cudaenv which libcublas.so.12", "ldd libcublas.so.12", "within", 10),
    Target(
        "archs vs cuobjdump",
        "cudaenv archs libcublasLt.so.12",
        "cuobjdump --list-elf libcublasLt.so.12",
        "faster",
        20,
    ),
    Target(
        "archs' peak memory vs cuobjdump's",
        "cudaenv archs libcublasLt.so.12",
        "cuobjdump --list-elf libcublasLt.so.12",
        "memory",
        0.05,
    ),
    Target(
        "envs vs reading every record",
        "cudaenv envs",
        "floor: read+parse every record",
        "within",
        1,
    ),
]


def judge(target: Target, results: dict[str, Result]) -> Optional[tuple[float, bool]]:
    ours, theirs = results.get(target.ours), results.get(target.theirs)
    if ours is None or theirs is None:
        return None
    if target.kind == "faster":
        value = theirs.median / ours.median
        return value, value >= target.bound
    if target.kind == "within":
        value = ours.median / theirs.median
        return value, value <= target.bound
    if not (ours.peak_kib and theirs.peak_kib):
        return None
    value = ours.peak_kib / theirs.peak_kib
    return value, value <= target.bound


def group_table(title: str, results: dict[str, Result], reference: str) -> list[str]:
    base = results[reference].median
    lines = [
        f"### {title}",
        "",
        "| command | median s | min–max s | peak MiB | × cudaenv | exit |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        peak = f"{r.peak_kib / 1024:.0f}" if r.peak_kib else "—"
        lines.append(
            f"| `{name}` | {r.median:.3f} | {min(r.seconds):.3f}–{max(r.seconds):.3f} | {peak} "
            f"| {r.median / base:.2f} | {r.status} |"
        )
    return [*lines, ""]


def target_table(results: dict[str, Result]) -> list[str]:
    lines = ["| target | bound | measured | met |", "|---|---:|---:|:---:|"]
    for target in TARGETS:
        verdict = judge(target, results)
        if verdict is None:
            lines.append(f"| {target.what} | | not measured | |")
            continue
        value, met = verdict
        bound = {"faster": f"≥ {target.bound:g}×", "within": f"≤ {target.bound:g}×"}.get(
            target.kind, f"≤ {target.bound:.0%}"
        )
        shown = f"{value:.0%}" if target.kind == "memory" else f"{value:.2f}×"
        lines.append(f"| {target.what} | {bound} | {shown} | {'yes' if met else '**no**'} |")
    return lines


HOW = """To run it yourself: `python benchmarks/run.py` (the first run builds the venv and the
machine under `~/.cache/cudaenv-bench`, several GB of wheels from PyPI; `--cache DIR` puts
them elsewhere, `--venv DIR` measures in a venv you have, `--groups doctor,which,archs,envs`
picks the comparisons, `--runs N` the rounds, `--write FILE` saves this report). Ratios
measured in one run are what count: absolute times move with the machine."""

WHY = """## Where the time goes

- **doctor** (`--gpu-code`: the whole diagnosis, as on a machine with GPUs): the
  interpreter's start (the `python -c pass` floor), importing cudaenv, then reading only
  files: the venv's directory listings, each distribution's `METADATA` header, the ELF
  headers, dynamic sections and symbol versions of the libraries the loader model opens, and
  the fat-binary headers of the frameworks' GPU code. Every peer that reports on a
  framework imports it first (torch: about a second and 220 MiB; CuPy: 300 MiB).
- **which**: `ldd` is the C loader itself resolving the tree; cudaenv is a Python process (the
  floor alone is over 1.5× `ldd`) that also records why each candidate was taken or skipped.
- **archs**: only the fat-binary entry headers are read (a few kilobytes of a 749 MB file);
  `cuobjdump --list-elf` extracts every cubin, hence its 2 GB.
- **envs**: conda-meta file names hold each record's name, version and build, so no record
  is opened; the environments are diagnosed in parallel workers.
""".splitlines()


def versions(venv: Path) -> str:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wanted = {p.split("=")[0] for p in PACKAGES} | {"cudaenv", "pip"}
    found = {p["name"].lower(): p["version"] for p in json.loads(out)}
    return ", ".join(f"{n} {found[n]}" for n in sorted(wanted) if n in found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "cudaenv-bench")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--groups", default="doctor,which,archs,envs")
    parser.add_argument("--envs", type=int, default=100)
    parser.add_argument("--packages", type=int, default=300)
    parser.add_argument("--write", type=Path, help="write the report here (Markdown)")
    parser.add_argument(
        "--venv", type=Path, help="measure in this venv instead of building one (its peers)"
    )
    args = parser.parse_args()
    groups = args.groups.split(",")
    args.cache.mkdir(parents=True, exist_ok=True)
    venv = args.venv.absolute() if args.venv else build_venv(args.cache)
    plan: list[tuple[str, list[Command], str]] = []
    if "doctor" in groups:
        plan.append(("Diagnosing the venv", doctor_group(venv), FULL_DOCTOR))
    if "which" in groups:
        plan.append(
            ("Which file the loader picks", which_group(venv), "cudaenv which libcublas.so.12")
        )
    if "archs" in groups:
        plan.append(
            (
                "GPU architectures in libcublasLt.so.12",
                archs_group(venv),
                "cudaenv archs libcublasLt.so.12",
            )
        )
    if "envs" in groups:
        environ, projects, listing = build_machine(args.cache, args.envs, args.packages)
        plan.append(
            (
                f"Every environment: {args.envs} conda envs × {args.packages} packages",
                envs_group(venv, environ, projects, listing),
                "cudaenv envs",
            )
        )
    results: dict[str, Result] = {}
    report = [
        "# Benchmarks: cudaenv and its peers, in one run",
        "",
        (
            f"`python benchmarks/run.py --runs {args.runs}` on {platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d', time.gmtime())}; no GPU, no driver. Whole processes, "
            "warm page cache, each group's commands interleaved; peak memory from GNU time."
        ),
        "",
        f"The venv: {versions(venv)}.",
        "",
        *HOW.splitlines(),
        "",
    ]
    for title, commands, reference in plan:
        print(f"{title} ...", file=sys.stderr)
        measured = measure(commands, args.runs)
        results.update(measured)
        report += group_table(title, measured, reference)
    report += ["## Targets", "", *target_table(results), "", *WHY]
    text = "\n".join(report)
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
