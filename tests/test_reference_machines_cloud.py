"""Healthy reference machines from the cloud and from images (the suite of
tests/test_reference_machines.py): NVIDIA's NGC PyTorch container, PyTorch's own Docker images
(pip era and conda era), a conda env built from the ``pytorch`` and ``nvidia`` channels, a
Colab-like and a Kaggle-like GPU runtime, and a JupyterHub user with a kernel per conda env.

Each machine's docstring says where its layout facts come from and what was not verified.
Sources read for this file (through the project's search tools, on the day it was written):

- NGC PyTorch: a public ``docker history`` of an image built FROM ``nvcr.io/nvidia/pytorch``
  (26.07; every ENV line: ``PATH``, ``LD_LIBRARY_PATH=<dist-packages>/torch/lib:
  <dist-packages>/torch_tensorrt/lib:/usr/local/cuda/compat/lib:/usr/local/nvidia/lib:
  /usr/local/nvidia/lib64``, ``CUDA_HOME=/usr/local/cuda``, ``NVIDIA_REQUIRE_CUDA=cuda>=9.0``,
  ``_CUDA_COMPAT_PATH=/usr/local/cuda/compat``, ``/etc/ld.so.conf.d/nvidia.conf``, the
  ``ln -sf ${_CUDA_COMPAT_PATH}/lib.real ${_CUDA_COMPAT_PATH}/lib && echo ... >
  /etc/ld.so.conf.d/00-cuda-compat.conf && ldconfig && rm -f ${_CUDA_COMPAT_PATH}/lib`` step,
  ``pip install /opt/transfer/torch*.whl`` into ``/usr/local/lib/python${PYVER}/dist-packages``);
  the same PATH / LD_LIBRARY_PATH with ``python3.10`` in a public script run in a 24.0x
  container; NGC 24.05 sibling release notes (MXNet, PaddlePaddle 24.05: Ubuntu 22.04 with
  Python 3.10, CUDA 12.4.1, cuDNN 9.1.0.70, NCCL 2.21.5; "535.86 (or later R535)" on data
  center GPUs); the 24.05 torch version ``2.4.0a0+07cecf4168.nv24.05`` (NVIDIA's Jetson wheel
  of the same build, and ``torch==2.4.0a0+07cecf4168.nv24.5`` in a pip freeze from the
  container); the entrypoint's ``nvidia_entrypoint.sh`` fragments (``CUDA_DRIVER_VERSION``,
  ``_CUDA_COMPAT_STATUS == "CUDA Driver OK"``, "Compatibility mode ENABLED"), a public ``diff``
  of ``env`` with and without the entrypoint (the entrypoint prepends
  ``/usr/local/cuda/compat/lib.real`` to LD_LIBRARY_PATH and sets _CUDA_COMPAT_STATUS) and a
  write-up quoting ``/etc/shinit_v2`` (the same, after ``cudaCheck``).
- PyTorch's images: pytorch/pytorch ``Dockerfile`` (two stored versions: conda era, Miniconda
  + ``conda install -c pytorch -c nvidia ... pytorch-cuda=<x.y>``; pip era, Miniforge + ``pip
  install --extra-index-url https://download.pytorch.org/whl/... torch``; ``official`` stage:
  ``ENV PATH /opt/conda/bin:$PATH``, ``LD_LIBRARY_PATH /usr/local/nvidia/lib:
  /usr/local/nvidia/lib64``, ``NVIDIA_VISIBLE_DEVICES``, ``NVIDIA_DRIVER_CAPABILITIES``,
  ``PYTORCH_VERSION``, ``WORKDIR /workspace``), ``docker.Makefile`` (runtime image FROM
  ``ubuntu``), ``.github/workflows/docker-release.yml`` (``BUILD_TYPE: official`` for every
  image); a public ``docker history`` of a pytorch-nightly image (the ENV lines).
- pytorch/builder: ``conda/build_pytorch.sh`` (build string ``py${py_ver}_cuda${CUDA_VERSION}
  _cudnn${CUDNN_VERSION}_${PYTORCH_BUILD_NUMBER}``, ``pytorch-cuda >=12.1,<12.2``),
  ``conda/pytorch-nightly/build.sh`` (for CUDA 12.1: ``USE_STATIC_CUDNN=0`` and cuDNN 8's
  ``libcudnn*.so.8`` and CUPTI copied into ``torch/lib``; DT_RPATH ``$ORIGIN:$ORIGIN/lib:
  $ORIGIN/../../..`` on ``torch/*.so`` and ``$ORIGIN:$ORIGIN/../../../..`` on
  ``torch/lib/*.so*``, with ``--force-rpath``), ``conda/pytorch-cuda/meta.yaml`` (the 12.1
  pins of cuda-cudart, libcublas, libcufft, libcusolver, libcusparse, libnvjitlink ...);
  public scripts naming ``<conda env>/lib/libcudart.so.12.1.105`` (the nvidia channel's
  libraries directly in the prefix's ``lib/``).
- Colab: public ``env`` / ``echo $PATH`` dumps from Colab (``PATH=/opt/bin:/usr/local/nvidia/
  bin:/usr/local/cuda/bin:...:/tools/node/bin:/tools/google-cloud-sdk/bin``, the kernel's
  ``LD_LIBRARY_PATH=/usr/lib64-nvidia``, ``COLAB_GPU``, ``PYTHONPATH=/env/python``,
  ``NV_CUDA_COMPAT_PACKAGE=cuda-compat-12-2``, ``NV_CUDA_LIB_VERSION=12.2.2-1``, cuDNN
  8.9.6.50), ``/usr/bin/nvidia-smi -> /opt/bin/.nvidia/nvidia-smi``, and a workaround for
  pytorch/pytorch #107960 (``ldconfig /usr/lib64-nvidia`` then lists ``libcuda.so.1``,
  ``libcuda.so``, ``libcudadebugger.so.1`` there: the directory is not in the cache).
- Kaggle: Kaggle/docker-python ``Dockerfile.tmpl`` and ``config.txt`` (the Colab runtime as
  base image from 2024-11; ``update-alternatives --set cuda /usr/local/cuda-12.2``;
  ``CUDA_HOME=/usr/local/cuda``; 2026: driver libraries "mounted ... at runtime into
  /usr/local/nvidia/lib64"); GoogleCloudPlatform/container-engine-accelerators' device plugin
  (every NVIDIA library of the host under one directory, mounted at ``/usr/local/nvidia/lib64``).
- JupyterHub: ipykernel ``kernelspec.py`` (``argv = [sys.executable, "-m",
  "ipykernel_launcher", "-f", "{connection_file}"]``, ``--name`` / ``--display-name``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import kit_debian
import kit_pypi
from cudaworld import built, driver, place, simple
from reference import debian_root, elf_libraries, install_closure, machine_driver
from test_reference_machines import TOOLKIT_LIBS, finish
from test_reference_machines_more import _copy, _kernel_and_driver_records
from worlds import World, assert_diagnosis

pytestmark = pytest.mark.slow

TRIPLET_LIB = f"/usr/lib/{kit_debian.TRIPLET}"


def _docker(world: World, workdir: str) -> None:
    """What every image run by Docker shows: /.dockerenv, root's HOME, the WORKDIR."""
    world.file("/.dockerenv", "")
    world.env["HOME"] = "/root"
    world.env["PWD"] = workdir
    world.env.pop("USER", None)
    world.mkdir("/root")
    world.mkdir(workdir)


