"""Real frameworks, installed by real pip into a real venv (opt in: pytest -m integration).

torch 2.13.0 CPU from a wheel on the machine (set CUDAENV_TORCH_WHEEL, default
/opt/wheels/torch-2.13.0+cpu-…whl), cupy-cuda12x and NVIDIA's cu12 runtime wheels from PyPI.
What the files say is compared with what the packages are; the GPU code of CuPy's modules with
cuobjdump; ``--live`` with what the imported frameworks answer.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cudaenv._cli import main
from cudaenv._host import Host
from cudaenv._probes.archs import read_fatbin
from gpucode import cuobjdump, cuobjdump_lists

TORCH_WHEEL = Path(
    os.environ.get(
        "CUDAENV_TORCH_WHEEL", "/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
    )
)
HAS_DRIVER = Path("/proc/driver/nvidia/version").exists()

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TORCH_WHEEL.is_file():
        pytest.skip(f"no torch wheel at {TORCH_WHEEL} (set CUDAENV_TORCH_WHEEL)")
    if f"cp{sys.version_info[0]}{sys.version_info[1]}" not in TORCH_WHEEL.name:
        pytest.skip(f"{TORCH_WHEEL.name} is not for this Python")
    prefix = tmp_path_factory.mktemp("real") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(prefix)], check=True)
    subprocess.run(
        [
            str(prefix / "bin/python"),
            "-m",
            "pip",
            "install",
            "-q",
            str(TORCH_WHEEL),
            "cupy-cuda12x",
            "nvidia-cuda-runtime-cu12",
            "nvidia-cuda-nvrtc-cu12",
            "nvidia-nvjitlink-cu12",
        ],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return prefix


def site(prefix: Path) -> Path:
    return next(prefix.glob("lib/python3.*/site-packages"))


def doctor(prefix: Path, *extra: str) -> dict[str, Any]:
    out = io.StringIO()
    argv = ["doctor", "--python", str(prefix / "bin/python"), "--format", "json", *extra]
    assert main(argv, out) == 0
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def frameworks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in report["facts"]["frameworks"]}


def installed_version(prefix: Path, name: str) -> str:
    return (
        subprocess.run(
            [str(prefix / "bin/python"), "-m", "pip", "show", name],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.split("Version: ", 1)[1]
        .split()[0]
    )


def test_build_facts_of_real_wheels(venv: Path) -> None:
    report = doctor(venv)
    found = frameworks(report)
    torch = found["torch"]
    assert (torch["version"], torch["variant"], torch["variant_from"]) == (
        "2.13.0+cpu",
        "cpu",
        "torch/version.py",
    )
    cupy = found["cupy-cuda12x"]
    assert (cupy["variant"], cupy["cuda"]) == ("cuda", "12")
    assert cupy["version"] == installed_version(venv, "cupy-cuda12x")
    shipped = {lib["name"]: lib for lib in report["facts"]["libraries"]["shipped"]}
    assert shipped["libcudart.so.12"]["version"] == installed_version(
        venv, "nvidia-cuda-runtime-cu12"
    )
    codes = {f["code"]: f for f in report["findings"]}
    # a CPU torch beside CUDA packages: a warning without a driver, an error with one
    assert codes["torch-cpu-build"]["severity"] == ("error" if HAS_DRIVER else "warning")
    if not HAS_DRIVER:
        assert "driver-missing" in codes


def test_cupy_gpu_code_agrees_with_cuobjdump(venv: Path) -> None:
    binary = cuobjdump()
    if binary is None:
        pytest.skip("cuobjdump not found (pip install nvidia-cuda-cuobjdump)")
    modules = sorted((site(venv) / "cupy").rglob("*.so"))
    with_code = []
    for module in modules:
        entries, error = read_fatbin(Host("/", {}), str(module))
        assert error is None, (module, error)
        if entries:
            with_code.append(module)
            ours = (
                [e.name for e in entries if e.kind == "sass"],
                [e.name for e in entries if e.kind == "ptx"],
            )
            assert ours == cuobjdump_lists(binary, module), module
    assert with_code, "CuPy's wheel carries precompiled CUB/Thrust kernels"


def test_torch_cpu_wheel_has_no_gpu_code(venv: Path) -> None:
    out = io.StringIO()
    library = site(venv) / "torch/lib/libtorch_cpu.so"
    assert main(["archs", str(library), "--format", "json"], out) == 0
    answer = json.loads(out.getvalue())["files"][0]
    assert (answer["sass"], answer["ptx"], answer["entries"]) == ([], [], 0)


def test_live_answers_of_real_frameworks(venv: Path) -> None:
    report = doctor(venv, "--live")
    live = {c["subject"]: c for c in report["facts"]["live"]}
    assert set(live) == {"driver", "torch", "cupy"}
    torch = live["torch"]
    assert torch["ok"] is True
    assert torch["answer"]["version"] == "2.13.0+cpu"
    assert torch["answer"]["cuda"] is None
    assert torch["answer"]["available"] is False
    if not HAS_DRIVER:
        assert "libcuda.so.1" in live["driver"]["error"]
        # CuPy imports, then finds no driver: what the files predicted (driver-missing)
        assert live["cupy"]["answer"]["stage"] == "use"
        assert "live-disagrees" not in [f["code"] for f in report["findings"]]
