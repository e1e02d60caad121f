"""Worlds no installer makes but real machines contain: a report, in bounded time, always.

Each world is the usual one (a conda env with a pip-installed CUDA torch and its NVIDIA
wheels, a driver) with one hostile thing where a probe reads: FIFOs and device nodes where
files belong (nothing may block on them or read them), symlink loops, names that are not
UTF-8, sparse files of gigabytes, a site-packages of 100,000 files, directories nobody may
read.  The diagnosis runs as the command a user runs, in a child process with a time limit,
and must exit 0 with a JSON report and no traceback; a problem becomes a finding.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from cudaworld import driver, pip_torch
from realenv import AS_NOBODY
from worlds import BASE, ML, ML_SITE, World, ml_world

# cudaenv with its address space capped at 1 GiB: reading any of the 4 GiB files whole would
# fail with MemoryError (and a traceback) instead of passing unseen.
BOUNDED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from cudaenv._cli import main
sys.exit(main(sys.argv[1:]))
"""
CUDAENV = [sys.executable, "-c", BOUNDED]
LIMIT_S = 60  # far above a normal run (~0.1 s): only a hang reaches it
CUDART = f"{ML_SITE}/nvidia/cuda_runtime/lib/libcudart.so.12"
pytestmark = pytest.mark.slow


def usual(world: World) -> World:
    ml_world(world)
    pip_torch(world, ML_SITE)
    driver(world, "550.54.15", gpus=("NVIDIA H100 80GB HBM3",))
    return world


def diagnose(world: World, *extra: str) -> dict[str, Any]:
    """``cudaenv doctor --format json`` on the world, as a user runs it; the report."""
    world_args = ["--root", str(world.root), "--env-file", str(world.write_env())]
    result = subprocess.run(
        [*CUDAENV, "doctor", "--format", "json", *world_args, *extra],
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        check=False,
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def codes(report: dict[str, Any]) -> set[str]:
    return {f["code"] for f in report["findings"]}


def replace_with(world: World, path: str, make: Callable[[str], None]) -> None:
    real = world.real(path)
    if real.is_symlink() or real.exists():
        real.unlink()
    real.parent.mkdir(parents=True, exist_ok=True)
    make(str(real))


FILES_PROBES_READ = [
    CUDART,
    f"{ML_SITE}/torch/lib/libtorch_cuda.so",
    f"{ML_SITE}/torch-2.5.1.dist-info/METADATA",
    f"{ML}/conda-meta/python-3.11.9-h0_0.json",
    f"{ML}/bin/python3.11",
    "/proc/driver/nvidia/version",
    "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15",
    "/etc/ld.so.cache",
    "/proc/cpuinfo",
    "/home/u/.condarc",
]


@pytest.mark.parametrize("path", FILES_PROBES_READ)
def test_a_fifo_where_a_file_belongs(world: World, path: str) -> None:
    usual(world)
    replace_with(world, path, os.mkfifo)  # opening it to read would wait for a writer
    diagnose(world)


@pytest.mark.skipif(os.geteuid() != 0, reason="making device nodes needs root")
@pytest.mark.parametrize("path", [CUDART, f"{ML}/conda-meta/python-3.11.9-h0_0.json"])
def test_a_device_node_where_a_file_belongs(world: World, path: str) -> None:
    usual(world)
    zero = os.makedev(1, 5)  # /dev/zero: endless bytes to whoever reads
    replace_with(world, path, lambda p: os.mknod(p, stat.S_IFCHR | 0o644, zero))
    diagnose(world)


def test_symlink_loops(world: World) -> None:
    usual(world)
    lib = f"{ML_SITE}/nvidia/cuda_runtime/lib"
    world.real(f"{lib}/libcudart.so.12").unlink()
    world.link(f"{lib}/libcudart.so.12", "libcudart.so.12.loop")
    world.link(f"{lib}/libcudart.so.12.loop", "libcudart.so.12")
    world.link(f"{ML_SITE}/again", ".")  # a directory that contains itself
    world.link("/opt/a", "/opt/b")
    world.link("/opt/b", "/opt/a")
    world.env["LD_LIBRARY_PATH"] = "/opt/a:/opt/b/lib"
    world.env["PYTHONPATH"] = f"{ML_SITE}/again/again/again"
    world.link(f"{BASE}/envs/loop", f"{BASE}/envs/loop")
    report = diagnose(world)
    assert report["findings"]


def test_names_that_are_not_utf8(world: World) -> None:
    usual(world)
    site = os.fsencode(world.real(ML_SITE))
    os.mkdir(site + b"/caf\xe9-1.0.dist-info")
    with open(site + b"/caf\xe9-1.0.dist-info/METADATA", "wb") as handle:
        handle.write(b"Metadata-Version: 2.1\nName: caf\xe9\nVersion: 1.0\n")
    with open(site + b"/\xff\xfe.pth", "wb") as handle:
        handle.write(b"/nowhere\xff\n")
    conda_meta = os.fsencode(world.real(f"{ML}/conda-meta"))
    with open(conda_meta + b"/bad\xff-1.0-0.json", "wb") as handle:
        handle.write(b'{"name": "bad\xff", "version": "1.0"}')
    lib = os.fsencode(world.real(f"{ML_SITE}/nvidia/cuda_runtime/lib"))
    os.symlink(b"libcudart.so.12", lib + b"/libcudart\xe9.so")
    world.env["LD_LIBRARY_PATH"] = "/opt/caf\udce9/lib"
    report = diagnose(world)
    assert "/opt/caf\udce9/lib" in json.dumps(report, ensure_ascii=False)  # as it was
    # in a UTF-8 locale (strict by default), as text and as a snapshot read back
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONUTF8": "0"}
    world_args = ["--root", str(world.root), "--env-file", str(world.write_env())]
    for command in (["doctor"], ["snapshot", "-o", str(world.base / "snap.json")]):
        result = subprocess.run(
            [*CUDAENV, *command, *world_args],
            capture_output=True,
            timeout=LIMIT_S,
            check=False,
            env=env,
        )
        assert result.returncode == 0, result.stderr
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "cudaenv",
            "check",
            str(world.base / "snap.json"),
            "--format",
            "json",
        ],
        capture_output=True,
        timeout=LIMIT_S,
        check=True,
        env=env,
    )
    assert codes(json.loads(checked.stdout)) == codes(report)


