"""CUDA stacks in worlds, as real ELF files: a pip-installed torch linked as the real wheels
are (``_C.so`` → ``libtorch_cuda.so`` with DT_RPATH into ``site-packages/nvidia/*/lib``; the
NVIDIA wheels' libraries with RUNPATH ``$ORIGIN``), system toolkits' libraries, driver
libraries and stubs.  Libraries carry the real SONAMEs and, where it matters, GNU symbol
versions (``libnvJitLink.so.12`` defines one version node named after its SONAME, and newer
releases add ``__nvJitLink*_12_N`` symbols to it).

gcc outputs are cached per session: a world copies them into place.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from elfbuild import compile_elf
from worlds import World

_CACHE = Path(tempfile.mkdtemp(prefix="cudaenv-elf-cache-"))


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


def pip_torch(world: World, site: str, *, wheels: bool = True, torch_cuda: str = "12.4") -> str:
    """torch 2.5.1 (CUDA 12.4) as pip installs it into ``site``, with or without its wheels."""
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
        "int torch_cuda(void){return 0;}",
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
