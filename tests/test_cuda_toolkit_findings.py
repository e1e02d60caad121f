"""Findings about the toolkit builds use: each where it must fire, and its near misses."""

from __future__ import annotations

from cudaworld import driver, place, simple
from worlds import ML, ML_SITE, World, assert_diagnosis, finding, ml_world


def torch_cuda(world: World, cuda: str = "12.1", version: str = "2.3.1") -> None:
    world.dist(ML_SITE, "torch", version)
    world.file(f"{ML_SITE}/torch/version.py", f"__version__ = '{version}'\ncuda = '{cuda}'\n")


# -- cuda-home-invalid --------------------------------------------------------------------------


def test_cuda_home_with_a_leading_colon(world: World) -> None:
    ml_world(world)
    world.toolkit("/usr/local/cuda-11.7", "11.7.1")
    world.env["CUDA_HOME"] = ":/usr/local/cuda-11.7"
    found = finding(world.doctor(), "cuda-home-invalid")
    assert "path list" in found["detail"]
    assert "export CUDA_HOME=/usr/local/cuda-11.7" in found["fix"]


def test_cuda_home_without_nvcc_or_missing(world: World) -> None:
    ml_world(world)
    world.env["CUDA_HOME"] = "/usr"
    assert "has no bin/nvcc" in finding(world.doctor(), "cuda-home-invalid")["detail"]
    world.env["CUDA_HOME"] = "/opt/cuda-gone"
    found = finding(world.doctor(), "cuda-home-invalid")
    assert "does not exist" in found["detail"]
    assert found["fix"] == ["unset CUDA_HOME"]


def test_a_valid_cuda_home(world: World) -> None:
    ml_world(world)
    world.toolkit("/usr/local/cuda-12.4", "12.4.1")
    world.env["CUDA_HOME"] = "/usr/local/cuda-12.4/"
    assert_diagnosis(world.doctor(), max_severity="info")


# -- toolkit-runtime-only -----------------------------------------------------------------------


def cudatoolkit_env(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "cudatoolkit", "11.8.0", "h4ba93d1_13")
    world.conda_record(ML, "pytorch", "2.0.1", "py3.11_cuda11.8_cudnn8.7.0_0")
    world.file(f"{ML}/lib/libcudart.so.11.8.89", "stand-in\n")
    world.link(f"{ML}/lib/libcudart.so.11.0", "libcudart.so.11.8.89")
    world.dist(ML_SITE, "torch", "2.0.1", installer="conda")
    world.file(f"{ML_SITE}/torch/version.py", "cuda = '11.8'\n")


def test_conda_cudatoolkit_without_nvcc_anywhere(world: World) -> None:
    """B01: `cudatoolkit` has runtime libraries only; building apex finds no nvcc."""
    cudatoolkit_env(world)
    report = world.doctor()
    found = finding(report, "toolkit-runtime-only")
    assert found["severity"] == "info"  # conda torch's runtime; nothing asks for a build
    assert "conda install -n ml -c nvidia cuda-nvcc=11.8 cuda-cudart-dev=11.8" in found["fix"]
    world.env["CUDA_HOME"] = ML  # the user is trying to build against it
    report = world.doctor()
    assert finding(report, "toolkit-runtime-only")["severity"] == "error"
    assert "cuda-home-invalid" in [f["code"] for f in report["findings"]]


def test_conda_cudatoolkit_with_a_system_nvcc_is_fine(world: World) -> None:
    cudatoolkit_env(world)
    world.toolkit("/usr/local/cuda-11.8", "11.8.0")
    world.link("/usr/local/cuda", "cuda-11.8")
    assert "toolkit-runtime-only" not in world.codes()


def test_pip_runtime_wheels_alone_are_not_a_finding(world: World) -> None:
    ml_world(world)
    torch_cuda(world, "12.4", "2.5.1")
    world.dist(ML_SITE, "nvidia-cuda-runtime-cu12", "12.4.127")
    # a small ELF stand-in with the real SONAME (a text file would be a broken library)
    place(world, f"{ML_SITE}/nvidia/cuda_runtime/lib/libcudart.so.12", simple("libcudart.so.12"))
    driver(world)
    assert_diagnosis(world.doctor(), must_not=["toolkit-runtime-only"], max_severity="info")


