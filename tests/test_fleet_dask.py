"""``cudaenv fleet --scheduler``: a real Dask cluster whose workers see different machines.

The scheduler and two workers are a real ``LocalCluster`` (processes); more workers are
started the way people start them, ``dask worker ADDRESS``. Every cudaenv command on a
machine diagnoses the world ``CUDAENV_ROOT``/``CUDAENV_ENV_FILE`` name, so each worker here
is a different node of real ELF files (its host name in its ``/etc/hostname``):

- gpu01: the LocalCluster's two workers (one host, collected once), gpu02 and gpu03 alike;
- gpu04: an older libnvJitLink first on LD_LIBRARY_PATH (the odd node);
- a worker whose Python lacks cudaenv, one that is stopped (SIGSTOP: it never answers), and
  one whose CUDAENV_ROOT does not exist (its ``cudaenv snapshot`` fails).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster

from cudaenv._fleetnode import run_bounded
from cudaworld import node_world
from worlds import BASE

TIMEOUT = 5  # seconds per node, as given to --timeout
pytestmark = pytest.mark.slow


def python_without_cudaenv(directory: Path) -> tuple[list[str], dict[str, str]]:
    """An interpreter that has Dask but not cudaenv: site-packages minus cudaenv, without site."""
    directory.mkdir()
    import distributed

    site_packages = Path(distributed.__file__).resolve().parent.parent
    for entry in site_packages.iterdir():
        if entry.name.startswith(("cudaenv", "__editable__", "_cudaenv")) or entry.suffix == ".pth":
            continue
        (directory / entry.name).symlink_to(entry)
    return [sys.executable, "-S"], {"PYTHONPATH": str(directory)}


def start_worker(
    address: str, name: str, python: list[str], env: dict[str, str]
) -> subprocess.Popen[bytes]:
    argv = [*python, "-m", "distributed.cli.dask_worker", address]
    argv += ["--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
    return subprocess.Popen(
        argv,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The scheduler's address, and the address of each worker started by name."""
    base = tmp_path_factory.mktemp("dask-fleet")
    world_env = {}
    for name in ("gpu01", "gpu02", "gpu03", "gpu04"):
        world = node_world(base / name, hostname=name, odd_ld_path=name == "gpu04")
        world_env[name] = {
            "CUDAENV_ROOT": str(world.root),
            "CUDAENV_ENV_FILE": str(world.write_env()),
        }
    plain = [sys.executable]
    lacking = python_without_cudaenv(base / "site-packages-without-cudaenv")
    started = {
        "gpu02": (plain, world_env["gpu02"]),
        "gpu03": (plain, world_env["gpu03"]),
        "gpu04": (plain, world_env["gpu04"]),
        "no-cudaenv": lacking,
        "stopped": (plain, {}),
        "no-root": (plain, {"CUDAENV_ROOT": str(base / "missing")}),
    }
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env=world_env["gpu01"],
    ) as local:
        address = local.scheduler_address
        processes = {name: start_worker(address, name, *how) for name, how in started.items()}
        try:
            with Client(address) as client:  # type: ignore[no-untyped-call]
                client.wait_for_workers(2 + len(started), timeout=120)
                workers = client.sync(client.scheduler.identity)["workers"]
            by_name = {str(info["name"]): addr for addr, info in workers.items()}
            os.kill(processes["stopped"].pid, signal.SIGSTOP)
            yield address, by_name
        finally:
            os.kill(processes["stopped"].pid, signal.SIGCONT)
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                process.wait(timeout=30)


def fleet_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cudaenv", "fleet", *argv],
        capture_output=True,
        text=True,
        timeout=120,  # a hang fails the test instead of the session
        check=False,
    )


