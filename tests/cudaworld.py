"""CUDA stacks in worlds, as real ELF files: a pip-installed torch linked as the real wheels
are (``_C.so`` → ``libtorch_cuda.so`` with DT_RPATH into ``site-packages/nvidia/*/lib``; the
NVIDIA wheels' libraries with RUNPATH ``$ORIGIN``), system toolkits' libraries, driver
libraries and stubs.  Libraries carry the real SONAMEs and, where it matters, GNU symbol
versions (``libnvJitLink.so.12`` defines one version node named after its SONAME, and newer
releases add ``__nvJitLink*_12_N`` symbols to it).

gcc outputs are cached per session: a world copies them into place.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from elfbuild import compile_elf
from worlds import ML_SITE, World, ml_world

_CACHE = Path(tempfile.mkdtemp(prefix="cudaenv-elf-cache-"))
# One cache per test session, gone with it.
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


def _nvjitlink_source(minors: Sequence[int]) -> tuple[str, str]:
    functions = [f"__nvJitLink{op}_12_{m}" for m in minors for op in ("Create", "Complete")]
    source = "\n".join(f"int {f}(void) {{ return {i}; }}" for i, f in enumerate(functions))
    script = (
        "libnvJitLink.so.12 { global: " + " ".join(f"{f};" for f in functions) + " local: *; };"
    )
    return source, script


def built(
    key: str,
    source: str,
    *,
    soname: str,
    needed: Sequence[Path] = (),
    rpath: Optional[str] = None,
    runpath: Optional[str] = None,
    version_script: Optional[str] = None,
) -> Path:
    """A shared library, built once per distinct recipe."""
    recipe = json.dumps(
        [key, source, soname, [str(n) for n in needed], rpath, runpath, version_script]
    )
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    out = _CACHE / digest / soname
    if not out.exists():
        compile_elf(
            out,
            source,
            soname=soname,
            link=needed,
            rpath=rpath,
            runpath=runpath,
            version_script=version_script,
        )
    return out


def nvjitlink(minors: Sequence[int]) -> Path:
    source, script = _nvjitlink_source(minors)
    return built(f"nvjitlink{minors}", source, soname="libnvJitLink.so.12", version_script=script)


def simple(soname: str, function: str = "f") -> Path:
    return built(
        soname, f"int {function}_{abs(hash(soname)) % 1000}(void) {{ return 0; }}", soname=soname
    )


def cusparse(nvjitlink_lib: Path) -> Path:
    """libcusparse.so.12 importing __nvJitLinkComplete_12_4@libnvJitLink.so.12."""
    return built(
        "cusparse",
        "int __nvJitLinkComplete_12_4(void);\n"
        "int cusparseCreate(void){return __nvJitLinkComplete_12_4();}",
        soname="libcusparse.so.12",
        needed=[nvjitlink_lib],
        runpath="$ORIGIN:$ORIGIN/../../nvjitlink/lib",
    )


def place(world: World, path: str, library: Path) -> str:
    target = world.real(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(library, target)
    return path


TORCH_PINS = {
    "nvidia-cuda-runtime-cu12": "12.4.127",
    "nvidia-cublas-cu12": "12.4.5.8",
    "nvidia-cusparse-cu12": "12.3.1.170",
    "nvidia-nvjitlink-cu12": "12.4.127",
    "nvidia-cudnn-cu12": "9.1.0.70",
}
_MARKER = '; platform_system == "Linux" and platform_machine == "x86_64"'


def pip_torch(
    world: World,
    site: str,
    *,
    wheels: bool = True,
    torch_cuda: str = "12.4",
    gpu_code: str = "",
) -> str:
    """torch 2.5.1 (CUDA 12.4) as pip installs it into ``site``, with or without its wheels;
    ``gpu_code`` is C source adding a ``.nv_fatbin`` to libtorch_cuda.so (gpucode.py)."""
    njl = nvjitlink([1, 4])
    libs = {
        "cuda_runtime": [simple("libcudart.so.12", "cudaMalloc")],
        "cublas": [simple("libcublasLt.so.12", "cublasLtCreate")],
        "nvjitlink": [njl],
        "cusparse": [cusparse(njl)],
        "cudnn": [simple("libcudnn.so.9", "cudnnCreate")],
    }
    cublas = built(
        "cublas",
        "int cublasLtCreate_x(void); int cublasCreate(void){return 0;}",
        soname="libcublas.so.12",
        needed=[libs["cublas"][0]],
        runpath="$ORIGIN",
    )
    libs["cublas"].append(cublas)
    if wheels:
        for component, files in libs.items():
            for lib in files:
                place(world, f"{site}/nvidia/{component}/lib/{lib.name}", lib)
        for name, version in TORCH_PINS.items():
            world.dist(site, name, version)
    rpath = ":".join(f"$ORIGIN/../../nvidia/{c}/lib" for c in libs) + ":$ORIGIN"
    needed = [libs["cuda_runtime"][0], cublas, libs["cusparse"][0], libs["cudnn"][0]]
    torch_cuda_lib = built(
        "torch_cuda",
        "int torch_cuda(void){return 0;}\n" + gpu_code,
        soname="libtorch_cuda.so",
        needed=needed,
        rpath=rpath,
    )
    place(world, f"{site}/torch/lib/libtorch_cuda.so", torch_cuda_lib)
    ext = built(
        "torch_C",
        "int PyInit__C(void){return 0;}",
        soname="_C.so",
        needed=[torch_cuda_lib],
        rpath="$ORIGIN/lib",
    )
    place(world, f"{site}/torch/_C.cpython-311-x86_64-linux-gnu.so", ext)
    world.file(f"{site}/torch/__init__.py", "")
    world.file(
        f"{site}/torch/version.py", f"__version__ = '2.5.1'\ncuda: Optional[str] = '{torch_cuda}'\n"
    )
    requires = [f"{name}=={version}{_MARKER}" for name, version in TORCH_PINS.items()]
    world.dist(
        site, "torch", "2.5.1", requires=["filelock", *requires, "triton==3.1.0; extra == 'x'"]
    )
    return site


def system_nvjitlink(world: World, root: str, minors: Sequence[int], real_version: str) -> str:
    """A toolkit's libnvJitLink: the versioned file and its SONAME link, as installers do."""
    lib = nvjitlink(minors)
    place(world, f"{root}/lib64/libnvJitLink.so.{real_version}", lib)
    world.link(f"{root}/lib64/libnvJitLink.so.12", f"libnvJitLink.so.{real_version}")
    return f"{root}/lib64"


