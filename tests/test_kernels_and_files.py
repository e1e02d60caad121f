"""kernel-other-interpreter and unreadable-file."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys

from worlds import BASE, ML, World, assert_diagnosis, finding, ml_world

KERNELS = "/home/u/.local/share/jupyter/kernels"


def kernel(world: World, name: str, argv0: str, display: str) -> None:
    spec = {
        "argv": [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display,
        "language": "python",
    }
    world.file(f"{KERNELS}/{name}/kernel.json", json.dumps(spec))


def test_kernel_named_for_the_env_runs_base(world: World) -> None:
    ml_world(world)
    kernel(world, "ml", f"{BASE}/bin/python", "Python (ml)")
    report = world.doctor()
    found = finding(report, "kernel-other-interpreter")
    assert found["severity"] == "warning"
    assert any("ipykernel install --user --name ml" in step for step in found["fix"])


def test_kernel_of_a_deleted_interpreter_is_an_error(world: World) -> None:
    ml_world(world)
    kernel(world, "ml-gpu", "/old/envs/ml/bin/python", "Python [conda env:ml]")
    assert finding(world.doctor(), "kernel-other-interpreter")["severity"] == "error"


def test_kernel_named_for_the_env_that_runs_it_is_fine(world: World) -> None:
    ml_world(world)
    kernel(world, "ml", f"{ML}/bin/python", "Python (ml)")
    assert_diagnosis(world.doctor(), max_severity="info")


def test_generic_kernel_of_another_interpreter_is_not_named_for_the_env(world: World) -> None:
    ml_world(world)
    kernel(world, "python3", f"{BASE}/bin/python", "Python 3 (ipykernel)")
    kernel(world, "mlflow-tools", f"{BASE}/bin/python", "MLflow tools")
    assert "kernel-other-interpreter" not in world.codes()


def test_corrupt_kernelspec_becomes_a_finding(world: World) -> None:
    ml_world(world)
    world.file(f"{KERNELS}/broken/kernel.json", "{not json")
    report = world.doctor()
    found = finding(report, "unreadable-file")
    assert any("broken/kernel.json" in e for e in found["evidence"])


def test_symlink_loop_where_a_file_is_expected(world: World) -> None:
    ml_world(world)
    world.link(f"{ML}/pyvenv.cfg", "pyvenv.cfg")  # a link to itself
    report = world.doctor()
    assert any("symlink loop" in e for e in finding(report, "unreadable-file")["evidence"])


PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_permission_bypass() -> None:
    """In the child, before exec: root keeps uid 0 but loses the right to ignore file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_unreadable_conda_meta_becomes_a_finding(world: World) -> None:
    """Permission denied inside the world is a finding, not a crash (run in a child process)."""
    ml_world(world)
    env_file = world.write_env()
    world.real(f"{ML}/conda-meta").chmod(0)
    command = [
        sys.executable,
        "-m",
        "cudaenv",
        "doctor",
        "--root",
        str(world.root),
        "--env-file",
        str(env_file),
        "--format",
        "json",
    ]
    drop = _drop_file_permission_bypass if os.geteuid() == 0 else None
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            preexec_fn=drop,  # the child only calls prctl
            check=False,
            timeout=60,
        )
    finally:
        world.real(f"{ML}/conda-meta").chmod(0o755)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    found = finding(report, "unreadable-file")
    assert any("conda-meta" in e and "Permission denied" in e for e in found["evidence"])
