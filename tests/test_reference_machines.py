"""Healthy reference machines, assembled from real artifacts (tests/reference.py): on every
one, ``cudaenv doctor`` reports nothing above info.  This suite is the bar every change keeps:
a warning on a machine that works is the worst defect a diagnosis tool can have."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from pathlib import Path

import pytest

import kit_debian
from cudaworld import place, simple
from reference import debian_root, elf_libraries, install_closure, machine_driver
from test_driver_findings import REQUIRE_12_4
from worlds import ML, ML_SITE, World, assert_diagnosis, ml_world

pytestmark = pytest.mark.slow

PROJECT = "/home/u/proj/.venv"
TOOLKIT_LIBS = (
    "libcudart.so.12",
    "libnvrtc.so.12",
    "libcublas.so.12",
    "libcublasLt.so.12",
    "libcufft.so.11",
    "libcurand.so.10",
    "libcusparse.so.12",
)
SITE = f"{PROJECT}/lib/python3.11/site-packages"


def desktop(world: World, gpu: str = "NVIDIA GeForce RTX 4090", flavour: str = "flat") -> None:
    """Ubuntu/Debian desktop: merged /usr, the driver from its packages, Debian's Python."""
    debian_root(world)
    machine_driver(world, flavour, gpu)  # type: ignore[arg-type]
    world.system_python("3.11")


def pip_project(world: World, slug: str) -> None:
    """`python3 -m venv .venv && .venv/bin/pip install <the closure>`, activated."""
    world.venv(PROJECT)
    install_closure(world, SITE, slug)
    world.activate_venv(PROJECT)


def finish(world: World) -> dict[str, object]:
    """The ldconfig trigger that runs after every package install, then the diagnosis."""
    kit_debian.run_ldconfig(world.root)
    return world.doctor()


def desktop_pip_torch(world: World) -> None:
    desktop(world)
    pip_project(world, "torch-2.4.1")


def desktop_debian_driver_torch_271(world: World) -> None:
    desktop(world, "NVIDIA GeForce RTX 3090", flavour="debian")
    pip_project(world, "torch-2.7.1")


def pip_stack(slug: str, gpu: str = "NVIDIA GeForce RTX 4090") -> Callable[[World], None]:
    def build(world: World) -> None:
        desktop(world, gpu)
        pip_project(world, slug)

    build.__doc__ = f"desktop with the driver, a venv with pip's {slug} closure"
    return build


def cuda_repo_toolkit(world: World, root: str = "/usr/local/cuda-12.4") -> None:
    """NVIDIA's CUDA repository toolkit: cuda-12.4 with the /usr/local/cuda and cuda-12 links
    (update-alternatives) and the ld.so.conf.d files its packages ship (000_cuda.conf,
    988_cuda-12.conf: as listed on real machines in public bug reports)."""
    world.toolkit(root, "12.4.131", libs=())
    elf_libraries(world, f"{root}/targets/x86_64-linux/lib", TOOLKIT_LIBS)
    world.link("/usr/local/cuda", posixpath.basename(root))
    world.link("/usr/local/cuda-12", posixpath.basename(root))
    world.file("/etc/ld.so.conf.d/000_cuda.conf", "/usr/local/cuda/targets/x86_64-linux/lib\n")
    world.file(
        "/etc/ld.so.conf.d/988_cuda-12.conf", "/usr/local/cuda-12/targets/x86_64-linux/lib\n"
    )


def desktop_toolkit_for_builds(world: World) -> None:
    """The same desktop with a CUDA 12.4 toolkit for extension builds, set up as its docs say."""
    desktop(world)
    cuda_repo_toolkit(world)
    pip_project(world, "torch-2.4.1")
    world.env["PATH"] = "/usr/local/cuda/bin:" + world.env["PATH"]
    world.env["CUDA_HOME"] = "/usr/local/cuda"


def hpc_module_cupy(world: World) -> None:
    """An HPC node after `module load cuda/12.4`: CUDA_HOME, PATH and LD_LIBRARY_PATH name the
    module's toolkit; pip's cupy-cuda12x (no [ctk]) uses its libraries."""
    desktop(world, "NVIDIA A100-SXM4-80GB")
    root = world.toolkit("/apps/cuda/12.4.1", "12.4.131", libs=())
    elf_libraries(world, f"{root}/targets/x86_64-linux/lib", TOOLKIT_LIBS)
    pip_project(world, "cupy-cuda12x-13.3.0")
    world.env.update(
        CUDA_HOME=root,
        PATH=f"{root}/bin:" + world.env["PATH"],
        LD_LIBRARY_PATH=f"{root}/lib64",
    )