PROC_VERSION = {
    "proprietary": (
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  {v}  Sat Aug 19 01:15:15 UTC 2023\n"
    ),
    "open": "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {v}  Release Build  "
    "(dvs-builder@U16-I3-B03-4-3)  Wed May 14 14:11:09 UTC 2025\n",
}
GCC_LINE = "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"


def gpu(world: World, model: str, pci: str = "0000:01:00.0") -> None:
    """One GPU as the loaded driver lists it."""
    world.file(
        f"/proc/driver/nvidia/gpus/{pci}/information",
        f"Model: \t\t {model}\nIRQ:   \t\t 140\nGPU UUID: \t GPU-{abs(hash(pci)) % 10**8:08d}-"
        f"0000-0000-0000-000000000000\nVideo BIOS: \t 94.02.42.00.a9\nBus Type: \t PCIe\n"
        f"DMA Size: \t 47 bits\nDMA Mask: \t 0x7fffffffffff\nBus Location: \t {pci}\n"
        "Device Minor: \t 0\nGPU Excluded:\t No\n",
    )


def driver_libraries(
    world: World, version: str, libdir: str = "/usr/lib/x86_64-linux-gnu", nvml: bool = True
) -> str:
    """User-space driver libraries as the packages install them: the versioned file and the
    SONAME link (real ELF files with the real SONAMEs)."""
    place(world, f"{libdir}/libcuda.so.{version}", simple("libcuda.so.1", "cuInit"))
    world.link(f"{libdir}/libcuda.so.1", f"libcuda.so.{version}")
    if nvml:
        place(world, f"{libdir}/libnvidia-ml.so.{version}", simple("libnvidia-ml.so.1", "nvmlInit"))
        world.link(f"{libdir}/libnvidia-ml.so.1", f"libnvidia-ml.so.{version}")
    return libdir


def driver(
    world: World,
    version: str = "550.54.14",
    *,
    gpus: tuple[str, ...] = ("NVIDIA GeForce RTX 4090",),
    flavor: str = "proprietary",
    libraries: bool = True,
    libdir: str = "/usr/lib/x86_64-linux-gnu",
) -> None:
    """A loaded NVIDIA driver: the kernel module's files, its GPUs, its user-space libraries."""
    world.file("/proc/driver/nvidia/version", PROC_VERSION[flavor].format(v=version) + GCC_LINE)
    world.file("/sys/module/nvidia/version", version + "\n")
    for index, model in enumerate(gpus):
        gpu(world, model, f"0000:{index + 1:02x}:00.0")
    if libraries:
        driver_libraries(world, version, libdir)


def node_world(
    root: Path,
    *,
    driver_version: str = "550.54.15",
    odd_ld_path: bool = False,
    hostname: Optional[str] = None,
) -> World:
    """A cluster node: a pip-installed CUDA torch in a conda env, an H100 and its driver."""
    world = ml_world(World(root))
    pip_torch(world, ML_SITE)
    driver(world, driver_version, gpus=("NVIDIA H100 80GB HBM3",))
    if odd_ld_path:  # a module system's LD_LIBRARY_PATH on this node only
        world.env["LD_LIBRARY_PATH"] = system_nvjitlink(
            world, "/usr/local/cuda-12.1", [1], "12.1.105"
        )
    if hostname:
        world.file("/etc/hostname", hostname + "\n")
    return world