def _driver_in(world: World, libdir: str, smi: str, gpu_model: str) -> str:
    """The real R535 driver files (kit_debian's fetch) copied into ``libdir`` as one directory
    of a host's libraries mounted into a container: each versioned file with its SONAME link,
    ``libcuda.so`` and ``libnvidia-ml.so`` dev links; nvidia-smi at ``smi``.  Which links those
    mounts carry is not verified (only that libcuda.so.1 and libcuda.so are there)."""
    version, records = _kernel_and_driver_records()
    files = kit_debian._driver_files(records, version)
    upstream = version.split("-", maxsplit=1)[0]
    for name, source in files.items():
        if name == "nvidia-smi":
            _copy(world, source, smi)
            continue
        _copy(world, source, f"{libdir}/{name}")
        stem = name.split(".so.", 1)[0]
        if stem in ("libcuda", "libnvidia-ml", "libnvidia-ptxjitcompiler"):
            world.link(f"{libdir}/{stem}.so.1", name)
        if stem in ("libcuda", "libnvidia-ml"):
            world.link(f"{libdir}/{stem}.so", f"{stem}.so.1")
    kit_debian.write_kernel_files(world.root, upstream, kit_debian._nvrm_id(version), gpu_model)
    return upstream


def _repo_toolkit(world: World, version: str, full: str, alternatives: bool = False) -> str:
    """NVIDIA's CUDA repository toolkit as its .debs lay it out (the suite's
    cuda_repo_toolkit, for another version): /usr/local/cuda-X.Y with nvcc, headers and the
    toolkit libraries, the /usr/local/cuda link (through /etc/alternatives when
    ``alternatives``, as update-alternatives leaves it), 000_cuda.conf and 988_cuda-12.conf."""
    root = f"/usr/local/cuda-{version}"
    world.toolkit(root, full, libs=())
    elf_libraries(world, f"{root}/targets/x86_64-linux/lib", TOOLKIT_LIBS)
    if alternatives:
        world.link("/etc/alternatives/cuda", root)
        world.link("/usr/local/cuda", "/etc/alternatives/cuda")
    else:
        world.link("/usr/local/cuda", f"cuda-{version}")
    world.link("/usr/local/cuda-12", f"cuda-{version}")
    world.file("/etc/ld.so.conf.d/000_cuda.conf", "/usr/local/cuda/targets/x86_64-linux/lib\n")
    world.file(
        "/etc/ld.so.conf.d/988_cuda-12.conf", "/usr/local/cuda-12/targets/x86_64-linux/lib\n"
    )
    return root


# -- 1-2. NVIDIA's NGC PyTorch container 24.05 ----------------------------------------------------

