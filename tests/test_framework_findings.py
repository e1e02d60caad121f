"""What frameworks were built for, read from their files, and the findings about them: each
code fired, and its near misses kept quiet."""

from __future__ import annotations

from typing import Any

import pytest

from cudaworld import built, driver, pip_torch, place, simple
from worlds import BASE, ML, ML_SITE, World, assert_diagnosis, finding, ml_world


def cpu_torch(world: World, version: str = "2.5.1+cpu") -> None:
    world.dist(ML_SITE, "torch", version)
    world.file(
        f"{ML_SITE}/torch/version.py",
        f"__version__ = '{version}'\ncuda: Optional[str] = None\nhip: Optional[str] = None\n",
    )


def framework(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in report["facts"]["frameworks"] if f["name"] == name)
    return found


# -- what the files say ---------------------------------------------------------------------------


def test_torch_build_facts_from_version_py(world: World) -> None:
    ml_world(world)
    pip_torch(world, ML_SITE)
    torch = framework(world.doctor(), "torch")
    assert (torch["variant"], torch["cuda"], torch["cuda_from"]) == (
        "cuda",
        "12.4",
        "torch/version.py",
    )
    assert torch["runtime_needed"] == ["libcudart.so.12"]


def test_conda_pytorch_channel_build_string(world: World) -> None:
    """E01: the pytorch channel's CPU variant, chosen through pytorch-mutex."""
    ml_world(world)
    world.conda_record(ML, "pytorch", "1.11.0", "py3.8_cpu_0")
    world.conda_record(ML, "pytorch-mutex", "1.0", "cpu")
    world.conda_record(ML, "cpuonly", "2.0", "0")
    world.dist(ML_SITE, "torch", "1.11.0", installer="conda")
    torch = framework(world.doctor(), "torch")
    assert torch["variant"] == "cpu"
    assert torch["variant_from"] == "conda build pytorch=1.11.0=py3.8_cpu_0"


def test_conda_forge_cuda_build_string(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "pytorch", "2.5.1", "cuda126_generic_py311h1234567_300")
    world.dist(ML_SITE, "torch", "2.5.1", installer="conda")
    torch = framework(world.doctor(), "torch")
    assert (torch["variant"], torch["cuda"]) == ("cuda", "12.6")


def test_tensorflow_build_info(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "tensorflow", "2.18.0")
    world.file(
        f"{ML_SITE}/tensorflow/python/platform/build_info.py",
        "build_info = {'cpu_compiler': '/usr/lib/llvm-18/bin/clang', "
        "'cuda_compute_capabilities': ['sm_60', 'sm_70', 'sm_80', 'sm_89', 'compute_90'], "
        "'cuda_version': '12.5.1', 'cudnn_version': '9', 'is_cuda_build': True, "
        "'is_rocm_build': False, 'is_tensorrt_build': False}\n",
    )
    driver(world, gpus=("NVIDIA L4",))
    tf = framework(world.doctor(), "tensorflow")
    assert (tf["variant"], tf["cuda"], tf["cudnn"]) == ("cuda", "12.5.1", "9")
    assert tf["gpu_code"][0]["sass"] == ["sm_60", "sm_70", "sm_80", "sm_89"]


# -- torch-cpu-build ------------------------------------------------------------------------------


def test_cpu_torch_on_a_gpu_machine(world: World) -> None:
    """E03: pip's CPU wheel where a driver and GPU are present."""
    ml_world(world)
    cpu_torch(world)
    driver(world, "550.54.14", gpus=("NVIDIA GeForce RTX 4080 Laptop GPU",))
    report = world.doctor()
    assert_diagnosis(report, must=["torch-cpu-build"], primary="torch-cpu-build")
    found = finding(report, "torch-cpu-build")
    assert found["severity"] == "error"
    # R550 runs CUDA 12.4 itself; of the cu12 builds, cu126 is the nearest above it
    assert any("whl/cu126" in fix and "--force-reinstall" in fix for fix in found["fix"])


