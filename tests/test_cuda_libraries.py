"""Loader-based findings on worlds of real ELF files: library-missing, library-shadowed,
symbol-version-missing, driver-stub-shadowing; and the wheel-metadata findings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cudaworld import driver, pip_torch, place, simple, system_nvjitlink
from elfbuild import HAVE_GCC
from worlds import ML_SITE, World, assert_diagnosis, finding, ml_world

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="needs gcc to build ELF files")


def torch_world(world: World, **kwargs: object) -> World:
    ml_world(world)
    pip_torch(world, ML_SITE, **kwargs)  # type: ignore[arg-type]
    return world


def test_healthy_pip_torch_resolves_everything_from_its_wheels(world: World) -> None:
    torch_world(world)
    driver(world)
    report = world.doctor()
    assert_diagnosis(report, max_severity="info")
    trees = {t["consumer"]: t for t in report["facts"]["libraries"]["trees"]}
    torch = {o["name"]: o for o in trees["torch"]["objects"]}
    assert torch["libcublasLt.so.12"]["path"] == f"{ML_SITE}/nvidia/cublas/lib/libcublasLt.so.12"
    assert torch["libcublas.so.12"]["via"] == "rpath"
    assert torch["libcublas.so.12"]["owner"] == "pip nvidia-cublas-cu12"
    assert torch["libcublas.so.12"]["version"] == "12.4.5.8"


def test_older_nvjitlink_on_ld_library_path_breaks_cusparse(world: World) -> None:
    """C03: an older libnvJitLink.so.12 (CUDA 12.1) on LD_LIBRARY_PATH."""
    torch_world(world)
    libdir = system_nvjitlink(world, "/usr/local/cuda-12.1", [1], "12.1.105")
    world.env["LD_LIBRARY_PATH"] = libdir
    report = world.doctor()
    assert_diagnosis(
        report,
        must=["symbol-version-missing", "library-shadowed"],
        primary="symbol-version-missing",
    )
    found = finding(report, "symbol-version-missing")
    assert any(
        "__nvJitLinkComplete_12_4, version libnvJitLink.so.12" in e for e in found["evidence"]
    )
    assert "unset LD_LIBRARY_PATH" in found["fix"]
    shadowed = finding(report, "library-shadowed")
    assert shadowed["severity"] == "warning"
    assert any("12.1.105" in e and "older" in e for e in shadowed["evidence"])


def test_newer_system_cuda_on_ld_library_path_is_no_symbol_problem(world: World) -> None:
    torch_world(world)
    driver(world)
    libdir = system_nvjitlink(world, "/usr/local/cuda-12.6", [1, 4, 6], "12.6.77")
    world.env["LD_LIBRARY_PATH"] = libdir
    report = world.doctor()
    assert_diagnosis(report, must_not=["symbol-version-missing"], max_severity="info")
    assert finding(report, "library-shadowed")["severity"] == "info"


def test_torch_without_its_nvidia_wheels(world: World) -> None:
    """C11: torch installed with --no-deps."""
    torch_world(world, wheels=False)
    report = world.doctor()
    assert_diagnosis(
        report,
        must=["cuda-wheel-requirements-unmet", "library-missing"],
        primary="cuda-wheel-requirements-unmet",
    )
    missing = finding(report, "library-missing")
    assert "libcudart.so.12" in missing["title"]
    assert any("nvidia-cuda-runtime-cu12==12.4.127" in step for step in missing["fix"])


def test_a_wheel_at_the_wrong_version_is_a_warning(world: World) -> None:
    torch_world(world)
    for info in world.real(ML_SITE).glob("nvidia_cudnn_cu12-*.dist-info"):
        for child in info.iterdir():
            child.unlink()
        info.rmdir()
    world.dist(ML_SITE, "nvidia-cudnn-cu12", "9.5.0.50")
    found = finding(world.doctor(), "cuda-wheel-requirements-unmet")
    assert found["severity"] == "warning"
    assert any("9.5.0.50 installed" in e for e in found["evidence"])


def test_stub_libcuda_on_ld_library_path(world: World) -> None:
    torch_world(world)
    stubs = "/usr/local/cuda-12.4/lib64/stubs"
    place(world, f"{stubs}/libcuda.so", simple("libcuda.so.1", "cuInit"))
    world.link(f"{stubs}/libcuda.so.1", "libcuda.so")  # the fatal "fix" people apply
    place(world, "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14", simple("libcuda.so.1", "cuInit"))
    world.link("/usr/lib/x86_64-linux-gnu/libcuda.so.1", "libcuda.so.550.54.14")
    world.env["LD_LIBRARY_PATH"] = stubs
    report = world.doctor()
    assert_diagnosis(report, must=["driver-stub-shadowing"], primary="driver-stub-shadowing")
    world.env.pop("LD_LIBRARY_PATH")
    world.env["LIBRARY_PATH"] = stubs  # link time only: harmless
    assert "driver-stub-shadowing" not in world.codes()


def test_cupy_without_nvrtc(world: World) -> None:
    """C13: cupy-cuda12x on a machine with no CUDA 12 NVRTC in the loader's reach."""
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda12x", "13.3.0")
    found = finding(world.doctor(), "library-missing")
    assert "libnvrtc.so.12" in found["title"]
    assert any("opened by name (dlopen) at run time by cupy" in e for e in found["evidence"])
    # the fix that brings NVRTC, not only "reinstall with its dependencies"
    assert "python -m pip install nvidia-cuda-nvrtc-cu12" in " ".join(found["fix"])