NGC_SITE = "/usr/local/lib/python3.10/dist-packages"
NGC_TORCH = "2.4.0a0+07cecf4168.nv24.5"
NGC_COMPAT = "/usr/local/cuda-12.4/compat/lib.real"
NGC_DRIVER = "550.54.15"  # CUDA_DRIVER_VERSION of a CUDA 12.4.1 image: not read from 24.05
NGC_PATH = (
    f"{NGC_SITE}/torch_tensorrt/bin:/usr/local/mpi/bin:/usr/local/nvidia/bin:/usr/local/cuda/bin:"
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/ucx/bin:"
    "/opt/tensorrt/bin"
)
NGC_LD_LIBRARY_PATH = (
    f"{NGC_SITE}/torch/lib:{NGC_SITE}/torch_tensorrt/lib:/usr/local/cuda/compat/lib:"
    "/usr/local/nvidia/lib:/usr/local/nvidia/lib64"
)
# torch/lib of the source build and what each links (cuDNN 9 and NCCL from /usr/lib/<triplet>,
# CUDA from the toolkit): patterned on the real 2.4.1 PyPI wheel's NEEDED entries (kit ELF
# facts; libtorch_cuda.so's are not in the kit), not read from the NGC binaries.
NGC_TORCH_LIBS: dict[str, list[str]] = {
    "libc10.so": [],
    "libc10_cuda.so": ["libc10.so", "libcudart.so.12"],
    "libtorch_cpu.so": ["libc10.so"],
    "libtorch_cuda.so": [
        "libc10_cuda.so",
        "libtorch_cpu.so",
        "libcudart.so.12",
        "libcublas.so.12",
        "libcublasLt.so.12",
        "libcudnn.so.9",
        "libcusparse.so.12",
        "libcufft.so.11",
        "libcurand.so.10",
        "libnccl.so.2",
    ],
    "libcaffe2_nvrtc.so": ["libcuda.so.1", "libnvrtc.so.12"],
    "libtorch.so": ["libtorch_cpu.so", "libtorch_cuda.so"],
    "libtorch_python.so": ["libtorch.so", "libc10_cuda.so", "libcudart.so.12", "libcudnn.so.9"],
}


def _ngc_pytorch_2405(world: World) -> None:
    """The image itself (``nvcr.io/nvidia/pytorch:24.05-py3``): Ubuntu 22.04's Python 3.10
    with ``python-is-python3`` and pip upgraded into /usr/local (``pip install
    --ignore-installed --upgrade pip``); CUDA 12.4 as NVIDIA's repository lays it out (nvcc,
    headers, libraries, 000_cuda.conf / 988_cuda-12.conf: NGC installs CUDA with its own
    build scripts, whose files were not read, so this layout is the suite's CUDA-image one);
    cuDNN 9 and NCCL in the multiarch directory (not verified); torch from NGC's own wheel
    (``pip install /opt/transfer/torch*.whl``, so INSTALLER pip and no nvidia-* requirement),
    its libraries with DT_RUNPATH ``$ORIGIN`` (a CMake install RPATH: not read from the
    binaries); ``/usr/local/cuda/compat/lib.real`` with the compat driver of CUDA 12.4
    (``libcuda.so.<v>`` and friends, as cuda-compat packages ship them: not listed from the
    image); ``00-cuda-compat.conf`` naming ``/usr/local/cuda/compat/lib`` and ``nvidia.conf``;
    the ENV lines of the NGC docker history with PYVER 3.10 (torch_tensorrt's bin/lib dirs
    are on PATH/LD_LIBRARY_PATH; only their directories are written here)."""
    debian_root(world)
    _docker(world, "/workspace")
    world.file("/etc/ld.so.conf.d/nvidia.conf", "/usr/local/nvidia/lib\n/usr/local/nvidia/lib64\n")
    world.file("/etc/ld.so.conf.d/00-cuda-compat.conf", "/usr/local/cuda/compat/lib\n")
    _repo_toolkit(world, "12.4", "12.4.131")
    extra = ("libcusolver.so.11", "libnvJitLink.so.12")
    elf_libraries(world, "/usr/local/cuda-12.4/targets/x86_64-linux/lib", extra)
    elf_libraries(world, TRIPLET_LIB, ("libcudnn.so.9", "libnccl.so.2"))
    compat = {
        "libcuda": ("libcuda.so.1", True),
        "libcudadebugger": ("libcudadebugger.so.1", False),
        "libnvidia-nvvm": ("libnvidia-nvvm.so.4", True),
        "libnvidia-ptxjitcompiler": ("libnvidia-ptxjitcompiler.so.1", False),
    }
    for stem, (soname, dev_link) in compat.items():
        name = f"{stem}.so.{NGC_DRIVER}"
        place(world, f"{NGC_COMPAT}/{name}", simple(soname, stem.replace("-", "_")))
        world.link(f"{NGC_COMPAT}/{soname}", name)
        if dev_link:
            world.link(f"{NGC_COMPAT}/{stem}.so", soname)
    world.system_python("3.10")
    world.link("/usr/bin/python", "python3")
    world.script("/usr/local/bin/pip", "/usr/bin/python")
    world.dist(NGC_SITE, "pip", "24.0")
    libs: dict[str, Path] = {}
    for soname in (*TOOLKIT_LIBS, *extra):
        libs[soname] = simple(soname)
    for soname in ("libcudnn.so.9", "libnccl.so.2"):
        libs[soname] = simple(soname)
    libs["libcuda.so.1"] = simple("libcuda.so.1", "cuInit")
    for soname, needed in NGC_TORCH_LIBS.items():
        libs[soname] = built(
            f"ngc:{soname}",
            f"int ngc_{len(libs)}(void) {{ return 0; }}",
            soname=soname,
            needed=[libs[n] for n in needed],
            runpath="$ORIGIN",
        )
        place(world, f"{NGC_SITE}/torch/lib/{soname}", libs[soname])
    place(
        world,
        f"{NGC_SITE}/torch/_C.cpython-310-x86_64-linux-gnu.so",
        built(
            "ngc:_C",
            "int PyInit__C(void) { return 0; }",
            soname="_C.so",
            needed=[libs["libtorch_python.so"]],
            runpath="$ORIGIN/lib",
        ),
    )
    world.file(f"{NGC_SITE}/torch/__init__.py", "")
    world.file(
        f"{NGC_SITE}/torch/version.py",
        "from typing import Optional\n\n__all__ = ['__version__', 'debug', 'cuda', "
        "'git_version', 'hip']\n__version__ = '2.4.0a0+07cecf4168.nv24.05'\ndebug = False\n"
        "cuda: Optional[str] = '12.4'\ngit_version = '07cecf4168'\nhip: Optional[str] = None\n",
    )
    world.dist(
        NGC_SITE,
        "torch",
        NGC_TORCH,
        requires=["filelock", "typing-extensions>=4.8.0", "sympy", "networkx", "jinja2"],
    )
    for directory in ("torch_tensorrt/lib", "torch_tensorrt/bin"):
        world.mkdir(f"{NGC_SITE}/{directory}")
    world.env.update(
        PATH=NGC_PATH,
        LD_LIBRARY_PATH=NGC_LD_LIBRARY_PATH,
        CUDA_HOME="/usr/local/cuda",
        CUDA_VERSION="12.4.1.003",
        CUDA_DRIVER_VERSION=NGC_DRIVER,
        _CUDA_COMPAT_PATH="/usr/local/cuda/compat",
        NVIDIA_REQUIRE_CUDA="cuda>=9.0",
        NVIDIA_VISIBLE_DEVICES="all",
        NVIDIA_DRIVER_CAPABILITIES="compute,utility,video",
        NVIDIA_PRODUCT_NAME="PyTorch",
        NVIDIA_PYTORCH_VERSION="24.05",
        PYTORCH_VERSION="2.4.0a0+07cecf4168",
        LIBRARY_PATH="/usr/local/cuda/lib64/stubs:",
        ENV="/etc/shinit_v2",
        BASH_ENV="/etc/bash.bashrc",
    )