def test_the_odd_node_and_every_failing_worker_are_named(
    cluster: tuple[str, dict[str, str]],
) -> None:
    address, workers = cluster
    result = fleet_cli("--scheduler", address, "--timeout", str(TIMEOUT), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no logging from Dask in the user's terminal
    fleet: dict[str, Any] = json.loads(result.stdout)
    # 8 workers: the LocalCluster's two are one node; three workers fail
    assert fleet["nodes"] == 7
    assert [g["nodes"] for g in fleet["groups"]] == [["gpu01", "gpu02", "gpu03"], ["gpu04"]]
    [outlier] = fleet["outliers"]
    assert outlier["node"] == "gpu04"
    differs = "\n".join(outlier["differs"])
    assert "libraries[libnvJitLink.so.12]" in differs
    assert "12.1.105" in differs
    assert "environ.LD_LIBRARY_PATH" in differs
    assert {"symbol-version-missing", "library-shadowed"} <= {
        f["code"] for f in outlier["findings"]
    }
    failed: dict[str, str] = {f["node"]: f["error"] for f in fleet["failed"]}
    assert len(failed) == 3

    def error_of(worker: str) -> str:
        [error] = [e for node, e in failed.items() if workers[worker] in node]
        return error

    assert "cudaenv is not installed in the worker's Python" in error_of("no-cudaenv")
    assert error_of("stopped") == f"no answer within {TIMEOUT} s"
    assert error_of("no-root").startswith("cudaenv snapshot exited with status 2: --root ")
    assert error_of("no-root").endswith("missing: no such directory")
    assert f"stopped ({workers['stopped']})" in failed  # named as the worker was


def test_prefix_is_diagnosed_on_every_node(cluster: tuple[str, dict[str, str]]) -> None:
    """--prefix names one env on every node: conda's base, which has no CUDA library, so
    gpu04's LD_LIBRARY_PATH shadows nothing there and the four nodes are alike."""
    address, _ = cluster
    result = fleet_cli(
        "--scheduler", address, "--timeout", str(TIMEOUT), "--prefix", BASE, "--fail-on", "failed"
    )
    assert result.returncode == 1, result.stderr  # the three failing workers
    lines = result.stdout.splitlines()
    assert lines[0] == "cudaenv fleet — 7 nodes: 4 alike, 0 outliers, 3 failed"
    assert lines[2] == "Majority (4): gpu01, gpu02, gpu03, gpu04"
    assert "no GPU framework" in lines[3]


def test_a_collection_that_outlives_its_timeout_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    answer = asyncio.run(run_bounded([sys.executable, "-c", script], 2))
    assert answer == {"error": "no snapshot within 2 s (the collection was stopped)"}
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_scheduler_file_and_a_cluster_without_workers(tmp_path: Path) -> None:
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=0, processes=True, dashboard_address=":0"
    ) as empty:
        scheduler_file = tmp_path / "scheduler.json"
        scheduler_file.write_text(
            json.dumps({"type": "Scheduler", "address": empty.scheduler_address})
        )
        result = fleet_cli("--scheduler-file", str(scheduler_file), "--timeout", str(TIMEOUT))
    assert result.returncode == 2
    assert result.stderr == (
        f"cudaenv: error: the Dask scheduler at {empty.scheduler_address} has no workers\n"
    )
    missing = fleet_cli("--scheduler-file", str(tmp_path / "missing.json"))
    assert missing.returncode == 2  # Dask itself would wait for the file forever
    assert missing.stderr.endswith("missing.json: no such file\n")


def test_unreachable_scheduler_is_one_line() -> None:
    result = fleet_cli("--scheduler", "tcp://127.0.0.1:9", "--timeout", "2")
    assert result.returncode == 2
    assert result.stderr.startswith("cudaenv: error: cannot reach the Dask scheduler at")
    assert result.stderr.count("\n") == 1


def test_without_dask_the_command_says_which_extra() -> None:
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from cudaenv._cli import main\n"
        "sys.exit(main(['fleet', '--scheduler', 'tcp://127.0.0.1:9']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr == (
        "cudaenv: error: fleet --scheduler needs Dask distributed: python -m pip install "
        "'dask[distributed]'\n"
    )


def test_target_options_need_a_scheduler(tmp_path: Path) -> None:
    result = fleet_cli("--from", str(tmp_path), "--prefix", "/opt/env")
    assert result.returncode == 2
    assert "--prefix and --python go with --scheduler" in result.stderr


def test_what_a_worker_without_a_usable_cudaenv_is_told() -> None:
    from cudaenv._fleetdask import _worker_error

    wrapped = Exception("ModuleNotFoundError(\"No module named 'cudaenv'\")")  # as Dask relays it
    assert _worker_error(wrapped).startswith("cudaenv is not installed in the worker's Python")
    older = ModuleNotFoundError("No module named 'cudaenv._fleetnode'")
    assert _worker_error(older).startswith("the worker's cudaenv is older")
    assert _worker_error(OSError("Timed out during handshake")) == (
        "OSError: Timed out during handshake"
    )