def test_cpu_torch_beside_cuda_packages_without_a_driver(world: World) -> None:
    ml_world(world)
    cpu_torch(world)
    world.conda_record(ML, "cudatoolkit", "11.8.0", "h6a678d5_0")
    found = finding(world.doctor(), "torch-cpu-build")
    assert found["severity"] == "warning"
    assert any("cudatoolkit" in e for e in found["evidence"])


def test_conda_cpu_variant_fix_is_conda(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "pytorch", "2.5.1", "cpu_generic_py311h1234567_0")
    world.dist(ML_SITE, "torch", "2.5.1", installer="conda")
    driver(world)
    found = finding(world.doctor(), "torch-cpu-build")
    assert found["fix"][0].startswith("conda remove cpuonly")


# -- torch-companion-mismatch ---------------------------------------------------------------------


def test_torchvision_built_for_another_torch(world: World) -> None:
    """E14: torch 2.6 with a torchvision made for 2.8."""
    ml_world(world)
    pip_torch(world, ML_SITE)
    world.dist(ML_SITE, "torchvision", "0.23.0", requires=["numpy", "torch==2.8.0"])
    driver(world)
    found = finding(world.doctor(), "torch-companion-mismatch")
    assert any("requires torch==2.8.0" in e for e in found["evidence"])
    assert "torchvision==0.20.*" in found["fix"][0]
    assert "whl/cu124" in found["fix"][0]


def test_cpu_torchvision_beside_a_cuda_torch(world: World) -> None:
    ml_world(world)
    pip_torch(world, ML_SITE)
    world.dist(ML_SITE, "torchvision", "0.20.1+cpu", requires=["torch==2.5.1"])
    driver(world)
    found = finding(world.doctor(), "torch-companion-mismatch")
    assert any("is a cpu build" in e for e in found["evidence"])


def test_matching_companions_are_quiet(world: World) -> None:
    ml_world(world)
    pip_torch(world, ML_SITE)
    world.dist(ML_SITE, "torchvision", "0.20.1", requires=["torch==2.5.1"])
    world.dist(ML_SITE, "torchaudio", "2.5.1", requires=["torch==2.5.1"])
    driver(world)
    assert_diagnosis(world.doctor(), must_not=["torch-companion-mismatch"], max_severity="info")


# -- extension-cuda-mismatch ----------------------------------------------------------------------


def extension(world: World, runtime: str, version: str = "0.6.3") -> None:
    cudart = simple(runtime, "cudaMalloc")
    module = built(
        f"vllm{runtime}", "int PyInit__C(void){return 0;}", soname="_C.abi3.so", needed=[cudart]
    )
    place(world, f"{ML_SITE}/vllm/_C.abi3.so", module)
    world.dist(ML_SITE, "vllm", version)


def test_extension_built_for_another_cuda_major(world: World) -> None:
    ml_world(world)
    pip_torch(world, ML_SITE)
    extension(world, "libcudart.so.13")
    driver(world, "580.65.06")
    report = world.doctor()
    found = finding(report, "extension-cuda-mismatch")
    assert any("CUDA 13 runtime (NEEDED libcudart.so.13)" in e for e in found["evidence"])
    assert framework(report, "vllm")["runtime_needed"] == ["libcudart.so.13"]


def test_extension_of_torchs_cuda_is_quiet(world: World) -> None:
    ml_world(world)
    pip_torch(world, ML_SITE)
    extension(world, "libcudart.so.12")
    driver(world)
    assert_diagnosis(world.doctor(), must_not=["extension-cuda-mismatch"], max_severity="info")


# -- CuPy -----------------------------------------------------------------------------------------