def container(world: World, *, devel: bool) -> None:
    """NVIDIA's CUDA 12.4.1 image (Ubuntu, runtime or devel) under the container toolkit: the
    image's ENV lines, its libraries, the injected driver and the hook's ldconfig run."""
    debian_root(world)
    world.file("/.dockerenv", "")
    world.file("/etc/ld.so.conf.d/nvidia.conf", "/usr/local/nvidia/lib\n/usr/local/nvidia/lib64\n")
    machine_driver(world, "container", "NVIDIA H100 80GB HBM3")
    if devel:
        cuda_repo_toolkit(world)
    else:
        elf_libraries(world, "/usr/local/cuda-12.4/targets/x86_64-linux/lib", TOOLKIT_LIBS)
        world.link("/usr/local/cuda-12.4/lib64", "targets/x86_64-linux/lib")
        world.link("/usr/local/cuda", "cuda-12.4")
    world.system_python("3.11")
    install_closure(world, "/usr/local/lib/python3.11/dist-packages", "torch-2.4.1")
    world.env.update(
        PATH="/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:"
        "/usr/sbin:/usr/bin:/sbin:/bin",
        LD_LIBRARY_PATH="/usr/local/nvidia/lib:/usr/local/nvidia/lib64",
        CUDA_VERSION="12.4.1",
        NVIDIA_VISIBLE_DEVICES="all",
        NVIDIA_DRIVER_CAPABILITIES="compute,utility",
        NVIDIA_REQUIRE_CUDA=REQUIRE_12_4,
    )


def uv_project(world: World) -> None:
    desktop(world)
    world.venv(PROJECT)
    install_closure(world, SITE, "torch-2.7.1", installer="uv")
    world.activate_venv(PROJECT)