GIB = 1 << 30


@pytest.mark.parametrize(
    "path",
    [
        f"{ML_SITE}/torch-2.5.1.dist-info/METADATA",
        f"{ML}/conda-meta/python-3.11.9-h0_0.json",
        "/proc/driver/nvidia/version",
        "/etc/ld.so.cache",
        f"{ML}/pyvenv.cfg",
        CUDART,
    ],
)
def test_files_of_gigabytes(world: World, path: str) -> None:
    """Sparse files: no disk, but 4 GiB to whoever reads them all."""
    usual(world)
    real = world.real(path)
    real.parent.mkdir(parents=True, exist_ok=True)
    with real.open("ab") as handle:
        handle.truncate(4 * GIB)
    diagnose(world)


def test_truncated_files(world: World) -> None:
    """Libraries cut short (a full disk, an interrupted copy) are named; conda-meta records
    are not opened at all (their file names say enough), so cutting them changes nothing."""
    usual(world)
    cut = (CUDART, f"{ML_SITE}/torch/lib/libtorch_cuda.so")
    assert glibc_loads(world.real(CUDART))  # the judge below can tell a good file
    for path in cut:
        real = world.real(path)
        data = real.read_bytes()
        real.write_bytes(data[: len(data) // 3])
    for record in world.real(f"{ML}/conda-meta").glob("*.json"):
        record.write_text(record.read_text()[:17])
    report = diagnose(world)
    [unreadable] = [f for f in report["findings"] if f["code"] == "unreadable-file"]
    named = {line.split(": ", 1)[0] for line in unreadable["evidence"]}
    assert named == set(cut)
    for path in cut:  # the judge: glibc's own loader fails on them too
        assert not glibc_loads(world.real(path))


def glibc_loads(path: Path) -> bool:
    """Whether dlopen() takes the file, asked in a child: on a file cut short the loader may
    crash rather than refuse."""
    code = "import ctypes, sys; ctypes.CDLL(sys.argv[1])"
    loaded = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, timeout=LIMIT_S, check=False
    )
    return loaded.returncode == 0


def test_a_site_packages_of_100000_files(world: World) -> None:
    usual(world)
    package = world.real(f"{ML_SITE}/huge")
    package.mkdir()
    for i in range(100):
        directory = package / f"d{i:03d}"
        directory.mkdir()
        for j in range(1000):
            (directory / f"m{j:04d}.py").touch()
    for i in range(500):
        world.dist(ML_SITE, f"pkg{i}", "1.0")
    report = diagnose(world)
    assert report["target"]["prefix"] == ML


def test_directories_nobody_may_read(tmp_path: Path) -> None:
    world = usual(World(tmp_path / "world"))
    denied = (f"{ML_SITE}/nvidia/cublas", f"{ML}/conda-meta", "/home/u/.conda")
    command = CUDAENV
    if os.geteuid() == 0:
        for parent in [tmp_path, *tmp_path.parents]:  # let 'nobody' reach the world
            parent.chmod(parent.stat().st_mode | 0o005)
        for dirpath, dirnames, filenames in os.walk(world.base):
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                if not os.path.islink(full):
                    os.chmod(full, os.stat(full).st_mode | 0o005)
        command = [sys.executable, "-c", AS_NOBODY]
    for path in denied:
        world.real(path).chmod(0)
    env_file = world.write_env()
    env_file.chmod(0o644)
    world_args = ["--root", str(world.root), "--env-file", str(env_file)]
    result = subprocess.run(
        [*command, "doctor", "--format", "json", *world_args],
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        check=False,
    )
    for path in denied:  # let pytest clean up
        world.real(path).chmod(0o755)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    [unreadable] = [
        f for f in json.loads(result.stdout)["findings"] if f["code"] == "unreadable-file"
    ]
    assert any("Permission denied" in line for line in unreadable["evidence"])
    # a directory that cannot be read is one entry, not every path looked for inside it
    listed = [line.split(": ", 1)[0] for line in unreadable["evidence"]]
    assert not any(p.startswith(d + "/") for p in listed for d in listed)


def test_nul_bytes_in_names(world: World) -> None:
    """A NUL cannot be in a file name, but config lines and env files can hold one (found by
    tests/test_fuzz_worlds.py): such a name is a file that does not exist."""
    usual(world)
    world.file("/etc/ld.so.conf", "/opt/cuda\x00/lib64\n\x00\n")
    world.env["LD_LIBRARY_PATH"] = "/usr/local/cuda\x00/lib64"
    world.env["PYTHONPATH"] = "\x00"
    world.file(f"{ML_SITE}/odd.pth", "/opt/\x00/site\n")
    diagnose(world)


DEEP = "[" * 200_000  # JSON nested beyond what Python's parser follows (RecursionError)


def test_json_nested_beyond_the_parser(world: World, tmp_path: Path) -> None:
    """A kernel.json or a toolkit's version.json that is nothing but brackets: findings (or
    nothing) in the report; an env file or snapshot like that: a one-line error."""
    usual(world)
    world.file("/home/u/.local/share/jupyter/kernels/deep/kernel.json", DEEP)
    world.file("/usr/local/cuda-12.4/version.json", DEEP)
    world.file("/usr/local/cuda-12.4/bin/nvcc", "#!/bin/sh\n")
    report = diagnose(world)
    [unreadable] = [f for f in report["findings"] if f["code"] == "unreadable-file"]
    assert any("kernel.json: not valid JSON" in line for line in unreadable["evidence"])
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    for command in (["doctor", "--env-file", str(deep)], ["check", str(deep)]):
        result = subprocess.run(
            [*CUDAENV, *command], capture_output=True, text=True, timeout=LIMIT_S, check=False
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.endswith("(nested too deeply)\n"), result.stderr
        assert result.stderr.count("\n") == 1


def test_every_command_on_a_world_with_every_hazard(world: World, tmp_path: Path) -> None:
    """which, toolkits, snapshot, check, envs and fix (plan) on one world holding a FIFO,
    loops, names that are not UTF-8, a NUL in ld.so.conf and a 4 GiB sparse file."""
    usual(world)
    replace_with(world, CUDART, os.mkfifo)
    world.link("/opt/a", "/opt/b")
    world.link("/opt/b", "/opt/a")
    world.env["LD_LIBRARY_PATH"] = "/opt/a:/opt/caf\udce9"
    world.file("/etc/ld.so.conf", "/opt/x\x00y\n")
    os.mkdir(os.fsencode(world.real(ML_SITE)) + b"/caf\xe9-1.0.dist-info")
    with world.real(f"{ML_SITE}/torch-2.5.1.dist-info/METADATA").open("ab") as handle:
        handle.truncate(4 * GIB)
    world_args = ["--root", str(world.root), "--env-file", str(world.write_env())]
    snapshot = tmp_path / "snap.json"
    for command in (
        ["which", "libcudart.so.12", "--format", "json"],
        ["which", "libcublas.so.12"],
        ["toolkits", "--format", "json"],
        ["snapshot", "-o", str(snapshot)],
        ["envs", "--format", "json"],
        ["fix", "--format", "json"],
    ):
        result = subprocess.run(
            [*CUDAENV, *command, *world_args],
            capture_output=True,
            timeout=LIMIT_S,
            check=False,
        )
        assert b"Traceback" not in result.stderr, command
        assert result.returncode in (0, 1), (command, result.stderr)
    checked = subprocess.run(
        [*CUDAENV, "check", str(snapshot)], capture_output=True, timeout=LIMIT_S, check=False
    )
    assert checked.returncode == 0, checked.stderr