def ngc_pytorch_forward_compat(world: World) -> None:
    """``docker run --gpus all nvcr.io/nvidia/pytorch:24.05-py3`` on an H100 server with the
    R535 driver (kit "container" flavour: the files nvidia-container-toolkit injects): CUDA
    12.4 on a 12.2 driver through forward compatibility, which NGC's release notes support on
    data center GPUs from 535.86.  The entrypoint's compat check passes ("CUDA Driver OK") and
    ``/usr/local/cuda/compat/lib.real`` goes first on LD_LIBRARY_PATH, as the public env diff
    of a 2026 image shows; that 24.05's /etc/shinit_v2 does it the same way (and not with the
    ``compat/lib`` symlink its ENV names) was not verified.  ``CUDA_VERSION`` is 12.4.1's
    ``.003``-style build number by analogy with later images: not read from 24.05."""
    _ngc_pytorch_2405(world)
    machine_driver(world, "container", "NVIDIA H100 80GB HBM3")
    world.env["LD_LIBRARY_PATH"] = "/usr/local/cuda/compat/lib.real:" + NGC_LD_LIBRARY_PATH
    world.env["_CUDA_COMPAT_STATUS"] = "CUDA Driver OK"


def ngc_pytorch_r550(world: World) -> None:
    """The same image on an A100 host whose driver (R550, 550.90.07: cudaworld's stand-in, the
    kit's real driver is R535 only) is new enough: the entrypoint leaves LD_LIBRARY_PATH as the
    image's ENV sets it, ``/usr/local/cuda/compat/lib`` does not exist, and the compat files
    stay unused in ``lib.real``.  The stand-in driver libraries sit in the multiarch directory,
    where nvidia-container-toolkit injects them."""
    _ngc_pytorch_2405(world)
    driver(world, "550.90.07", gpus=("NVIDIA A100-SXM4-80GB",))


# -- 3. PyTorch's Docker image, pip era -------------------------------------------------------

OPT_CONDA = "/opt/conda"


def pytorch_image_pip_era(world: World) -> None:
    """``docker run --gpus all pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime`` on an RTX 4090
    desktop (kit "container" driver, R535: CUDA 12.6 by minor-version compatibility).

    The pip-era Dockerfile: Miniforge in /opt/conda (base env, never activated), ``conda
    install python=3.11``, then ``pip install --extra-index-url
    https://download.pytorch.org/whl/cu126/ torch ...`` into the base env's site-packages
    (the kit's ``torch-2.7.1`` closure from PyPI, whose default build is the same CUDA 12.6
    one: its METADATA says 2.7.1, where the download.pytorch.org wheel says 2.7.1+cu126 with
    the same requirements: not compared file by file); torchvision, torchaudio and
    ``pip install torchelastic`` are left out (not in the kit).  The runtime image is FROM
    ubuntu (docker.Makefile), so it has no nvidia.conf and no toolkit; ``official`` stage ENV
    lines as written in the Dockerfile: PATH gets /opt/conda/bin, then /usr/local/nvidia/bin
    and /usr/local/cuda/bin in front (neither exists in this image)."""
    debian_root(world)
    _docker(world, "/workspace")
    machine_driver(world, "container", "NVIDIA GeForce RTX 4090")
    world.conda_base(OPT_CONDA, python="3.11.13")
    install_closure(world, f"{OPT_CONDA}/lib/python3.11/site-packages", "torch-2.7.1")
    world.env.update(
        PATH="/usr/local/nvidia/bin:/usr/local/cuda/bin:/opt/conda/bin:/usr/local/sbin:"
        "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        LD_LIBRARY_PATH="/usr/local/nvidia/lib:/usr/local/nvidia/lib64",
        NVIDIA_VISIBLE_DEVICES="all",
        NVIDIA_DRIVER_CAPABILITIES="compute,utility",
        PYTORCH_VERSION="2.7.1",
    )