def cuda_wheels(world: World) -> None:
    """CuPy's [ctk] extra: the CUDA runtime and NVRTC wheels."""
    world.dist(ML_SITE, "nvidia-cuda-nvrtc-cu12", "12.9.86")
    place(world, f"{ML_SITE}/nvidia/cuda_nvrtc/lib/libnvrtc.so.12", simple("libnvrtc.so.12"))
    world.dist(ML_SITE, "nvidia-cuda-runtime-cu12", "12.9.79")
    place(world, f"{ML_SITE}/nvidia/cuda_runtime/lib/libcudart.so.12", simple("libcudart.so.12"))


def test_cupy_13_does_not_look_in_the_nvrtc_wheel(world: World) -> None:
    """CuPy <= 13 dlopen()s NVRTC by name: a wheel's copy is not on the loader's path."""
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda12x", "13.3.0")
    cuda_wheels(world)
    assert "libnvrtc.so.12" in finding(world.doctor(), "library-missing")["title"]
    world.env["LD_LIBRARY_PATH"] = (  # the documented fix
        f"{ML_SITE}/nvidia/cuda_nvrtc/lib:{ML_SITE}/nvidia/cuda_runtime/lib"
    )
    assert "library-missing" not in world.codes()


def test_cupy_14_finds_nvrtc_in_the_wheels(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda12x", "14.0.1")
    cuda_wheels(world)
    report = world.doctor()
    assert "library-missing" not in [f["code"] for f in report["findings"]]
    nvrtc = next(
        o for o in report["facts"]["libraries"]["opened_by_name"] if o["name"] == "libnvrtc.so.12"
    )
    assert nvrtc["via"] == "pathfinder"


def test_mixed_cuda_wheel_families(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "nvidia-cuda-runtime-cu11", "11.8.89")
    world.dist(ML_SITE, "nvidia-cuda-runtime-cu12", "12.1.105")
    assert finding(world.doctor(), "mixed-cuda-wheel-families")["severity"] == "error"


def test_cuda12_and_suffixless_cuda13_wheels_without_a_clash(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "nvidia-cudnn-cu12", "9.1.0.70")
    world.dist(ML_SITE, "nvidia-cublas", "13.1.0.3")
    assert finding(world.doctor(), "mixed-cuda-wheel-families")["severity"] == "warning"


def test_one_cuda_family_is_fine(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "nvidia-cuda-runtime-cu12", "12.4.127")
    world.dist(ML_SITE, "nvidia-cudnn-cu12", "9.1.0.70")
    world.dist(ML_SITE, "nvidia-cufft-cu12", "11.2.1.3")
    assert "mixed-cuda-wheel-families" not in world.codes()


def test_frameworks_needing_different_cudnn_majors(world: World) -> None:
    """E07-like: torch pins cuDNN 9, TensorFlow 2.15 pins cuDNN 8.9."""
    ml_world(world)
    world.dist(ML_SITE, "torch", "2.5.1", requires=["nvidia-cudnn-cu12==9.1.0.70"])
    world.dist(
        ML_SITE,
        "tensorflow",
        "2.15.1",
        requires=["nvidia-cudnn-cu12==8.9.4.25; extra == 'and-cuda'"],
    )
    world.dist(ML_SITE, "tensorflow-and-cuda-pins", "1.0", requires=["nvidia-cudnn-cu12==8.9.4.25"])
    world.dist(ML_SITE, "nvidia-cudnn-cu12", "9.1.0.70")
    report = world.doctor()
    assert "cudnn-version-mismatch" in [f["code"] for f in report["findings"]]


def test_frameworks_agreeing_on_cudnn_9(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "torch", "2.5.1", requires=["nvidia-cudnn-cu12==9.1.0.70"])
    world.dist(ML_SITE, "jax-cuda12-plugin", "0.4.35", requires=["nvidia-cudnn-cu12>=9.1,<10.0"])
    world.dist(ML_SITE, "nvidia-cudnn-cu12", "9.1.0.70")
    assert "cudnn-version-mismatch" not in world.codes()


def test_toolkit_listed_in_ld_so_conf_but_ldconfig_not_run(world: World) -> None:
    ml_world(world)
    world.file("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n")
    world.file("/etc/ld.so.conf.d/cuda.conf", "/usr/local/cuda-12.4/lib64\n")
    place(world, "/usr/local/cuda-12.4/lib64/libcudart.so.12.4.127", simple("libcudart.so.12"))
    world.link("/usr/local/cuda-12.4/lib64/libcudart.so.12", "libcudart.so.12.4.127")
    found = finding(world.doctor(), "ld-cache-stale")
    assert any(
        "/usr/local/cuda-12.4/lib64" in e and "libcudart.so.12" in e for e in found["evidence"]
    )
    assert found["fix"] == ["sudo ldconfig"]


def test_after_a_real_ldconfig_the_cache_holds_them(world: World) -> None:
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    if not Path(ldconfig).exists():
        pytest.fail("this test needs ldconfig")
    test_toolkit_listed_in_ld_so_conf_but_ldconfig_not_run(world)
    subprocess.run([ldconfig, "-r", str(world.root)], check=True, capture_output=True)
    report = world.doctor()
    assert "ld-cache-stale" not in [f["code"] for f in report["findings"]]
    answer = next(
        o for o in report["facts"]["libraries"]["opened_by_name"] if o["name"] == "libcuda.so.1"
    )
    assert answer["path"] is None  # the cache is read: no driver here, and no error either


def test_torch_with_only_its_cuda_library_in_the_world(world: World) -> None:
    """A world may hold torch/lib/libtorch_cuda.so without the _C extension."""
    torch_world(world, wheels=False)
    world.real(f"{ML_SITE}/torch/_C.cpython-311-x86_64-linux-gnu.so").unlink()
    found = finding(world.doctor(), "library-missing")
    assert "libcudart.so.12" in found["title"]


def test_cupy_without_a_cuda_runtime(world: World) -> None:
    """C13: a driver-only machine; CuPy's modules find no libcudart.so.12."""
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda12x", "13.3.0")
    found = finding(world.doctor(), "library-missing")
    assert "libcudart.so.12" in found["title"]


def test_an_optional_extras_wheels_are_not_required(world: World) -> None:
    """cupy-cuda12x[ctk]: the wheels of an extra nobody asked for are not unmet, and deciding
    so needs no requirement parser (packaging.requirements costs ~20 ms to import)."""
    ml_world(world)
    world.dist(
        ML_SITE,
        "cupy-cuda12x",
        "14.2.0",
        requires=[
            'nvidia-cuda-runtime-cu12==12.*; extra == "ctk"',
            "nvidia-cublas-cu12==12.*; extra == 'ctk'",
        ],
    )
    world.dist(
        ML_SITE,
        "needs-it",
        "1.0",
        requires=['nvidia-cufft-cu12>=11; extra == "ctk" or sys_platform == "linux"'],
    )
    found = finding(world.doctor(), "cuda-wheel-requirements-unmet")
    assert found["evidence"] == ["needs-it 1.0 requires nvidia-cufft-cu12>=11: not installed"]
    code = (
        "import io, sys; from cudaenv._cli import main\n"
        "main(['doctor', '--root', sys.argv[1], '--env-file', sys.argv[2]], io.StringIO())\n"
        "print('packaging.requirements' in sys.modules)"
    )
    [needs_it] = world.real(ML_SITE).glob("needs*it-1.0.dist-info")
    shutil.rmtree(needs_it)
    argv = [sys.executable, "-c", code, str(world.root), str(world.write_env())]
    answer = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert answer.stdout.strip() == "False"
