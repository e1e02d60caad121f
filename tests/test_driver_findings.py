"""The driver and GPU findings on worlds: each code fired, and its near misses kept quiet.

Drivers are the files a loaded one leaves (cudaworld.driver); libraries are gcc-built ELF
files with the real SONAMEs; GPU code is a real .nv_fatbin section (gpucode.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cudaworld import driver, driver_libraries, pip_torch, place, simple
from gpucode import gpu_code_for
from worlds import ML, ML_SITE, World, assert_diagnosis, finding, ml_world

LDCONFIG = shutil.which("ldconfig") or "/sbin/ldconfig"


def torch_world(world: World, **kwargs: str) -> World:
    ml_world(world)
    pip_torch(world, ML_SITE, **kwargs)  # type: ignore[arg-type]
    return world


def cpu_torch(world: World, version: str = "2.5.1+cpu") -> None:
    world.dist(ML_SITE, "torch", version)
    world.file(
        f"{ML_SITE}/torch/version.py",
        f"__version__ = '{version}'\ndebug = False\ncuda: Optional[str] = None\n"
        "hip: Optional[str] = None\n",
    )


# -- driver-missing -------------------------------------------------------------------------------


def test_cuda_torch_without_a_driver(world: World) -> None:
    torch_world(world)
    report = world.doctor()
    assert_diagnosis(report, must=["driver-missing"], primary="driver-missing")
    found = finding(report, "driver-missing")
    assert "No NVIDIA driver is installed" in found["detail"]
    assert any("550.54.14" in fix and "525.60.13" in fix for fix in found["fix"])


def test_container_started_without_gpus(world: World) -> None:
    """D06: a CUDA image run without --gpus: no driver inside."""
    torch_world(world)
    world.file("/.dockerenv")
    found = finding(world.doctor(), "driver-missing")
    assert "container started without GPU access" in found["detail"]
    assert any("--gpus all" in fix for fix in found["fix"])


def test_container_asking_for_no_gpu(world: World) -> None:
    ml_world(world)  # nothing CUDA installed: the variable alone says a GPU was expected
    world.file("/.dockerenv")
    world.env["NVIDIA_VISIBLE_DEVICES"] = "void"
    found = finding(world.doctor(), "driver-missing")
    assert "NVIDIA_VISIBLE_DEVICES='void'" in found["detail"]


def test_driver_installed_but_module_not_loaded(world: World) -> None:
    torch_world(world)
    driver_libraries(world, "550.54.14")
    found = finding(world.doctor(), "driver-missing")
    assert "kernel module is not loaded" in found["detail"]
    assert any(fix.startswith("sudo modprobe nvidia") for fix in found["fix"])


def test_cpu_laptop_with_cpu_torch_is_healthy(world: World) -> None:
    ml_world(world)
    cpu_torch(world)
    assert_diagnosis(
        world.doctor(), must_not=["driver-missing", "torch-cpu-build"], max_severity="info"
    )


def test_another_error_comes_before_driver_missing(world: World) -> None:
    torch_world(world)
    world.script("/usr/local/bin/pip", "/usr/bin/python3.11")  # pip of the system python
    world.env["PATH"] = f"/usr/local/bin:{ML}/bin:/usr/bin:/bin"
    world.file(f"{ML}/bin/python3.11", "stand-in\n")
    report = world.doctor()
    codes = [f["code"] for f in report["findings"]]
    assert "driver-missing" in codes
    assert codes.index("driver-missing") > codes.index("pip-other-interpreter")


# -- driver-library-unreachable -------------------------------------------------------------------


def test_driver_libraries_in_a_directory_nothing_searches(world: World) -> None:
    torch_world(world)
    driver(world, libdir="/usr/local/nvidia/lib64")
    report = world.doctor()
    assert_diagnosis(report, must=["driver-library-unreachable"], must_not=["driver-missing"])
    found = finding(report, "driver-library-unreachable")
    assert any("/usr/local/nvidia/lib64" in e for e in found["evidence"])
    assert "sudo ldconfig" in found["fix"]


def test_the_same_directory_on_ld_library_path_is_fine(world: World) -> None:
    torch_world(world)
    driver(world, libdir="/usr/local/nvidia/lib64")
    world.env["LD_LIBRARY_PATH"] = "/usr/local/nvidia/lib64"
    assert_diagnosis(world.doctor(), max_severity="info")


def wsl(world: World, *, in_cache: bool) -> None:
    world.env["WSL_DISTRO_NAME"] = "Ubuntu"
    libcuda = simple("libcuda.so.1", "cuInit")
    for name in ("libcuda.so.1.1", "libcuda.so.1", "libcuda.so"):  # WSL copies, not links
        place(world, f"/usr/lib/wsl/lib/{name}", libcuda)
    world.file("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n")
    world.file("/etc/ld.so.conf.d/ld.wsl.conf", "/usr/lib/wsl/lib\n")
    if in_cache:
        subprocess.run([LDCONFIG, "-r", str(world.root)], check=True, capture_output=True)


def test_wsl_without_its_libraries_in_the_cache(world: World) -> None:
    torch_world(world)
    wsl(world, in_cache=False)
    report = world.doctor()
    assert_diagnosis(report, must=["driver-library-unreachable"], must_not=["driver-missing"])
    found = finding(report, "driver-library-unreachable")
    assert found["fix"][-1].startswith("sudo ldconfig")


@pytest.mark.skipif(not Path(LDCONFIG).exists(), reason="needs ldconfig")
def test_wsl_after_ldconfig_is_healthy(world: World) -> None:
    torch_world(world)
    wsl(world, in_cache=True)
    report = world.doctor()
    assert report["facts"]["driver"]["wsl"] is True
    assert report["facts"]["driver"]["libcuda"]["path"] == "/usr/lib/wsl/lib/libcuda.so.1"
    assert_diagnosis(report, max_severity="info")


# -- driver-too-old -------------------------------------------------------------------------------


def test_cu124_torch_on_an_r470_driver(world: World) -> None:
    """D01: "found version 11040"."""
    torch_world(world)
    driver(world, "470.82.01", gpus=("NVIDIA GeForce RTX 3050 Laptop GPU",))
    report = world.doctor()
    assert_diagnosis(report, must=["driver-too-old"], primary="driver-too-old")
    found = finding(report, "driver-too-old")
    assert "found version 11040" in found["detail"]
    assert found["fix"][0].startswith("install an NVIDIA driver ≥ 550.54.14")
    assert "https://download.pytorch.org/whl/cu118" in found["fix"][1]  # runs on R470, sm_86


def test_newer_minor_runs_by_minor_version_compatibility(world: World) -> None:
    """A cu128 torch and a 12.8 toolkit on R535 (CUDA 12.2): MVC covers them."""
    torch_world(world, torch_cuda="12.8")
    driver(world, "535.104.05", gpus=("NVIDIA A100-SXM4-80GB",))
    world.toolkit("/usr/local/cuda-12.8", "12.8.1")
    world.env["CUDA_HOME"] = "/usr/local/cuda-12.8"
    assert_diagnosis(world.doctor(), must_not=["driver-too-old"], max_severity="info")


def test_image_requires_a_newer_driver(world: World) -> None:
    """D07: NVIDIA_REQUIRE_CUDA=cuda>=12.4 on a 530 driver."""
    ml_world(world)
    driver(world, "530.30.02", gpus=("Tesla V100-SXM2-16GB",))
    world.env["NVIDIA_REQUIRE_CUDA"] = "cuda>=12.4 brand=tesla,driver>=470,driver<471"
    found = finding(world.doctor(), "driver-too-old")
    assert any("NVIDIA_REQUIRE_CUDA" in e for e in found["evidence"])


# NVIDIA's CUDA 12.4.1 images (nvidia/container-images/cuda, dist/12.4.1/.../base/Dockerfile)
REQUIRE_12_4 = (
    "cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 "
    "brand=nvidia,driver>=470,driver<471 brand=nvidiartx,driver>=470,driver<471 "
    "brand=geforce,driver>=470,driver<471 brand=geforcertx,driver>=470,driver<471 "
    "brand=quadro,driver>=470,driver<471 brand=quadrortx,driver>=470,driver<471 "
    "brand=titan,driver>=470,driver<471 brand=titanrtx,driver>=470,driver<471 "
    "brand=tesla,driver>=525,driver<526 brand=unknown,driver>=525,driver<526 "
    "brand=nvidia,driver>=525,driver<526 brand=nvidiartx,driver>=525,driver<526 "
    "brand=geforce,driver>=525,driver<526 brand=geforcertx,driver>=525,driver<526 "
    "brand=quadro,driver>=525,driver<526 brand=quadrortx,driver>=525,driver<526 "
    "brand=titan,driver>=525,driver<526 brand=titanrtx,driver>=525,driver<526 "
    "brand=tesla,driver>=535,driver<536 brand=unknown,driver>=535,driver<536 "
    "brand=nvidia,driver>=535,driver<536 brand=nvidiartx,driver>=535,driver<536 "
    "brand=geforce,driver>=535,driver<536 brand=geforcertx,driver>=535,driver<536 "
    "brand=quadro,driver>=535,driver<536 brand=quadrortx,driver>=535,driver<536 "
    "brand=titan,driver>=535,driver<536 brand=titanrtx,driver>=535,driver<536"
)


@pytest.mark.parametrize(
    ("version", "starts"),
    [("535.183.01", True), ("545.29.06", False), ("550.54.14", True)],
)
def test_require_cuda_alternatives_any_one_starts_the_container(
    world: World, version: str, starts: bool
) -> None:
    """Spaces separate alternatives, commas the terms of one (libnvidia-container's dsl.c):
    a 12.4 image starts on a GeForce with R535 through its brand=geforce,driver>=535 branch;
    no branch lists R545 (CUDA 12.3); R550 is CUDA 12.4."""
    ml_world(world)
    world.file("/.dockerenv", "")
    driver(world, version, gpus=("NVIDIA GeForce RTX 3090",))
    world.env.update(NVIDIA_REQUIRE_CUDA=REQUIRE_12_4, CUDA_VERSION="12.4.1")
    if starts:
        assert "driver-too-old" not in world.codes()
    else:
        found = finding(world.doctor(), "driver-too-old")
        assert any("nvidia-container-cli refuses" in e for e in found["evidence"])


def test_require_cuda_checks_every_variable_and_legacy_images(world: World) -> None:
    ml_world(world)
    world.file("/.dockerenv", "")
    driver(world, "535.183.01", gpus=("NVIDIA A100-SXM4-80GB",))
    world.env["CUDA_VERSION"] = "12.4.1"  # a legacy image: cuda>=12.4, no alternatives
    assert "driver-too-old" in world.codes()
    world.env["NVIDIA_DISABLE_REQUIRE"] = "yes"  # not a Go true value: still checked
    assert "driver-too-old" in world.codes()
    world.env["NVIDIA_DISABLE_REQUIRE"] = "1"
    assert "driver-too-old" not in world.codes()


def test_ptx_newer_than_the_driver_must_be_jit_compiled(world: World) -> None:
    """An RTX 5090 has no SASS in this build, only PTX ISA 9.0 (CUDA 13.0): R570 cannot JIT it."""
    code = gpu_code_for(["sm_80", "sm_90"], ["compute_90"])
    torch_world(world, torch_cuda="12.8", gpu_code=code)
    driver(world, "570.86.10", gpus=("NVIDIA GeForce RTX 5090",))
    report = world.doctor()
    assert_diagnosis(report, must=["driver-too-old"], must_not=["gpu-arch-unsupported"])
    assert any("error 222" in e for e in finding(report, "driver-too-old")["evidence"])


def test_ptx_the_driver_knows_is_fine(world: World) -> None:
    code = gpu_code_for(["sm_80", "sm_90"], ["compute_90"])
    torch_world(world, torch_cuda="12.8", gpu_code=code)
    driver(world, "580.65.06", gpus=("NVIDIA GeForce RTX 5090",))
    assert_diagnosis(
        world.doctor(), must_not=["driver-too-old", "gpu-arch-unsupported"], max_severity="info"
    )


def test_numba_with_an_nvvm_newer_than_the_driver(world: World) -> None:
    """D09: conda's CUDA 12.4 NVVM emits PTX the R535 driver (12.2) cannot JIT."""
    ml_world(world)
    world.dist(ML_SITE, "numba-cuda", "0.4.0")
    world.toolkit(ML, "12.4.131", layout="targets")
    world.file(f"{ML}/nvvm/libdevice/libdevice.10.bc", "bitcode\n")  # cuda-nvvm, with nvcc
    world.conda_record(ML, "cuda-nvcc", "12.4.131")
    driver(world, "535.104.05", gpus=("Tesla T4",))
    assert "driver-too-old" in world.codes()
    (world.root / ML.lstrip("/") / "nvvm/libdevice/libdevice.10.bc").unlink()
    assert "driver-too-old" not in world.codes()  # runtime libraries alone: no NVVM to JIT with
    world.file(f"{ML}/nvvm/libdevice/libdevice.10.bc", "bitcode\n")
    found = finding(world.doctor(), "driver-too-old")
    assert any("Numba" in e and "error 222" in e for e in found["evidence"])


# -- driver-library-mismatch ----------------------------------------------------------------------


def test_driver_upgraded_without_a_reboot(world: World) -> None:
    """D04: packages at 550.107.02, kernel module still 550.90.07."""
    torch_world(world)
    driver(world, "550.90.07", libraries=False)
    driver_libraries(world, "550.107.02")
    report = world.doctor()
    assert_diagnosis(report, must=["driver-library-mismatch"], primary="driver-library-mismatch")
    assert any(
        f.startswith("sudo reboot") for f in finding(report, "driver-library-mismatch")["fix"]
    )


def test_open_kernel_module_format_is_read(world: World) -> None:
    torch_world(world)
    driver(world, "575.57.08", flavor="open")
    report = world.doctor()
    assert report["facts"]["driver"]["flavor"] == "open"
    assert report["facts"]["driver"]["version"] == "575.57.08"
    assert report["facts"]["driver"]["cuda"] == "12.9"
    assert_diagnosis(report, max_severity="info")


# -- forward-compat-misuse ------------------------------------------------------------------------


def compat(world: World, version: str = "570.124.06") -> None:
    directory = "/usr/local/cuda-12.8/compat"
    place(world, f"{directory}/libcuda.so.{version}", simple("libcuda.so.1", "cuInit"))
    world.link(f"{directory}/libcuda.so.1", f"libcuda.so.{version}")
    world.env["LD_LIBRARY_PATH"] = directory


def test_forward_compatibility_on_a_geforce_card(world: World) -> None:
    torch_world(world, torch_cuda="12.8")
    driver(world, "535.104.05", gpus=("NVIDIA GeForce RTX 4090",))
    compat(world)
    report = world.doctor()
    assert_diagnosis(report, must=["forward-compat-misuse"], must_not=["driver-library-mismatch"])
    found = finding(report, "forward-compat-misuse")
    assert "error 804" in found["detail"]
    assert found["fix"][0] == "unset LD_LIBRARY_PATH"


def test_forward_compatibility_on_an_h100_is_supported(world: World) -> None:
    torch_world(world, torch_cuda="12.8")
    driver(world, "535.104.05", gpus=("NVIDIA H100 80GB HBM3",))
    compat(world)
    assert_diagnosis(
        world.doctor(),
        must_not=["forward-compat-misuse", "driver-library-mismatch", "driver-too-old"],
        max_severity="info",
    )


def test_compat_library_older_than_the_kernel_driver(world: World) -> None:
    torch_world(world)
    driver(world, "580.65.06", gpus=("NVIDIA H100 80GB HBM3",))
    compat(world, "570.124.06")
    found = finding(world.doctor(), "forward-compat-misuse")
    assert "error 803" in found["detail"]


# -- wsl-driver-inside ----------------------------------------------------------------------------


def test_linux_driver_installed_inside_wsl(world: World) -> None:
    torch_world(world)
    wsl(world, in_cache=False)
    driver_libraries(world, "535.104.05")  # apt install nvidia-driver-535 inside WSL
    report = world.doctor()
    assert_diagnosis(report, must=["wsl-driver-inside"], primary="wsl-driver-inside")


# -- gpu-arch-unsupported -------------------------------------------------------------------------


def test_rtx_5090_with_a_cu124_torch(world: World) -> None:
    code = gpu_code_for(["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"])
    torch_world(world, gpu_code=code)
    driver(world, "570.86.10", gpus=("NVIDIA GeForce RTX 5090",))
    report = world.doctor()
    assert_diagnosis(report, must=["gpu-arch-unsupported"], primary="gpu-arch-unsupported")
    found = finding(report, "gpu-arch-unsupported")
    assert "12.0" in found["title"]
    assert any("https://download.pytorch.org/whl/cu128" in fix for fix in found["fix"])
    code_facts = report["facts"]["frameworks"][0]["gpu_code"][0]
    assert code_facts["sass"][-1] == "sm_90"


def test_same_major_sass_serves_a_newer_minor(world: World) -> None:
    torch_world(world, gpu_code=gpu_code_for(["sm_80", "sm_86"]))
    driver(world, "550.54.14", gpus=("NVIDIA GeForce RTX 4090",))  # 8.9 runs sm_86
    assert_diagnosis(world.doctor(), must_not=["gpu-arch-unsupported"], max_severity="info")


def test_without_gpu_code_a_cuda_13_build_cannot_serve_pascal(world: World) -> None:
    torch_world(world, torch_cuda="13.0")
    driver(world, "580.65.06", gpus=("NVIDIA GeForce GTX 1080 Ti",))
    found = finding(world.doctor(), "gpu-arch-unsupported")
    assert any("compiles for no 6.x architecture that runs on 6.1" in e for e in found["evidence"])
    assert any("whl/cu126" in fix for fix in found["fix"])


def test_without_gpu_code_older_sass_of_the_same_major_serves(world: World) -> None:
    """A cu113 build cannot compile for 8.9, but its sm_86 runs on an RTX 4090 (8.9)."""
    torch_world(world, torch_cuda="11.3")
    driver(world, "550.54.14", gpus=("NVIDIA GeForce RTX 4090",))
    assert "gpu-arch-unsupported" not in world.codes()


def test_without_gpu_code_no_major_8_build_runs_on_hopper(world: World) -> None:
    torch_world(world, torch_cuda="11.7")  # CUDA 11.7 knows sm_87 at most: nothing of 9.x
    driver(world, "550.54.14", gpus=("NVIDIA H100 80GB HBM3",))
    found = finding(world.doctor(), "gpu-arch-unsupported")
    assert any("no 9.x architecture" in e for e in found["evidence"])


def test_without_gpu_code_a_cuda_12_build_is_not_judged(world: World) -> None:
    torch_world(world, torch_cuda="12.4")
    driver(world, "550.54.14", gpus=("NVIDIA GeForce GTX 1080 Ti",))
    assert_diagnosis(world.doctor(), must_not=["gpu-arch-unsupported"], max_severity="info")


def test_gpu_code_is_not_read_without_a_gpu(world: World) -> None:
    torch_world(world, gpu_code=gpu_code_for(["sm_90"]))
    report = world.doctor()
    assert report["facts"]["frameworks"][0]["gpu_code"] == []


# -- nvcc-too-old-for-gpu -------------------------------------------------------------------------


def test_cuda_12_6_cannot_build_for_an_rtx_5090(world: World) -> None:
    torch_world(world, torch_cuda="12.8")
    driver(world, "570.86.10", gpus=("NVIDIA GeForce RTX 5090",))
    world.toolkit("/usr/local/cuda-12.6", "12.6.3")
    world.env["CUDA_HOME"] = "/usr/local/cuda-12.6"
    found = finding(world.doctor(), "nvcc-too-old-for-gpu")
    assert "sm_120" in found["title"]
    assert "CUDA 12.8 or newer" in found["fix"][0]


def test_cuda_12_8_builds_for_it(world: World) -> None:
    torch_world(world, torch_cuda="12.8")
    driver(world, "570.86.10", gpus=("NVIDIA GeForce RTX 5090",))
    world.toolkit("/usr/local/cuda-12.8", "12.8.1")
    world.env["CUDA_HOME"] = "/usr/local/cuda-12.8"
    assert_diagnosis(world.doctor(), must_not=["nvcc-too-old-for-gpu"], max_severity="info")


def test_cuda_13_no_longer_builds_for_pascal(world: World) -> None:
    ml_world(world)
    driver(world, "580.65.06", gpus=("NVIDIA GeForce GTX 1080",))
    world.toolkit("/usr/local/cuda-13.0", "13.0.2")
    world.env["CUDA_HOME"] = "/usr/local/cuda-13.0"
    found = finding(world.doctor(), "nvcc-too-old-for-gpu")
    assert "no longer supports" in found["detail"]


def cudnn8_tensorflow(world: World) -> None:
    world.dist(ML_SITE, "tensorflow", "2.14.1")
    world.file(
        f"{ML_SITE}/tensorflow/python/platform/build_info.py",
        "build_info = {'cuda_version': '11.8', 'cudnn_version': '8', 'is_cuda_build': True}\n",
    )
    for component, soname in (("cuda_runtime", "libcudart.so.11.0"), ("cudnn", "libcudnn.so.8")):
        place(world, f"{ML_SITE}/nvidia/{component}/lib/{soname}", simple(soname))
    world.dist(ML_SITE, "nvidia-cuda-runtime-cu11", "11.8.89")
    world.dist(ML_SITE, "nvidia-cudnn-cu11", "8.7.0.84")


@pytest.mark.skipif(not Path(LDCONFIG).exists(), reason="needs ldconfig")
def test_cudnn8_on_wsl_needs_the_unversioned_libcuda(world: World) -> None:
    """WSL's libcuda.so is a copy, which the real ldconfig does not cache (only links)."""
    ml_world(world)
    cudnn8_tensorflow(world)
    wsl(world, in_cache=True)
    report = world.doctor()
    found = finding(report, "driver-library-unreachable")
    assert "cuDNN 8 opens libcuda.so" in found["title"]
    assert found["fix"][0].startswith("export LD_LIBRARY_PATH=/usr/lib/wsl/lib")


@pytest.mark.skipif(not Path(LDCONFIG).exists(), reason="needs ldconfig")
def test_cudnn8_with_wsl_on_ld_library_path_is_fine(world: World) -> None:
    ml_world(world)
    cudnn8_tensorflow(world)
    wsl(world, in_cache=True)
    world.env["LD_LIBRARY_PATH"] = "/usr/lib/wsl/lib"
    assert_diagnosis(world.doctor(), must_not=["driver-library-unreachable"], max_severity="info")


def test_nvml_alone_out_of_step(world: World) -> None:
    torch_world(world)
    driver(world, "550.90.07", libraries=False)
    driver_libraries(world, "550.90.07", nvml=False)
    libdir = "/usr/lib/x86_64-linux-gnu"
    place(world, f"{libdir}/libnvidia-ml.so.535.183.01", simple("libnvidia-ml.so.1", "nvmlInit"))
    world.link(f"{libdir}/libnvidia-ml.so.1", "libnvidia-ml.so.535.183.01")
    found = finding(world.doctor(), "driver-library-mismatch")
    assert "535.183.01" in found["title"] or any("535.183.01" in e for e in found["evidence"])


def test_rapids_cu12_wheels_on_a_cuda_11_driver(world: World) -> None:
    """E15: cudf-cu12 and friends where the driver supports CUDA 11 only."""
    ml_world(world)
    world.dist(ML_SITE, "cudf-cu12", "24.10.1")
    world.dist(ML_SITE, "rmm-cu12", "24.10.0")
    driver(world, "470.82.01", gpus=("Tesla T4",))
    found = finding(world.doctor(), "driver-too-old")
    assert any("cudf-cu12 24.10.1 (CUDA 12" in e for e in found["evidence"])


def test_conda_cudatoolkit_newer_than_the_driver(world: World) -> None:
    """D02: the solver picked cudatoolkit 11.0 for a CUDA 10.2 driver."""
    ml_world(world)
    world.conda_record(ML, "cudatoolkit", "11.0.221", "h6bb024c_0")
    driver(world, "440.33.01", gpus=("Tesla V100-SXM2-16GB",))
    found = finding(world.doctor(), "driver-too-old")
    assert any("conda cudatoolkit 11.0.221 is CUDA 11.0" in e for e in found["evidence"])


def test_conda_cudatoolkit_of_the_drivers_major_runs(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "cudatoolkit", "11.8.0", "h6a678d5_0")
    driver(world, "470.82.01", gpus=("Tesla T4",))
    assert "driver-too-old" not in world.codes()


def test_gpu_facts_round_trip_through_json(world: World) -> None:
    from cudaenv import collect
    from cudaenv._serial import from_json, to_json
    from cudaenv.snapshot import LiveCheck, Snapshot

    torch_world(world, gpu_code=gpu_code_for(["sm_80"], ["compute_80"]))
    driver(world, gpus=("NVIDIA A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB"))
    snap = collect(str(world.root), world.env)
    assert len(snap.gpus) == 2
    assert snap.frameworks[0].gpu_code[0].sass == ("sm_80",)
    again = Snapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert again == snap
    check = LiveCheck("torch", ok=True, seconds=1.5, answer={"available": True, "n": [1, 2]})
    assert from_json(LiveCheck, json.loads(json.dumps(to_json(check)))) == check


def test_tensorflow_with_cuda_set_up_for_it_and_no_driver(world: World) -> None:
    """TensorFlow's wheel runs on the CPU; with a system CUDA and cuDNN set up for it (the
    pre-2.14 way) the GPU is wanted, and a missing driver is said."""
    ml_world(world)
    world.dist(ML_SITE, "tensorflow", "2.12.0")
    world.file(
        f"{ML_SITE}/tensorflow/python/platform/build_info.py",
        "import collections\nbuild_info = collections.OrderedDict([('cuda_version', '11.8'), "
        "('cudnn_version', '8'), ('is_cuda_build', True), ('is_rocm_build', False)])\n",
    )
    assert "driver-missing" not in world.codes()  # a CPU machine running TF on the CPU
    for soname in ("libcudart.so.11.0", "libcudnn.so.8"):
        place(world, f"/usr/local/cuda-11.8/lib64/{soname}", simple(soname))
    world.env["LD_LIBRARY_PATH"] = "/usr/local/cuda-11.8/lib64"
    assert "driver-missing" in world.codes()