# -- 4-5. conda's pytorch + pytorch-cuda=12.1 from the pytorch and nvidia channels --------------

PYTORCH_CHANNEL = "https://conda.anaconda.org/pytorch/linux-64"
NVIDIA_CHANNEL = "https://conda.anaconda.org/nvidia/linux-64"
# The nvidia channel's CUDA 12.1 libraries: SONAME -> (package, version, file version). Package
# versions inside pytorch-cuda 12.1's pins (libcublas <12.1.3.1, libcufft <11.0.2.54, ...);
# libcurand's 10.3.2.106 and the exact builds are not verified.
NVIDIA_121_LIBS = {
    "libcudart.so.12": ("cuda-cudart", "12.1.105", "12.1.105"),
    "libnvrtc.so.12": ("cuda-nvrtc", "12.1.105", "12.1.105"),
    "libnvToolsExt.so.1": ("cuda-nvtx", "12.1.105", "1.0.0"),
    "libnvJitLink.so.12": ("libnvjitlink", "12.1.105", "12.1.105"),
    "libcublasLt.so.12": ("libcublas", "12.1.0.26", "12.1.0.26"),
    "libcublas.so.12": ("libcublas", "12.1.0.26", "12.1.0.26"),
    "libcufft.so.11": ("libcufft", "11.0.2.4", "11.0.2.4"),
    "libcurand.so.10": ("libcurand", "10.3.2.106", "10.3.2.106"),
    "libcusparse.so.12": ("libcusparse", "12.0.2.55", "12.0.2.55"),
    "libcusolver.so.11": ("libcusolver", "11.4.4.55", "11.4.4.55"),
}
NVIDIA_121_NEEDED = {
    "libcublas.so.12": ["libcublasLt.so.12"],
    "libcusparse.so.12": ["libnvJitLink.so.12"],
    "libcusolver.so.11": ["libcublas.so.12", "libcublasLt.so.12", "libcusparse.so.12"],
}
CONDA_212_TORCH_LIBS: dict[str, list[str]] = {
    "libc10.so": [],
    "libc10_cuda.so": ["libc10.so", "libcudart.so.12"],
    "libtorch_cpu.so": ["libc10.so"],
    "libtorch_global_deps.so": ["libcudart.so.12", "libnvToolsExt.so.1"],
    "libtorch_cuda.so": [
        "libc10_cuda.so",
        "libtorch_cpu.so",
        "libcudart.so.12",
        "libnvToolsExt.so.1",
        "libcublas.so.12",
        "libcublasLt.so.12",
        "libcudnn.so.8",
        "libcusparse.so.12",
        "libcufft.so.11",
        "libcurand.so.10",
        "libcusolver.so.11",
    ],
    "libcaffe2_nvrtc.so": ["libcuda.so.1", "libnvrtc.so.12"],
    "libtorch.so": ["libtorch_cpu.so", "libtorch_cuda.so"],
    "libshm.so": ["libtorch_cpu.so", "libc10.so"],
    "libtorch_python.so": [
        "libtorch.so",
        "libshm.so",
        "libnvToolsExt.so.1",
        "libc10_cuda.so",
        "libcudart.so.12",
        "libcudnn.so.8",
    ],
}
CUDNN8 = (
    "libcudnn.so.8",
    "libcudnn_ops_infer.so.8",
    "libcudnn_ops_train.so.8",
    "libcudnn_cnn_infer.so.8",
    "libcudnn_cnn_train.so.8",
    "libcudnn_adv_infer.so.8",
    "libcudnn_adv_train.so.8",
)
TORCH_212_VERSION_PY = "torch-2.1.2-cp311-cp311-manylinux1_x86_64.whl/torch/version.py"


def _conda_record(
    world: World, prefix: str, name: str, version: str, build: str, channel: str
) -> None:
    number = re.search(r"_(\d+)$", build)
    record = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": int(number.group(1)) if number else 0,
        "channel": channel,
        "subdir": "noarch" if name == "pytorch-cuda" else "linux-64",
        "files": [],
    }
    world.file(f"{prefix}/conda-meta/{name}-{version}-{build}.json", json.dumps(record))