# -- toolkit-incomplete -------------------------------------------------------------------------


def test_conda_nvcc_without_cudart_dev(world: World) -> None:
    """B02: cuda-nvcc installed, cuda_runtime.h nowhere."""
    ml_world(world)
    world.conda_record(ML, "cuda-nvcc", "12.4.131")
    world.toolkit(ML, "12.4.131", layout="targets", headers=False, version_file=None)
    world.env["CUDA_HOME"] = ML
    found = finding(world.doctor(), "toolkit-incomplete")
    assert "cuda_runtime.h" in found["detail"]
    assert "conda install -n ml -c nvidia cuda-cudart-dev=12.4" in found["fix"]


def test_an_nvcc_wrapper_in_usr_local_bin(world: World) -> None:
    ml_world(world)
    world.toolkit("/usr/local/cuda-13.0", "13.0.88")
    world.file("/usr/local/bin/nvcc", '#!/bin/sh\nexec /usr/local/cuda-13.0/bin/nvcc "$@"\n', 0o755)
    world.env["PATH"] += ":/usr/local/bin"
    report = world.doctor()
    found = finding(report, "toolkit-incomplete")
    assert "belongs to /usr/local/cuda-13.0" in found["detail"]
    assert "export CUDA_HOME=/usr/local/cuda-13.0" in found["fix"]


def test_a_complete_toolkit_is_not_incomplete(world: World) -> None:
    ml_world(world)
    world.toolkit("/usr/local/cuda-12.4", "12.4.1")
    world.env["PATH"] = "/usr/local/cuda-12.4/bin:" + world.env["PATH"]
    assert "toolkit-incomplete" not in world.codes()


# -- cuda-home-targets-layout --------------------------------------------------------------------


def test_cuda_home_on_a_conda_cuda12_prefix(world: World) -> None:
    ml_world(world)
    for name, version in (("cuda-nvcc", "12.4.131"), ("cuda-cudart-dev", "12.4.127")):
        world.conda_record(ML, name, version)
    world.toolkit(ML, "12.4.131", layout="targets", version_file=None)
    world.env["CUDA_HOME"] = ML
    report = world.doctor()
    found = finding(report, "cuda-home-targets-layout")
    assert found["severity"] == "warning"
    assert f"{ML}/targets/x86_64-linux/include holds cuda_runtime.h" in found["evidence"]
    assert "toolkit-incomplete" not in [f["code"] for f in report["findings"]]


def test_cuda_home_on_a_classic_toolkit_is_fine(world: World) -> None:
    ml_world(world)
    world.toolkit("/usr/local/cuda-12.4", "12.4.1")
    world.env["CUDA_HOME"] = "/usr/local/cuda-12.4"
    assert "cuda-home-targets-layout" not in world.codes()


# -- toolkit-framework-mismatch ------------------------------------------------------------------


def test_old_system_toolkit_for_a_cuda12_torch(world: World) -> None:
    """B05: CUDA_HOME is a 10.1 toolkit, torch is cu121."""
    ml_world(world)
    torch_cuda(world, "12.1")
    world.toolkit("/usr/local/cuda-10.1", "10.1.243", version_file="txt")
    world.toolkit("/usr/local/cuda-12.1", "12.1.1")
    world.env["CUDA_HOME"] = "/usr/local/cuda-10.1"
    report = world.doctor()
    assert_diagnosis(
        report, must=["toolkit-framework-mismatch"], primary="toolkit-framework-mismatch"
    )
    found = finding(report, "toolkit-framework-mismatch")
    assert "export CUDA_HOME=/usr/local/cuda-12.1    # CUDA 12.1.1" in found["fix"]
    assert any("whl/cu101" in step for step in found["fix"])


def test_same_major_other_minor_is_fine(world: World) -> None:
    ml_world(world)
    torch_cuda(world, "12.1")
    world.toolkit("/usr/local/cuda-12.4", "12.4.1")
    world.env["CUDA_HOME"] = "/usr/local/cuda-12.4"
    assert "toolkit-framework-mismatch" not in world.codes()


