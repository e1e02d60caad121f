"""Toolkit discovery: every source, what each toolkit holds, which one each consumer picks."""

from __future__ import annotations

from typing import Any

from worlds import ML, World, ml_world


def toolkits(world: World) -> dict[str, dict[str, Any]]:
    return {t["root"]: t for t in world.doctor()["facts"]["toolkits"]}


def choices(world: World) -> dict[str, tuple[str | None, str]]:
    return {
        c["consumer"]: (c["root"], c["rule"]) for c in world.doctor()["facts"]["toolkit_choices"]
    }


def test_system_toolkit_named_by_cuda_home_and_the_usual_link(world: World) -> None:
    world.toolkit("/usr/local/cuda-12.4", "12.4.1")
    world.link("/usr/local/cuda", "cuda-12.4")
    world.env["CUDA_HOME"] = "/usr/local/cuda"
    found = toolkits(world)["/usr/local/cuda-12.4"]
    assert found["version"] == "12.4.1"
    assert found["version_from"] == "version.json"
    assert found["nvcc"] == "/usr/local/cuda-12.4/bin/nvcc"
    assert found["has_include"] is True
    assert found["has_lib64"] is True
    assert "libcudart.so.12" in found["libraries"]
    assert set(found["named_by"]) >= {"CUDA_HOME", "/usr/local/cuda", "/usr/local/cuda-12.4"}
    assert choices(world)["torch"] == ("/usr/local/cuda-12.4", "CUDA_HOME")


def test_old_toolkit_with_version_txt(world: World) -> None:
    world.toolkit("/usr/local/cuda-10.1", "10.1.243", version_file="txt")
    found = toolkits(world)["/usr/local/cuda-10.1"]
    assert (found["version"], found["version_from"]) == ("10.1.243", "version.txt")


def test_version_from_cuda_h_when_there_is_no_version_file(world: World) -> None:
    world.toolkit("/opt/cuda", "12.2.0", version_file=None)
    found = toolkits(world)["/opt/cuda"]
    assert found["version"] == "12.2"
    assert found["version_from"] == "/opt/cuda/include/cuda.h"


def test_conda_cudatoolkit_is_runtime_only(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "cudatoolkit", "11.8.0", "h4ba93d1_13")
    world.file(f"{ML}/lib/libcudart.so.11.8.89", "stand-in\n")
    world.link(f"{ML}/lib/libcudart.so.11.0", "libcudart.so.11.8.89")
    found = toolkits(world)[ML]
    assert found["source"] == "conda-cudatoolkit"
    assert found["nvcc"] is None
    assert found["runtime_headers"] is False
    assert "libcudart.so.11.0" in found["libraries"]
    assert (found["version"], found["version_from"]) == ("11.8.0", "conda-meta:cudatoolkit")


def test_conda_cuda12_targets_layout(world: World) -> None:
    ml_world(world)
    for name, version in (
        ("cuda-version", "12.4"),
        ("cuda-nvcc", "12.4.131"),
        ("cuda-cudart-dev", "12.4.127"),
    ):
        world.conda_record(ML, name, version)
    world.toolkit(ML, "12.4.131", layout="targets", version_file=None)
    found = toolkits(world)[ML]
    assert found["source"] == "conda"
    assert found["has_include"] is False
    assert found["targets_include"] == f"{ML}/targets/x86_64-linux/include"
    assert found["runtime_headers"] is True
    assert found["nvcc"] == f"{ML}/bin/nvcc"
    assert found["nvcc_toolkit"] is None  # bin/nvcc -> targets/<triple>/bin/nvcc is its own


def test_pip_wheels_are_a_partial_toolkit(world: World) -> None:
    ml_world(world)
    site = f"{ML}/lib/python3.11/site-packages"
    world.dist(site, "nvidia-cuda-runtime-cu12", "12.4.127")
    world.file(f"{site}/nvidia/cuda_runtime/lib/libcudart.so.12", "stand-in\n")
    world.file(f"{site}/nvidia/cuda_runtime/include/cuda_runtime.h", "")
    world.dist(site, "nvidia-cuda-nvcc-cu12", "12.4.131")
    world.file(f"{site}/nvidia/cuda_nvcc/bin/ptxas", "stand-in\n", 0o755)
    found = toolkits(world)[f"{site}/nvidia"]
    assert found["source"] == "pip"
    assert found["version"] == "12.4.127"
    assert found["ptxas"] == f"{site}/nvidia/cuda_nvcc/bin/ptxas"
    assert found["nvcc"] is None
    assert choices(world)["xla"] == (f"{site}/nvidia", "pip cuda_nvcc wheel (jax's data dir)")


def test_consumers_follow_their_own_order(world: World) -> None:
    world.toolkit("/usr/local/cuda-12.4", "12.4.1")
    world.link("/usr/local/cuda", "cuda-12.4")
    assert choices(world)["torch"] == ("/usr/local/cuda-12.4", "/usr/local/cuda")
    world.toolkit("/opt/cuda-11.8", "11.8.0")
    world.env["PATH"] = "/opt/cuda-11.8/bin:" + world.env["PATH"]
    assert choices(world)["torch"] == ("/opt/cuda-11.8", "nvcc on PATH")
    world.env["CUDA_PATH"] = "/usr/local/cuda-12.4"
    picked = choices(world)
    assert picked["torch"] == ("/usr/local/cuda-12.4", "CUDA_PATH")
    assert picked["cupy"] == ("/usr/local/cuda-12.4", "CUDA_PATH")
    world.env["CUDA_HOME"] = "/opt/cuda-11.8"
    picked = choices(world)
    assert picked["torch"] == ("/opt/cuda-11.8", "CUDA_HOME")
    assert picked["cupy"] == ("/usr/local/cuda-12.4", "CUDA_PATH")  # CuPy ignores CUDA_HOME


def test_an_nvcc_wrapper_script_belongs_to_the_toolkit_it_execs(world: World) -> None:
    world.toolkit("/usr/local/cuda-13.0", "13.0.88")
    world.file("/usr/local/bin/nvcc", '#!/bin/sh\nexec /usr/local/cuda-13.0/bin/nvcc "$@"\n', 0o755)
    found = toolkits(world)["/usr/local"]
    assert found["nvcc_toolkit"] == "/usr/local/cuda-13.0"
    assert found["nvcc_version"] == "13.0.88"
    assert found["runtime_headers"] is False  # torch would take /usr/local for CUDA_HOME
    assert choices(world)["torch"] == ("/usr/local", "nvcc on PATH")


def test_a_malformed_cuda_home_is_kept_as_written(world: World) -> None:
    world.toolkit("/usr/local/cuda-11.7", "11.7.1")
    world.env["CUDA_HOME"] = ":/usr/local/cuda-11.7"
    assert choices(world)["torch"] == (":/usr/local/cuda-11.7", "CUDA_HOME")