def conda_pytorch_212_cuda121(world: World, prefix: str, py: str) -> None:
    """``conda install pytorch==2.1.2 pytorch-cuda=12.1 -c pytorch -c nvidia`` into ``prefix``
    (Python ``py``): the records (pytorch ``py<py>_cuda12.1_cudnn8.9.2_0``, pytorch-mutex
    ``cuda``, pytorch-cuda 12.1 and the nvidia channel's CUDA 12.1 packages; pytorch-cuda's
    build hash and the nvidia packages' build strings are illustrative), the nvidia channel's
    libraries in ``prefix/lib`` (versioned file + SONAME link; file names as public scripts
    show ``lib/libcudart.so.12.1.105``), and torch as pytorch/builder's conda build leaves it:
    cuDNN 8's libraries copied into ``torch/lib`` under their own names, DT_RPATH
    ``$ORIGIN:$ORIGIN/../../../..`` on torch/lib and ``$ORIGIN:$ORIGIN/lib:$ORIGIN/../../..`` on
    ``_C``.  The NEEDED lists follow the real 2.4.1 wheel's (kit ELF facts) with cuDNN 8; the
    hashed ``libcupti-<sha>.so.12`` the build also copies in is left out (its hash is not
    known).  ``torch/version.py`` is the real 2.1.2 wheel's with the conda build's plain
    version (``PYTORCH_BUILD_VERSION=$PKG_VERSION``).  torch's metadata is written as a
    dist-info with INSTALLER conda, as the suite's other conda machines do: whether the conda
    package carries a dist-info or an egg-info was not verified."""
    short = py.replace(".", "")
    site = f"{prefix}/lib/python{py}/site-packages"
    _conda_record(
        world, prefix, "pytorch", "2.1.2", f"py{py}_cuda12.1_cudnn8.9.2_0", PYTORCH_CHANNEL
    )
    _conda_record(world, prefix, "pytorch-mutex", "1.0", "cuda", PYTORCH_CHANNEL)
    _conda_record(world, prefix, "pytorch-cuda", "12.1", "ha16c6d3_5", PYTORCH_CHANNEL)
    _conda_record(world, prefix, "torchtriton", "2.1.0", f"py{short}", PYTORCH_CHANNEL)
    for name in ("cuda-runtime", "cuda-libraries"):
        _conda_record(world, prefix, name, "12.1.0", "0", NVIDIA_CHANNEL)
    _conda_record(world, prefix, "cuda-cupti", "12.1.105", "0", NVIDIA_CHANNEL)
    seen = set()
    libs: dict[str, Path] = {}
    for soname, (package, version, file_version) in NVIDIA_121_LIBS.items():
        if package not in seen:
            _conda_record(world, prefix, package, version, "0", NVIDIA_CHANNEL)
            seen.add(package)
        libs[soname] = built(
            f"nv121:{soname}",
            f"int nv_{len(libs)}(void) {{ return 0; }}",
            soname=soname,
            needed=[libs[n] for n in NVIDIA_121_NEEDED.get(soname, [])],
        )
        stem = soname.split(".so.", 1)[0]
        place(world, f"{prefix}/lib/{stem}.so.{file_version}", libs[soname])
        world.link(f"{prefix}/lib/{soname}", f"{stem}.so.{file_version}")
    lib = f"{site}/torch/lib"
    for soname in CUDNN8:
        libs[soname] = simple(soname)
        place(world, f"{lib}/{soname}", libs[soname])
    libs["libcuda.so.1"] = simple("libcuda.so.1", "cuInit")
    for soname, needed in CONDA_212_TORCH_LIBS.items():
        libs[soname] = built(
            f"conda212:{soname}",
            f"int ct_{len(libs)}(void) {{ return 0; }}",
            soname=soname,
            needed=[libs[n] for n in needed],
            rpath="$ORIGIN:$ORIGIN/../../../..",
        )
        place(world, f"{lib}/{soname}", libs[soname])
    place(
        world,
        f"{site}/torch/_C.cpython-{short}-x86_64-linux-gnu.so",
        built(
            f"conda212:_C{short}",
            "int PyInit__C(void) { return 0; }",
            soname="_C.so",
            needed=[libs["libtorch_python.so"]],
            rpath="$ORIGIN:$ORIGIN/lib:$ORIGIN/../../..",
        ),
    )
    world.file(f"{site}/torch/__init__.py", "")
    version_py = kit_pypi.member(TORCH_212_VERSION_PY).decode()
    world.file(f"{site}/torch/version.py", version_py.replace("2.1.2+cu121", "2.1.2"))
    world.dist(
        site,
        "torch",
        "2.1.2",
        installer="conda",
        requires=["filelock", "typing-extensions", "sympy", "networkx", "jinja2", "fsspec"],
    )


def pytorch_image_conda_era(world: World) -> None:
    """``docker run --gpus all pytorch/pytorch:2.1.2-cuda12.1-cudnn8-runtime`` on an L40S
    server (kit "container" driver, R535: CUDA 12.1 needs nothing more).  The conda-era
    Dockerfile: Miniconda in /opt/conda, ``conda install -c pytorch -c nvidia pytorch ...
    pytorch-cuda=12.1`` into the base env (conda_pytorch_212_cuda121; torchvision, torchaudio,
    torchtext and ``pip install torchelastic`` left out), Python 3.10 (docker.Makefile's
    ``PYTHON_VERSION ?= 3.10``; the base env's records of python, conda 23.5.2 and pip are
    written by World.conda_base); the ``official`` stage's ENV lines of that Dockerfile
    version (PATH with /opt/conda/bin only, LD_LIBRARY_PATH /usr/local/nvidia/lib{,64})."""
    debian_root(world)
    _docker(world, "/workspace")
    machine_driver(world, "container", "NVIDIA L40S")
    world.conda_base(OPT_CONDA, python="3.10.13")
    conda_pytorch_212_cuda121(world, OPT_CONDA, "3.10")
    world.env.update(
        PATH="/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        LD_LIBRARY_PATH="/usr/local/nvidia/lib:/usr/local/nvidia/lib64",
        NVIDIA_VISIBLE_DEVICES="all",
        NVIDIA_DRIVER_CAPABILITIES="compute,utility",
        PYTORCH_VERSION="2.1.2",
    )