def test_the_nvcc_on_path_decides_without_cuda_home(world: World) -> None:
    ml_world(world)
    torch_cuda(world, "12.1")
    world.toolkit("/usr/local/cuda-11.8", "11.8.0")
    world.env["PATH"] = "/usr/local/cuda-11.8/bin:" + world.env["PATH"]
    found = finding(world.doctor(), "toolkit-framework-mismatch")
    assert "(nvcc on PATH)" in found["detail"]


# -- nvcc-cuda-home-mismatch ---------------------------------------------------------------------


def test_nvcc_on_path_and_cuda_home_disagree(world: World) -> None:
    ml_world(world)
    world.toolkit("/usr/local/cuda-11.8", "11.8.0")
    world.toolkit("/usr/local/cuda-12.4", "12.4.1")
    world.env["PATH"] = "/usr/local/cuda-11.8/bin:" + world.env["PATH"]
    world.env["CUDA_HOME"] = "/usr/local/cuda-12.4"
    found = finding(world.doctor(), "nvcc-cuda-home-mismatch")
    assert found["severity"] == "error"
    world.env["PATH"] = "/usr/local/cuda-12.4/bin:" + world.env["PATH"]
    assert "nvcc-cuda-home-mismatch" not in world.codes()


# -- cuda-home-unset -----------------------------------------------------------------------------


def test_env_toolkit_found_anyway_is_a_note(world: World) -> None:
    ml_world(world)
    for name, version in (("cuda-nvcc", "12.4.131"), ("cuda-cudart-dev", "12.4.127")):
        world.conda_record(ML, name, version)
    world.toolkit(ML, "12.4.131", layout="targets", version_file=None)
    found = finding(world.doctor(), "cuda-home-unset")
    assert found["severity"] == "info"
    assert f"conda env config vars set CUDA_HOME={ML} -n ml" in found["fix"]


def test_only_toolkit_not_found_by_torch_is_an_error(world: World) -> None:
    ml_world(world)
    world.toolkit("/opt/cuda-12.4", "12.4.1")  # no /usr/local/cuda link, nvcc not on PATH
    # nobody here builds: a note
    assert finding(world.doctor(), "cuda-home-unset")["severity"] == "info"
    torch_cuda(world, "12.4", "2.5.1")  # a CUDA torch's cpp_extension would find nothing
    assert finding(world.doctor(), "cuda-home-unset")["severity"] == "warning"
    world.dist(ML_SITE, "deepspeed", "0.15.1")  # JIT-builds its ops: the build is the goal
    found = finding(world.doctor(), "cuda-home-unset")
    assert found["severity"] == "error"
    assert "export CUDA_HOME=/opt/cuda-12.4" in found["fix"]


def test_an_incomplete_toolkit_speaks_for_the_builds_in_sight(world: World) -> None:
    """This build machine's case: an nvcc wrapper in /usr/local/bin, no headers under
    /usr/local.  A CPU torch has no CUDA cpp_extension: nothing above info."""
    ml_world(world)
    world.toolkit("/usr/local/cuda-13.0", "13.0.88")
    world.file("/usr/local/bin/nvcc", '#!/bin/sh\nexec /usr/local/cuda-13.0/bin/nvcc "$@"\n', 0o755)
    world.env["PATH"] += ":/usr/local/bin"
    world.dist(ML_SITE, "torch", "2.13.0+cpu")
    world.file(f"{ML_SITE}/torch/version.py", "__version__ = '2.13.0+cpu'\ncuda = None\n")
    assert_diagnosis(world.doctor(), max_severity="info")
    torch_cuda(world, "13.0", "2.13.0")
    assert finding(world.doctor(), "toolkit-incomplete")["severity"] == "warning"
    world.env["CUDA_HOME"] = "/usr/local"
    assert finding(world.doctor(), "toolkit-incomplete")["severity"] == "error"


def test_two_toolkits_and_none_in_the_env_is_not_cuda_home_unset(world: World) -> None:
    ml_world(world)
    world.toolkit("/opt/a/cuda-12.4", "12.4.1")
    world.toolkit("/opt/b/cuda-11.8", "11.8.0")
    assert "cuda-home-unset" not in world.codes()


# -- stale-path-entry ----------------------------------------------------------------------------