def test_two_cupy_packages(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda11x", "13.3.0")
    world.dist(ML_SITE, "cupy-cuda12x", "13.3.0")
    driver(world)
    found = finding(world.doctor(), "cupy-multiple-packages")
    assert found["fix"] == [
        "python -m pip uninstall -y cupy-cuda11x cupy-cuda12x",
        "python -m pip install cupy-cuda12x",
    ]


def test_cupy_12x_on_a_cuda_11_driver(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda12x", "13.3.0")
    driver(world, "470.82.01")
    world.toolkit("/usr/local/cuda-12.2", "12.2.2", libs=())
    place(world, "/usr/local/cuda-12.2/lib64/libcudart.so.12", simple("libcudart.so.12"))
    world.env["LD_LIBRARY_PATH"] = "/usr/local/cuda-12.2/lib64"
    found = finding(world.doctor(), "cupy-cuda-mismatch")
    assert any("older than CUDA 12" in e for e in found["evidence"])
    assert any("cupy-cuda11x" in fix for fix in found["fix"])


def test_cupy_12_without_a_cuda_runtime_in_reach(world: World) -> None:
    """C13: CuPy 12's modules list libcudart.so.12 as NEEDED (its real wheel's ELF files);
    the loader's path has none."""
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda12x", "12.3.0")
    driver(world)
    found = finding(world.doctor(), "cupy-cuda-mismatch")
    assert any("libcudart.so.12" in e for e in found["evidence"])
    assert found["fix"][0].startswith("python -m pip install nvidia-cuda-runtime-cu12")


def test_cupy_13_links_the_runtime_statically_and_opens_nvrtc(world: World) -> None:
    """CuPy 13 and 14 wheels link cudart statically (no libcudart in any module's NEEDED):
    alone they import; what they open by name is NVRTC."""
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda12x", "13.3.0")
    driver(world)
    found = finding(world.doctor(), "cupy-cuda-mismatch")
    assert any("no CUDA 12 NVRTC in reach" in e for e in found["evidence"])
    assert not any("libcudart" in e for e in found["evidence"])
    assert found["fix"] == ["python -m pip install nvidia-cuda-nvrtc-cu12"]
    place(world, "/opt/nvrtc/lib64/libnvrtc.so.12", simple("libnvrtc.so.12"))
    world.env["LD_LIBRARY_PATH"] = "/opt/nvrtc/lib64"
    assert "cupy-cuda-mismatch" not in world.codes()  # no libcudart anywhere, and none needed


def test_cupy_14_without_nvrtc_is_fixed_by_its_ctk_extra(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda12x", "14.0.1")
    driver(world)
    found = finding(world.doctor(), "cupy-cuda-mismatch")
    assert found["fix"][0] == "python -m pip install 'cupy-cuda12x[ctk]==14.0.1'"


def test_cupy_14_finds_the_runtime_in_nvidia_wheels(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "cupy-cuda12x", "14.0.1")
    for component, soname in (
        ("cuda_runtime", "libcudart.so.12"),
        ("cuda_nvrtc", "libnvrtc.so.12"),
    ):
        place(world, f"{ML_SITE}/nvidia/{component}/lib/{soname}", simple(soname))
    world.dist(ML_SITE, "nvidia-cuda-runtime-cu12", "12.8.90")
    world.dist(ML_SITE, "nvidia-cuda-nvrtc-cu12", "12.8.93")
    driver(world)
    assert_diagnosis(world.doctor(), must_not=["cupy-cuda-mismatch"], max_severity="info")


# -- jax-plugin-mismatch --------------------------------------------------------------------------


def jax(world: World, jaxlib: str, plugin: str | None, pjrt: str | None) -> None:
    world.dist(ML_SITE, "jax", jaxlib)
    world.dist(ML_SITE, "jaxlib", jaxlib)
    if plugin is not None:
        world.dist(
            ML_SITE,
            "jax-cuda12-plugin",
            plugin,
            requires=[
                f"jax-cuda12-pjrt=={plugin}",
                "nvidia-cuda-nvcc-cu12>=12.6.85; extra == 'with-cuda'",
            ],
        )
    if pjrt is not None:
        world.dist(ML_SITE, "jax-cuda12-pjrt", pjrt)


@pytest.mark.parametrize(
    ("plugin", "pjrt", "expected"),
    [
        ("0.4.34", "0.4.34", "jax-cuda12-plugin 0.4.34 ≠ jaxlib 0.4.35"),
        ("0.4.35", None, "needs jax-cuda12-pjrt, not installed"),
        (None, "0.4.35", "jax-cuda12-pjrt 0.4.35 without jax-cuda12-plugin"),
    ],
)
def test_jax_plugin_out_of_step(
    world: World, plugin: str | None, pjrt: str | None, expected: str
) -> None:
    ml_world(world)
    jax(world, "0.4.35", plugin, pjrt)
    driver(world)
    found = finding(world.doctor(), "jax-plugin-mismatch")
    assert any(expected in e for e in found["evidence"])
    assert found["fix"] == ["python -m pip install --upgrade 'jax[cuda12]==0.4.35'"]


def test_jax_plugin_in_step_is_quiet(world: World) -> None:
    ml_world(world)
    jax(world, "0.4.35", "0.4.35", "0.4.35")
    driver(world)
    assert "jax-plugin-mismatch" not in world.codes()


def test_cpu_jax_alone_is_quiet(world: World) -> None:
    ml_world(world)
    jax(world, "0.4.35", None, None)
    assert_diagnosis(world.doctor(), max_severity="info")


# -- tensorflow-cuda-mismatch ---------------------------------------------------------------------


def tensorflow(world: World) -> None:
    world.dist(ML_SITE, "tensorflow", "2.18.0")
    world.file(
        f"{ML_SITE}/tensorflow/python/platform/build_info.py",
        "build_info = {'cuda_version': '12.5.1', 'cudnn_version': '9', 'is_cuda_build': True}\n",
    )


def test_tensorflow_without_its_cuda(world: World) -> None:
    ml_world(world)
    tensorflow(world)
    driver(world)
    found = finding(world.doctor(), "tensorflow-cuda-mismatch")
    assert "libcudart.so.12, libcudnn.so.9" in found["detail"]
    assert "tensorflow[and-cuda]==2.18.0" in found["fix"][0]


def test_tensorflow_with_its_wheels(world: World) -> None:
    ml_world(world)
    tensorflow(world)
    for component, soname in (("cuda_runtime", "libcudart.so.12"), ("cudnn", "libcudnn.so.9")):
        place(world, f"{ML_SITE}/nvidia/{component}/lib/{soname}", simple(soname))
    world.dist(ML_SITE, "nvidia-cuda-runtime-cu12", "12.5.82")
    world.dist(ML_SITE, "nvidia-cudnn-cu12", "9.3.0.75")
    driver(world)
    assert_diagnosis(world.doctor(), must_not=["tensorflow-cuda-mismatch"], max_severity="info")


def test_base_env_torch_is_not_the_target(world: World) -> None:
    """Frameworks are read from the target's sys.path only."""
    ml_world(world)
    cpu_torch(world)
    world.dist(f"{BASE}/lib/python3.12/site-packages", "cupy-cuda11x", "13.3.0")
    world.dist(f"{BASE}/lib/python3.12/site-packages", "cupy-cuda12x", "13.3.0")
    assert "cupy-multiple-packages" not in world.codes()


def test_pyg_extension_of_another_cuda_minor(world: World) -> None:
    """E13: "PyTorch has CUDA version 10.1 and torch_scatter has CUDA version 10.2"."""
    ml_world(world)
    world.dist(ML_SITE, "torch", "1.6.0+cu101")
    world.file(f"{ML_SITE}/torch/version.py", "__version__ = '1.6.0+cu101'\ncuda = '10.1'\n")
    world.dist(ML_SITE, "torch-scatter", "2.0.4+pt16cu102")
    driver(world, "450.80.02", gpus=("Tesla V100-SXM2-16GB",))
    found = finding(world.doctor(), "extension-cuda-mismatch")
    assert any("built for CUDA 10.2" in e for e in found["evidence"])
    assert any("data.pyg.org/whl/torch-1.6.0+cu101.html" in fix for fix in found["fix"])


def test_pyg_extension_of_torchs_cuda_is_quiet(world: World) -> None:
    ml_world(world)
    pip_torch(world, ML_SITE)
    world.dist(ML_SITE, "torch-scatter", "2.1.2+pt25cu124")
    driver(world)
    assert "extension-cuda-mismatch" not in world.codes()


def test_cpu_torch_in_the_user_site_is_shadowing_not_a_cpu_build(world: World) -> None:
    """The env's torch is a CUDA build; ~/.local's CPU torch hides it: remove that one."""
    ml_world(world)
    pip_torch(world, ML_SITE)
    user_site = "/home/u/.local/lib/python3.11/site-packages"
    world.dist(user_site, "torch", "2.0.1+cpu")
    world.file(f"{user_site}/torch/version.py", "__version__ = '2.0.1+cpu'\ncuda = None\n")
    driver(world)
    report = world.doctor()
    assert_diagnosis(report, must=["user-site-shadowing"], must_not=["torch-cpu-build"])


def test_gpu_code_is_read_on_request_without_a_gpu(world: World) -> None:
    """A build or login node has no GPU: `doctor --gpu-code` still lists what the binaries
    carry (without a GPU there is nothing to compare them with, so only when asked)."""
    from gpucode import gpu_code_for

    ml_world(world)
    pip_torch(world, ML_SITE, gpu_code=gpu_code_for(("sm_80", "sm_90"), ("compute_90",)))

    def torch_code(*args: str) -> list[dict[str, Any]]:
        [torch] = [f for f in world.doctor(*args)["facts"]["frameworks"] if f["name"] == "torch"]
        code: list[dict[str, Any]] = torch["gpu_code"]
        return code

    assert torch_code() == []
    [library] = torch_code("--gpu-code")
    assert library["path"].endswith("/torch/lib/libtorch_cuda.so")
    assert library["sass"] == ["sm_80", "sm_90"]
    assert library["ptx"] == ["compute_90"]


def test_pip_redirection_comes_before_the_fixes_it_would_redirect(world: World) -> None:
    """`pip.conf` with `user = true`: the torch fix runs pip, which would install into
    ~/.local. The redirection is named first, as severe as the fix it spoils."""
    ml_world(world)
    cpu_torch(world)
    driver(world, "550.54.14", gpus=("NVIDIA GeForce RTX 4080 Laptop GPU",))
    world.file("/home/u/.config/pip/pip.conf", "[install]\nuser = true\n")
    report = world.doctor()
    codes = [f["code"] for f in report["findings"]]
    assert codes.index("pip-install-redirected") < codes.index("torch-cpu-build")
    assert_diagnosis(report, primary="pip-install-redirected")
    assert finding(report, "pip-install-redirected")["severity"] == "error"


def test_two_cupys_in_one_directory_need_what_the_last_install_left(world: World) -> None:
    """Defect 7: cupy-cuda12x, then cupy-cuda11x into the same site-packages: the files in
    cupy/ are cupy-cuda11x's (its RECORD's sizes match them), so NVRTC 11.2 is what CuPy opens,
    not 12."""
    ml_world(world)
    module = "cupy_backends/cuda/api/runtime.cpython-311-x86_64-linux-gnu.so"
    for name, size in (("cupy-cuda12x", 2100), ("cupy-cuda11x", 1900)):
        info = world.dist(ML_SITE, name, "13.3.0")
        world.file(f"{info}/RECORD", f"{module},sha256=x,{size}\n")
    world.file(f"{ML_SITE}/{module}", "x" * 1900)  # cupy-cuda11x was installed last
    driver(world)
    report = world.doctor()
    opened = {o["name"] for o in report["facts"]["libraries"]["opened_by_name"]}
    assert "libnvrtc.so.11.2" in opened
    assert "libnvrtc.so.12" not in opened
    assert "cupy-multiple-packages" in [f["code"] for f in report["findings"]]