def jupyter_kernel(world: World) -> None:
    """A kernel registered from inside the venv (`python -m ipykernel install --user`)."""
    desktop_pip_torch(world)
    kernel = {
        "argv": [f"{PROJECT}/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "proj",
        "language": "python",
    }
    world.file("/home/u/.local/share/jupyter/kernels/proj/kernel.json", json.dumps(kernel))


def cpu_laptop_tensorflow(world: World) -> None:
    """No NVIDIA GPU and no driver: plain `pip install tensorflow` runs on the CPU."""
    debian_root(world)
    world.system_python("3.11")
    pip_project(world, "tensorflow-latest")


def wsl2(world: World) -> None:
    """WSL2 per NVIDIA's guide: the Windows driver's libraries in /usr/lib/wsl/lib (copies,
    which ldconfig caches only as links ... here as WSL writes them), no Linux driver."""
    debian_root(world)
    world.env["WSL_DISTRO_NAME"] = "Ubuntu"
    libcuda = simple("libcuda.so.1", "cuInit")
    for name in ("libcuda.so.1.1", "libcuda.so.1", "libcuda.so"):
        place(world, f"/usr/lib/wsl/lib/{name}", libcuda)
    world.file("/etc/ld.so.conf.d/ld.wsl.conf", "/usr/lib/wsl/lib\n")
    world.system_python("3.11")
    pip_project(world, "torch-2.4.1")


def conda_cudatoolkit_pytorch(world: World) -> None:
    """Miniconda with `conda install pytorch=2.0.1 pytorch-cuda ... cudatoolkit=11.8`: the
    runtime only, and nothing here builds."""
    debian_root(world)
    machine_driver(world, "flat", "NVIDIA GeForce RTX 3090")
    ml_world(world)
    world.conda_record(ML, "cudatoolkit", "11.8.0", "h4ba93d1_13")
    world.conda_record(ML, "pytorch", "2.0.1", "py3.11_cuda11.8_cudnn8.7.0_0")
    place(world, f"{ML}/lib/libcudart.so.11.8.89", simple("libcudart.so.11.0"))
    world.link(f"{ML}/lib/libcudart.so.11.0", "libcudart.so.11.8.89")
    world.dist(ML_SITE, "torch", "2.0.1", installer="conda")
    world.file(f"{ML_SITE}/torch/version.py", "__version__ = '2.0.1'\ncuda = '11.8'\n")


def cupy_with_system_toolkit_13(world: World) -> None:
    desktop(world)
    cuda_repo_toolkit(world)
    pip_project(world, "cupy-cuda12x-13.3.0")


def cupy_with_system_toolkit(world: World) -> None:
    """cupy-cuda12x 14 without [ctk], using the CUDA 12.4 toolkit the loader's cache holds."""
    desktop(world)
    cuda_repo_toolkit(world)
    pip_project(world, "cupy-cuda12x-latest")


def jax_beside_an_old_toolkit(world: World) -> None:
    """jax[cuda12] newest with a CUDA 11.8 toolkit's bin/ on PATH: jax points XLA at its own
    nvcc wheel first (jaxlib ≥ 0.4.24), so the old ptxas is never used."""
    desktop(world)
    old = world.toolkit("/usr/local/cuda-11.8", "11.8.89", libs=())
    world.file(f"{old}/nvvm/libdevice/libdevice.10.bc", "bitcode\n")
    pip_project(world, "jax-cuda12-latest")
    world.env["PATH"] = f"{old}/bin:" + world.env["PATH"]


CPU_TORCH = Path(__file__).parent / "data/real/local/site-packages"
CPU_WHEEL = "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"


def cpu_laptop_cpu_torch(world: World) -> None:
    """A laptop without an NVIDIA GPU: PyTorch's CPU wheel (its real METADATA and version.py,
    from the wheel this machine image carries; tests/data/real/local/SOURCES.json)."""
    debian_root(world)
    world.system_python("3.11")
    world.venv(PROJECT)
    source = CPU_TORCH / CPU_WHEEL
    for member in ("torch/version.py", "torch-2.13.0+cpu.dist-info/METADATA"):
        world.file(f"{SITE}/{member}", (source / member).read_text())
    world.file(f"{SITE}/torch-2.13.0+cpu.dist-info/INSTALLER", "pip\n")
    for lib in ("libc10.so", "libtorch.so", "libtorch_cpu.so", "libtorch_python.so"):
        place(world, f"{SITE}/torch/lib/{lib}", simple(lib))
    world.activate_venv(PROJECT)


MACHINES: dict[str, Callable[[World], None]] = {
    "CPU laptop, PyTorch's CPU wheel": cpu_laptop_cpu_torch,
    "CPU laptop, plain tensorflow": cpu_laptop_tensorflow,
    "WSL2, pip torch 2.4.1": wsl2,
    "conda cudatoolkit 11.8 + conda pytorch, nothing to build": conda_cudatoolkit_pytorch,
    "desktop, cupy-cuda12x 14 with the system toolkit": cupy_with_system_toolkit,
    "desktop, jax[cuda12] newest beside an old toolkit on PATH": jax_beside_an_old_toolkit,
    "desktop, cupy-cuda12x 13.3.0 with the system toolkit": cupy_with_system_toolkit_13,
    "desktop, flat driver, pip torch 2.4.1": desktop_pip_torch,
    "desktop, Debian's driver packages, pip torch 2.7.1 (MVC on R535)": (
        desktop_debian_driver_torch_271
    ),
    "desktop, pip torch 2.8.0 (cu128) on R535": pip_stack("torch-2.8.0"),
    "desktop, pip torch 2.1.2": pip_stack("torch-2.1.2"),
    "desktop, pip torch 1.13.1 (cu117 wheels)": pip_stack("torch-1.13.1"),
    "desktop, pip torch 2.4.1 + torchvision 0.19.1": pip_stack("torch-2.4.1-torchvision-0.19.1"),
    "desktop, jax[cuda12] 0.4.30": pip_stack("jax-cuda12-0.4.30"),
    "desktop, jax[cuda12] newest": pip_stack("jax-cuda12-latest"),
    "desktop, tensorflow[and-cuda] 2.15.1": pip_stack("tensorflow-and-cuda-2.15.1"),
    "desktop, tensorflow[and-cuda] newest": pip_stack("tensorflow-and-cuda-latest"),
    "desktop, cupy-cuda12x[ctk] newest": pip_stack("cupy-cuda12x-ctk-latest"),
    "desktop, vllm 0.10.1.1 (torch 2.7.1, CUDA 12.6)": pip_stack("vllm-0.10.1.1", "NVIDIA L40S"),
    "desktop, a CUDA 12.4 toolkit for builds": desktop_toolkit_for_builds,
    "HPC node, module load cuda/12.4, pip cupy-cuda12x": hpc_module_cupy,
    "CUDA 12.4.1 runtime image running pip torch": lambda w: container(w, devel=False),
    "CUDA 12.4.1 devel image running pip torch": lambda w: container(w, devel=True),
    "uv project, torch 2.7.1": uv_project,
    "Jupyter kernel registered from the venv": jupyter_kernel,
}


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_a_healthy_machine_gets_nothing_above_info(tmp_path: Path, name: str) -> None:
    world = World(tmp_path / "world")
    MACHINES[name](world)
    report = finish(world)
    assert_diagnosis(report, max_severity="info")
