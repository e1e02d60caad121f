"""`cudaenv pip`: the pip command for this driver and these GPUs, on worlds (--dry-run) and on
a real venv with real pip installing local wheels."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stderr
from pathlib import Path

import pytest

from cudaenv._cli import main
from cudaworld import driver, pip_torch
from realenv import build_wheel, make_venv
from worlds import ML, ML_SITE, World, ml_world


def dry_run(world: World, *pip_args: str) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["pip", "--root", str(world.root), "--env-file", str(world.write_env()), "--dry-run"]
    with redirect_stderr(err):
        assert main([*argv, *pip_args], out) == 0, err.getvalue()
    return out.getvalue().splitlines(), err.getvalue()


@pytest.mark.parametrize(
    ("driver_version", "gpu", "index"),
    [
        ("570.86.10", "NVIDIA GeForce RTX 5090", "cu128"),  # Blackwell sm_120: 12.8 or newer
        ("580.65.06", "NVIDIA GeForce GTX 1080 Ti", "cu126"),  # Pascal: dropped after cu126
        ("580.65.06", "NVIDIA H100 80GB HBM3", "cu130"),
        ("535.104.05", "NVIDIA A100-SXM4-80GB", "cu126"),  # R535: the nearest build above 12.2
        ("470.82.01", "Tesla T4", "cu118"),
    ],
)
def test_torch_index_fits_driver_and_gpu(
    world: World, driver_version: str, gpu: str, index: str
) -> None:
    ml_world(world)
    driver(world, driver_version, gpus=(gpu,))
    lines, notes = dry_run(world, "install", "torch", "torchvision")
    assert lines == [
        (
            f"{ML}/bin/python -m pip install --index-url "
            f"https://download.pytorch.org/whl/{index} torch torchvision"
        )
    ]
    assert f"driver {driver_version}" in notes


def test_no_driver_gets_the_cpu_build(world: World) -> None:
    ml_world(world)
    lines, notes = dry_run(world, "install", "torch")
    assert lines[0].endswith("--index-url https://download.pytorch.org/whl/cpu torch")
    assert "no NVIDIA driver" in notes


def test_torch_and_others_are_two_commands(world: World) -> None:
    ml_world(world)
    driver(world, "550.54.14")
    lines, _ = dry_run(world, "install", "-U", "torch==2.5.1", "numpy<2")
    assert lines == [
        (
            f"{ML}/bin/python -m pip install -U --index-url https://download.pytorch.org/whl/cu124 "
            "torch==2.5.1"
        ),
        f"{ML}/bin/python -m pip install -U 'numpy<2'",
    ]


def test_an_explicit_index_is_respected(world: World) -> None:
    ml_world(world)
    driver(world)
    lines, _ = dry_run(
        world, "install", "torch", "--index-url", "https://download.pytorch.org/whl/cu118"
    )
    assert lines == [
        f"{ML}/bin/python -m pip install --index-url https://download.pytorch.org/whl/cu118 torch"
    ]


@pytest.mark.parametrize(
    ("driver_version", "gpu", "cupy", "jax"),
    [
        ("550.54.14", "NVIDIA GeForce RTX 4090", "cupy-cuda12x", "jax[cuda12]"),
        ("580.65.06", "NVIDIA H100 80GB HBM3", "cupy-cuda13x", "jax[cuda13]"),
        ("580.65.06", "NVIDIA GeForce GTX 1080 Ti", "cupy-cuda12x", "jax[cuda12]"),  # no 13 for 6.1
        ("470.82.01", "Tesla T4", "cupy-cuda11x", "jax"),
    ],
)
def test_cupy_and_jax_variants(
    world: World, driver_version: str, gpu: str, cupy: str, jax: str
) -> None:
    ml_world(world)
    driver(world, driver_version, gpus=(gpu,))
    lines, _ = dry_run(world, "install", "cupy", "jax>=0.4.30")
    jax_spec = f"{jax}>=0.4.30"
    quoted = f"'{jax_spec}'"
    assert lines == [f"{ML}/bin/python -m pip install {cupy} {quoted}"]


def test_cupy_without_a_driver_goes_by_the_toolkit_or_says_why(world: World) -> None:
    """A build node: no driver, a CUDA 12.4 toolkit at /usr/local/cuda -> cupy-cuda12x.
    With neither, `cupy` stays (PyPI's cupy is a source build) and the note says why."""
    ml_world(world)
    lines, notes = dry_run(world, "install", "cupy")
    assert lines == [f"{ML}/bin/python -m pip install cupy"]
    assert "PyPI's `cupy` is a source build" in notes
    world.toolkit("/usr/local/cuda-12.4", "12.4.1")
    world.link("/usr/local/cuda", "cuda-12.4")
    lines, notes = dry_run(world, "install", "cupy")
    assert lines == [f"{ML}/bin/python -m pip install cupy-cuda12x"]
    assert "no driver here; the CUDA of /usr/local/cuda-12.4" in notes


def test_source_builds_get_a_matching_toolkit_and_no_isolation(world: World) -> None:
    ml_world(world)
    pip_torch(world, ML_SITE)  # CUDA 12.4
    driver(world)
    world.toolkit("/usr/local/cuda-11.8", "11.8.0")
    world.toolkit("/usr/local/cuda-12.4", "12.4.1")
    world.env["CUDA_HOME"] = "/usr/local/cuda-11.8"
    lines, notes = dry_run(world, "install", "flash-attn")
    assert lines == [
        (
            f"CUDA_HOME=/usr/local/cuda-12.4 {ML}/bin/python -m pip install --no-build-isolation "
            "flash-attn"
        )
    ]
    assert "toolkit of torch's CUDA major" in notes


def test_nvidia_wheels_take_the_frameworks_pin(world: World) -> None:
    ml_world(world)
    pip_torch(world, ML_SITE)
    driver(world)
    lines, _ = dry_run(world, "install", "nvidia-cudnn-cu12")
    assert lines == [f"{ML}/bin/python -m pip install nvidia-cudnn-cu12==9.1.0.70"]


def test_other_pip_commands_pass_through(world: World) -> None:
    ml_world(world)
    lines, _ = dry_run(world, "list", "--format", "json")
    assert lines == [f"{ML}/bin/python -m pip list --format json"]


def test_running_a_world_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    ml_world(world)
    argv = ["pip", "--root", str(world.root), "--env-file", str(world.write_env()), "install", "x"]
    assert main(argv, io.StringIO()) == 2
    assert "can only --dry-run" in capsys.readouterr().err


def test_real_pip_installs_into_the_target_despite_pip_target(tmp_path: Path) -> None:
    """The environment's own pip, with the plan's corrections: PIP_TARGET no longer redirects."""
    wheels = tmp_path / "wheels"
    build_wheel(wheels, "tiny-package", "1.0")
    prefix = make_venv(tmp_path / "venv")
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{prefix}/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": str(prefix),
        "PIP_TARGET": str(tmp_path / "elsewhere"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "cudaenv", "pip", "install", "-q", "tiny-package"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    site = next(prefix.glob("lib/python*/site-packages"))
    assert (site / "tiny_package-1.0.dist-info").is_dir()
    assert not (tmp_path / "elsewhere").exists()