def conda_nvidia_channel(world: World) -> None:
    """Miniconda on an RTX 3090 desktop (flat R535 driver): ``conda create -n torch
    python=3.11`` then ``conda install pytorch==2.1.2 pytorch-cuda=12.1 -c pytorch -c nvidia``
    (conda_pytorch_212_cuda121), activated with ``conda activate torch``; nothing here builds
    (no nvcc, no CUDA_HOME)."""
    base = "/home/u/miniconda3"
    env = f"{base}/envs/torch"
    debian_root(world)
    machine_driver(world, "flat", "NVIDIA GeForce RTX 3090")
    world.system_python("3.11")
    world.conda_base(base)
    world.conda_env(env, python="3.11.7")
    conda_pytorch_212_cuda121(world, env, "3.11")
    world.file("/home/u/.conda/environments.txt", f"{base}\n{env}\n")
    world.activate_conda(env, base)


# -- 6. a Colab GPU runtime -------------------------------------------------------------------

COLAB_PATH = (
    "/opt/bin:/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:"
    "/usr/sbin:/usr/bin:/sbin:/bin:/tools/node/bin:/tools/google-cloud-sdk/bin"
)
COLAB_SITE = "/usr/local/lib/python3.11/dist-packages"


def _colab_image(world: World) -> None:
    """What Colab's runtime image holds (the base Kaggle builds on as well): NVIDIA's
    ``cuda:12.2.2-cudnn8-devel-ubuntu22.04`` underneath (the NV_* variables of public env
    dumps) with its nvidia.conf and the CUDA 12.2 toolkit behind ``/usr/local/cuda`` ->
    ``/etc/alternatives/cuda`` (Kaggle's ``update-alternatives --set cuda``), the system
    Python with packages pip-installed into ``/usr/local/lib/python3.X/dist-packages``.
    Python 3.11 and pip's torch 2.4.1 closure (CUDA 12.1 wheels) stand in for whatever the
    image of a given month pins (3.10 with torch 2.5.1 in late 2024; the kit resolves for
    cp311 only); ``/usr/local/bin/python`` -> the system Python (Kaggle's docs name
    /usr/local/bin/python; the link itself is not verified)."""
    debian_root(world)
    world.file("/etc/ld.so.conf.d/nvidia.conf", "/usr/local/nvidia/lib\n/usr/local/nvidia/lib64\n")
    _repo_toolkit(world, "12.2", "12.2.140", alternatives=True)
    world.system_python("3.11")
    world.link("/usr/local/bin/python", "/usr/bin/python3.11")
    install_closure(world, COLAB_SITE, "torch-2.4.1")
    world.env.update(HOME="/root", LIBRARY_PATH="/usr/local/cuda/lib64/stubs")
    world.env.pop("USER", None)
    world.mkdir("/root")


def colab_gpu_runtime(world: World) -> None:
    """A Colab T4 runtime as its notebook kernel sees it: the host's driver libraries in
    ``/usr/lib64-nvidia`` (real R535 files, _driver_in), found through the kernel's
    ``LD_LIBRARY_PATH=/usr/lib64-nvidia`` and not through the cache (no ld.so.conf names the
    directory), nvidia-smi in ``/opt/bin/.nvidia`` with the ``/usr/bin/nvidia-smi`` link;
    the kernel's variables from public dumps (PATH, PYTHONPATH=/env/python, COLAB_GPU,
    LIBRARY_PATH).  Whether /env/python exists (written here, empty) and which driver branch
    Colab's hosts run (R535 here) were not verified."""
    _colab_image(world)
    _driver_in(world, "/usr/lib64-nvidia", "/opt/bin/.nvidia/nvidia-smi", "Tesla T4")
    world.link("/usr/bin/nvidia-smi", "/opt/bin/.nvidia/nvidia-smi")
    world.mkdir("/env/python")
    world.mkdir("/content")
    world.env.update(
        PATH=COLAB_PATH,
        LD_LIBRARY_PATH="/usr/lib64-nvidia",
        PYTHONPATH="/env/python",
        COLAB_GPU="1",
    )
    world.env["PWD"] = "/content"


# -- 7. a Kaggle GPU image on GKE ---------------------------------------------------------------