def test_ld_library_path_naming_a_removed_toolkit(world: World) -> None:
    ml_world(world)
    world.env["LD_LIBRARY_PATH"] = "/usr/local/cuda-10.2/lib64"
    world.env["PATH"] += ":/usr/local/sbin:/usr/games"  # standard entries: not reported
    found = finding(world.doctor(), "stale-path-entry")
    assert found["severity"] == "info"
    assert found["evidence"] == ["LD_LIBRARY_PATH: /usr/local/cuda-10.2/lib64"]


def runtime_image(world: World) -> None:
    """NVIDIA's CUDA *runtime* image (dist/12.4.1/ubuntu2204/runtime): cuda-cudart and
    cuda-libraries under /usr/local/cuda-12.4, no nvcc, no headers; its ENV lines."""
    from cudaworld import pip_torch

    world.system_python("3.10")
    world.file("/.dockerenv", "")
    for lib in ("libcudart.so.12", "libcublas.so.12"):
        place(world, f"/usr/local/cuda-12.4/targets/x86_64-linux/lib/{lib}", simple(lib))
    world.link("/usr/local/cuda-12.4/lib64", "targets/x86_64-linux/lib")
    world.link("/usr/local/cuda", "cuda-12.4")
    world.env.update(
        PATH="/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:"
        "/usr/sbin:/usr/bin:/sbin:/bin",
        LD_LIBRARY_PATH="/usr/local/nvidia/lib:/usr/local/nvidia/lib64",
        CUDA_VERSION="12.4.1",
        NVIDIA_VISIBLE_DEVICES="all",
        NVIDIA_DRIVER_CAPABILITIES="compute,utility",
    )
    pip_torch(world, "/usr/local/lib/python3.10/dist-packages", torch_cuda="12.4")
    driver(world, "550.54.15", gpus=("NVIDIA A100-SXM4-80GB",))


def test_a_runtime_image_running_what_it_ships_is_healthy(world: World) -> None:
    runtime_image(world)
    report = world.doctor()
    assert_diagnosis(report, must=["toolkit-runtime-only"], max_severity="info")
    assert "stale-path-entry" not in [f["code"] for f in report["findings"]]  # the image's ENV


def test_a_build_in_a_runtime_image_is_an_error(world: World) -> None:
    runtime_image(world)
    world.env["CUDA_HOME"] = "/usr/local/cuda"
    found = finding(world.doctor(), "toolkit-runtime-only")
    assert found["severity"] == "error"
    assert any("cuda-minimal-build-12-4" in step for step in found["fix"])


def test_cuda_home_naming_a_runtime_wheel_is_one_finding(world: World) -> None:
    """One cause, one finding: CUDA_HOME=.../nvidia/cuda_runtime has headers and libraries but
    no nvcc; not three findings that contradict each other about its headers."""
    from cudaworld import pip_torch

    ml_world(world)
    pip_torch(world, ML_SITE)
    driver(world)
    wheel = f"{ML_SITE}/nvidia/cuda_runtime"
    for header in ("cuda_runtime.h", "cuda_runtime_api.h"):
        world.file(f"{wheel}/include/{header}", "/* header */\n")
    world.env["CUDA_HOME"] = wheel
    report = world.doctor()
    assert [f["code"] for f in report["findings"] if f["severity"] != "info"] == [
        "cuda-home-invalid"
    ]
    found = finding(report, "cuda-home-invalid")
    assert "NVIDIA's pip wheels" in found["detail"]
    assert found["fix"][0] == "unset CUDA_HOME"


def test_an_nvcc_that_came_as_a_dependency_is_no_build_in_sight(world: World) -> None:
    """A conda env whose nvcc came with cuda-nvcc-tools (pulled in for ptxas), no headers,
    nothing that builds: a note. Installing cuda-nvcc itself says a build is meant."""
    ml_world(world)
    world.conda_record(ML, "cuda-nvcc-tools", "12.4.131")
    world.toolkit(ML, "12.4.131", layout="targets", headers=False, version_file=None)
    assert finding(world.doctor(), "toolkit-incomplete")["severity"] == "info"
    world.conda_record(ML, "cuda-nvcc", "12.4.131")
    assert finding(world.doctor(), "toolkit-incomplete")["severity"] == "error"