def kaggle_gke(world: World) -> None:
    """Kaggle's GPU image (Kaggle/docker-python, Colab's runtime as base: _colab_image) on a
    GKE node: ``CUDA_HOME=/usr/local/cuda`` (Dockerfile.tmpl), LD_LIBRARY_PATH as the Colab
    base image's ENV sets it (``/usr/local/nvidia/lib:/usr/local/nvidia/lib64``), and the
    host's driver libraries mounted by GKE's device plugin at ``/usr/local/nvidia/lib64``
    (container-engine-accelerators: one host directory, mounted whole), nvidia-smi at
    ``/usr/local/nvidia/bin``.  The loader cache is the image's, written before any driver was
    mounted (the device plugin's description mounts a directory and runs nothing in the
    container; not verified on a live pod), so it holds no libcuda:
    LD_LIBRARY_PATH finds it.  That Kaggle's notebooks run on GKE, and the driver branch (R535,
    kit files), were not verified; ENTRYPOINT ``/usr/bin/env`` starts no shell init.  The
    dependence on LD_LIBRARY_PATH is real: Kaggle's commit 2a33c9f (2024-12, "Fix
    LD_LIBRARY_PATH ... overwriting it to be empty ... was breaking GPU function")."""
    _colab_image(world)
    _docker(world, "/kaggle/working")
    kit_debian.run_ldconfig(world.root)  # the image's own cache, at build time
    _driver_in(world, "/usr/local/nvidia/lib64", "/usr/local/nvidia/bin/nvidia-smi", "Tesla T4")
    world.env.update(
        PATH="/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:"
        "/usr/sbin:/usr/bin:/sbin:/bin",
        LD_LIBRARY_PATH="/usr/local/nvidia/lib:/usr/local/nvidia/lib64",
        CUDA_HOME="/usr/local/cuda",
        KAGGLE_KERNEL_RUN_TYPE="Interactive",
    )


def finish_no_ldconfig(world: World) -> dict[str, object]:
    """The cache stays as the image wrote it (see kaggle_gke)."""
    return world.doctor()


# -- 8. a JupyterHub user with a kernel per conda env -----------------------------------------


JUPYTERHUB_ENVS_DIR = "/home/u/.conda/envs"
JUPYTERHUB_ENVS = {"torch": "torch-2.4.1", "jax": "jax-cuda12-latest"}


def jupyterhub_kernels(world: World) -> None:
    """A JupyterHub single-user server on an A100 node (flat R535 driver) started from the
    shared conda at /opt/conda (on PATH, not activated, as hub images run it); the user made
    two envs in ``~/.conda/envs`` (conda's envs_dirs when the root prefix is not writable):
    ``torch`` with pip's torch 2.4.1 closure and ``jax`` with pip's jax[cuda12] newest, each
    with ipykernel, and registered each with ``python -m ipykernel install --user --name <env>
    --display-name "Python (<env>)"`` run by the env's own Python (kernel.json as ipykernel's
    kernelspec.py writes it).  ipykernel's conda build string is illustrative.  The shell's
    target is the base env (``cudaenv doctor`` run in a JupyterLab terminal)."""
    debian_root(world)
    machine_driver(world, "flat", "NVIDIA A100-SXM4-80GB")
    world.system_python("3.11")
    world.conda_base(OPT_CONDA)
    listed = [OPT_CONDA]
    for name, slug in JUPYTERHUB_ENVS.items():
        env = f"{JUPYTERHUB_ENVS_DIR}/{name}"
        world.conda_env(env, python="3.11.9")
        site = world.site(env, "3.11")
        install_closure(world, site, slug)
        world.conda_record(env, "ipykernel", "6.29.5", "pyh3099207_0")
        world.dist(site, "ipykernel", "6.29.5", installer="conda")
        kernel = {
            "argv": [f"{env}/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python ({name})",
            "language": "python",
            "metadata": {"debugger": True},
        }
        world.file(f"/home/u/.local/share/jupyter/kernels/{name}/kernel.json", json.dumps(kernel))
        listed.append(env)
    world.file("/home/u/.conda/environments.txt", "\n".join(listed) + "\n")
    world.env.update(
        PATH=f"{OPT_CONDA}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        JUPYTERHUB_USER="u",
        JUPYTERHUB_SERVICE_PREFIX="/user/u/",
        JUPYTERHUB_API_URL="http://hub:8081/hub/api",
    )


MACHINES: dict[str, tuple[Callable[[World], None], Callable[[World], dict[str, object]]]] = {
    "NGC PyTorch 24.05, H100 on R535, forward compatibility": (ngc_pytorch_forward_compat, finish),
    "NGC PyTorch 24.05, A100 on R550": (ngc_pytorch_r550, finish),
    "pytorch/pytorch 2.7.1-cuda12.6 runtime image (pip era)": (pytorch_image_pip_era, finish),
    "pytorch/pytorch 2.1.2-cuda12.1 runtime image (conda era)": (pytorch_image_conda_era, finish),
    "conda pytorch 2.1.2 + pytorch-cuda 12.1 (pytorch, nvidia channels)": (
        conda_nvidia_channel,
        finish,
    ),
    "Colab T4 runtime, /usr/lib64-nvidia": (colab_gpu_runtime, finish),
    "Kaggle GPU image on GKE, /usr/local/nvidia/lib64": (kaggle_gke, finish_no_ldconfig),
    "JupyterHub user, a kernel per conda env": (jupyterhub_kernels, finish),
}


# Machines cudaenv diagnoses wrongly today: name -> why (kept, expected to fail, until fixed).
FALSE_ALARMS: dict[str, str] = {}
"""Machines cudaenv still gets wrong (none now: the Kaggle image's ld-cache-stale became a
note once LD_LIBRARY_PATH reaching the directory is taken into account)."""


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=FALSE_ALARMS[name], strict=True))
        if name in FALSE_ALARMS
        else name
        for name in sorted(MACHINES)
    ],
)
def test_a_healthy_machine_gets_nothing_above_info(tmp_path: Path, name: str) -> None:
    build, done = MACHINES[name]
    world = World(tmp_path / "world")
    build(world)
    report = done(world)
    assert_diagnosis(report, max_severity="info")
