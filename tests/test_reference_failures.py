"""Broken reference machines: a healthy machine of tests/test_reference_machines*.py with ONE
real failure from the corpus (``shared/corpus/failures.jsonl``) applied, and the diagnosis the
spec (``shared/spec/findings.md``) asks for, in expect.json's terms (``must``, ``primary``,
``must_not``).  The healthy suites keep cudaenv quiet where things work; this one keeps it
catching what breaks on machines made of the same real parts.

Each case names its corpus entry (id and one of its sources); the last three come from the
brief's list and cite the public reports they follow.  Where a change needs a fact the kit's
stand-ins do not model (GNU symbol versions of the NVIDIA wheels' libraries), the case builds
that fact into the wheel's files first and says so: the failure itself is still one change.

A case cudaenv gets wrong stays here, marked ``xfail(strict=True)`` with what it missed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

import kit_debian
import kit_pypi
from cudaworld import built, place, simple
from reference import install_closure, machine_driver
from test_reference_machines import (
    SITE,
    conda_cudatoolkit_pytorch,
    container,
    cpu_laptop_cpu_torch,
    cuda_repo_toolkit,
    desktop,
    desktop_debian_driver_torch_271,
    desktop_pip_torch,
    desktop_toolkit_for_builds,
    finish,
    hpc_module_cupy,
    pip_project,
    pip_stack,
    wsl2,
)
from test_reference_machines_more import forward_compat_h100, torch_cu118, torch_latest_r580
from worlds import BASE, ML, ML_SITE, SEVERITY_ORDER, World, assert_diagnosis

pytestmark = pytest.mark.slow

Step = Callable[[World], None]


# -- helpers: what pip, apt and a shell leave on disk ----------------------------------------


def _remove(world: World, path: str) -> None:
    real = world.real(path)
    if real.is_symlink() or real.is_file():
        real.unlink()
    elif real.is_dir():
        shutil.rmtree(real)


def _dist_info(world: World, site: str, name: str) -> Optional[str]:
    wanted = re.sub(r"[-_.]+", "_", name).lower()
    for entry in sorted(os.listdir(world.real(site))):
        stem = entry.removesuffix(".dist-info")
        if stem != entry and re.sub(r"[-_.]+", "_", stem.rsplit("-", 1)[0]).lower() == wanted:
            return f"{site}/{entry}"
    return None


def _uninstall(world: World, site: str, name: str) -> None:
    """``pip uninstall -y <name>``: every file its RECORD lists, then the dist-info."""
    info = _dist_info(world, site, name)
    assert info is not None, f"{name} is not installed in {site}"
    for line in world.real(f"{info}/RECORD").read_text().splitlines():
        member = line.split(",", 1)[0]
        if member and not member.startswith(".."):
            _remove(world, f"{site}/{member}")
    _remove(world, info)


def _pip_install(world: World, site: str, slug: str, names: tuple[str, ...]) -> None:
    """``pip install`` of some distributions of a kit closure into ``site``: the closure is laid
    out aside (as pip resolved it), and the chosen distributions' dist-info and RECORD files
    are copied in, replacing what was there."""
    stage = World(world.base / f"stage-{slug}")
    install_closure(stage, site, slug)
    for name in names:
        info = _dist_info(stage, site, name)
        assert info is not None, f"{name} is not in the closure {slug}"
        old = _dist_info(world, site, name)
        if old is not None:
            _uninstall(world, site, name)
        members = [
            line.split(",", 1)[0] for line in stage.real(f"{info}/RECORD").read_text().splitlines()
        ]
        for member in [m for m in members if m] + [f"{info.rsplit('/', 1)[1]}/INSTALLER"]:
            source = stage.real(f"{site}/{member}")
            if source.is_file():
                target = world.real(f"{site}/{member}")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)


def _versioned(
    key: str, soname: str, defined: tuple[str, ...], *, needed: tuple[Path, ...] = ()
) -> Path:
    """A library defining ``defined`` in one version node named after its SONAME, as NVIDIA
    versions libcublasLt and libnvJitLink."""
    source = "\n".join(f"int {f}(void) {{ return {i}; }}" for i, f in enumerate(defined))
    script = f"{soname} {{ global: " + " ".join(f"{f};" for f in defined) + " local: *; };"
    return built(key, source, soname=soname, needed=list(needed), version_script=script)


def _importer(key: str, soname: str, imports: tuple[str, ...], needed: Path, runpath: str) -> Path:
    """A library calling ``imports`` from ``needed``: the link records their versions."""
    body = "".join(f"int {f}(void);\n" for f in imports)
    calls = " + ".join(f"{f}()" for f in imports)
    body += f"int {key.replace(':', '_').replace('-', '_')}(void) {{ return {calls}; }}\n"
    return built(key, body, soname=soname, needed=[needed], runpath=runpath)


def _nvjitlink(minors: tuple[int, ...]) -> tuple[str, ...]:
    ops = ("Create", "AddData", "Complete", "Destroy")
    return tuple(f"__nvJitLink{op}_12_{m}" for m in minors for op in ops)


# -- A: interpreters, pip, conda ------------------------------------------------------------


def new_env_without_python(world: World) -> None:
    """A01 (conda/conda#5666, pytorch/pytorch#138991): ``conda create -n test`` with no
    packages, ``conda activate test``; ``python``/``pip`` fall through to base."""
    env = f"{BASE}/envs/test"
    world.conda_env(env, python=None)
    world.file("/home/u/.conda/environments.txt", f"{BASE}\n{ML}\n{env}\n")
    world.activate_conda(env, BASE)
    world.env["PATH"] = f"{env}/bin:{BASE}/condabin:{BASE}/bin:/usr/bin:/bin"


def env_without_pip(world: World) -> None:
    """A01, varKoder#29 (brunoasm/varKoder#29): the env was created from a yml that lists no
    pip: it has its Python but no pip, so ``pip`` is base's (Python 3.12)."""
    for script in ("pip", "pip3"):
        _remove(world, f"{ML}/bin/{script}")
    _remove(world, f"{ML}/conda-meta/pip-24.0-pyhd8ed1ab_0.json")
    _remove(world, f"{ML_SITE}/pip-24.0.dist-info")


def base_first_on_path(world: World) -> None:
    """A04 (pytorch/pytorch#25512): ~/.bashrc pins ``python`` to base with an alias and puts
    base's bin ahead of the activated env on PATH."""
    world.file(
        "/home/u/.bashrc",
        f"alias python='{BASE}/bin/python'\nexport PATH={BASE}/bin:$PATH\n",
    )
    world.env["PATH"] = f"{BASE}/bin:" + world.env["PATH"]


def module_pythonhome(world: World) -> None:
    """A08 (bioconda/bioconda-utils#717): ``module load python/3.8.2`` exported PYTHONHOME to
    the module's install; the venv's Python 3.11 looks for its stdlib there."""
    home = "/opt/nce/packages/global/python/3.8.2"
    world.python_install(home, "3.8")
    world.env["PYTHONHOME"] = home


def pip_conf_user(world: World) -> None:
    """A09 (pypa/pip#8977): ``~/.config/pip/pip.conf`` has ``[install] user = true``."""
    world.file("/home/u/.config/pip/pip.conf", "[install]\nuser = true\n")


def user_site_torch(world: World) -> None:
    """A09's conda variant and E04's CLRNet#83 (Turoad/CLRNet#83): an earlier
    ``pip install --user torch`` left torch 1.13.1 and its cu11 wheels in
    ~/.local/lib/python3.11/site-packages, which the conda env's Python imports first."""
    install_closure(world, "/home/u/.local/lib/python3.11/site-packages", "torch-1.13.1")


# -- B: the toolkit builds use --------------------------------------------------------------


def apex_checkout(world: World) -> None:
    """B01 (NVIDIA/apex#1336): in a clone of apex, about to ``pip install -v
    --global-option=--cuda_ext ./``; the env's CUDA is conda's cudatoolkit (no nvcc), no
    toolkit anywhere, CUDA_HOME unset."""
    world.file(
        "/home/u/apex/setup.py",
        "from setuptools import setup\n"
        "from torch.utils.cpp_extension import BuildExtension, CUDAExtension, CUDA_HOME\n"
        "ext_modules = [CUDAExtension('amp_C', ['csrc/amp_C_frontend.cpp'])]\n"
        "setup(name='apex', ext_modules=ext_modules, cmdclass={'build_ext': BuildExtension})\n",
    )
    world.file("/home/u/apex/csrc/amp_C_frontend.cpp", "// apex source\n")
    world.env["PWD"] = "/home/u/apex"


def old_cuda_toolkit(world: World) -> None:
    """B05 (lipzh5/ResearchProgress#11): NVIDIA's runfile toolkit 11.8 is /usr/local/cuda and
    on PATH (its install guide's PATH line); torch is cu121.  torch's build finds it through
    ``which nvcc``."""
    world.toolkit("/usr/local/cuda-11.8", "11.8.89", libs=())
    world.link("/usr/local/cuda", "cuda-11.8")
    world.env["PATH"] = "/usr/local/cuda/bin:" + world.env["PATH"]


def cuda_home_leading_colon(world: World) -> None:
    """B07 (Dao-AILab/flash-attention#264): ``export CUDA_HOME=$CUDA_HOME:/usr/local/cuda-12.4``
    on an empty variable."""
    world.env["CUDA_HOME"] = ":/usr/local/cuda-12.4"


def cuda_118_with_gcc_12(world: World) -> None:
    """B14 (darglein/ADOP#37): to build an extension for torch +cu118 the user installs
    NVIDIA's CUDA 11.8 toolkit and sets CUDA_HOME; the host compiler is Debian 12's gcc 12
    (build-essential: /usr/bin/gcc -> gcc-12 -> x86_64-linux-gnu-gcc-12), and CUDA 11.8's
    host_config.h accepts gcc up to 11."""
    world.toolkit("/usr/local/cuda-11.8", "11.8.89", libs=())
    world.link("/usr/local/cuda", "cuda-11.8")
    world.file("/usr/bin/x86_64-linux-gnu-gcc-12", "stand-in for gcc\n", 0o755)
    world.link("/usr/bin/gcc-12", "x86_64-linux-gnu-gcc-12")
    world.link("/usr/bin/gcc", "gcc-12")
    world.mkdir("/usr/lib/gcc/x86_64-linux-gnu/12")
    world.env["CUDA_HOME"] = "/usr/local/cuda"
    world.env["PATH"] = "/usr/local/cuda/bin:" + world.env["PATH"]


# -- C: the loader --------------------------------------------------------------------------

CUBLAS_WHEEL = f"{SITE}/nvidia/cublas/lib"
CUBLAS_LT = ("cublasLtCreate", "cublasLtMatmul", "cublasLtGetStatusString")


def torch_1131_with_cublas_symbols(world: World) -> None:
    """The healthy torch 1.13.1 desktop, its nvidia-cublas-cu11 pair with the symbol versions
    the kit's stand-ins lack: libcublasLt.so.11 defines its functions in the
    ``libcublasLt.so.11`` node, libcublas.so.11 (RUNPATH $ORIGIN) imports one of the newer
    ones, cublasLtGetStatusString (pytorch/pytorch#103832's undefined symbol)."""
    pip_stack("torch-1.13.1")(world)
    wheel_lt = _versioned("c01:wheel-cublasLt", "libcublasLt.so.11", CUBLAS_LT)
    wheel_blas = _importer(
        "c01:wheel-cublas",
        "libcublas.so.11",
        ("cublasLtGetStatusString",),
        wheel_lt,
        "$ORIGIN",
    )
    place(world, f"{CUBLAS_WHEEL}/libcublasLt.so.11", wheel_lt)
    place(world, f"{CUBLAS_WHEEL}/libcublas.so.11", wheel_blas)


def cuda_113_on_ld_library_path(world: World) -> None:
    """C01 (pytorch/pytorch#103832): LD_LIBRARY_PATH names CUDA 11.3's libraries (the GCP
    base-cu113 image's /usr/local/cuda/lib64): the wheel's libcublas.so.11 (RUNPATH $ORIGIN,
    which loses to LD_LIBRARY_PATH) gets 11.3's older libcublasLt.so.11.5.1.109, which lacks
    cublasLtGetStatusString@libcublasLt.so.11."""
    old_lt = _versioned("c01:cuda113-cublasLt", "libcublasLt.so.11", CUBLAS_LT[:2])
    lib = "/usr/local/cuda-11.3/targets/x86_64-linux/lib"
    place(world, f"{lib}/libcublasLt.so.11.5.1.109", old_lt)
    world.link(f"{lib}/libcublasLt.so.11", "libcublasLt.so.11.5.1.109")
    place(world, f"{lib}/libcublas.so.11.5.1.109", simple("libcublas.so.11"))
    world.link(f"{lib}/libcublas.so.11", "libcublas.so.11.5.1.109")
    world.link("/usr/local/cuda-11.3/lib64", "targets/x86_64-linux/lib")
    world.link("/usr/local/cuda", "cuda-11.3")
    world.env["LD_LIBRARY_PATH"] = (
        "/usr/local/nvidia/lib:/usr/local/nvidia/lib64:/usr/local/cuda/lib64"
    )


def torch_212_with_nvjitlink_symbols(world: World) -> None:
    """The healthy torch 2.1.2 desktop, its cuSPARSE and nvJitLink wheels with the symbol
    versions the kit's stand-ins lack: libnvJitLink.so.12 (12.9.86, as pip resolved it)
    defines ``__nvJitLink*_12_0`` .. ``_12_9`` in the ``libnvJitLink.so.12`` node;
    libcusparse.so.12 (12.1.0.106) NEEDs it (RUNPATH $ORIGIN/../../nvjitlink/lib:$ORIGIN) and
    imports the ``_12_1`` ones."""
    pip_stack("torch-2.1.2")(world)
    everything = _nvjitlink(tuple(range(10)))
    wheel_njl = _versioned("c03:wheel-nvjitlink", "libnvJitLink.so.12", everything)
    wheel_sparse = _importer(
        "c03:wheel-cusparse",
        "libcusparse.so.12",
        tuple(f"__nvJitLink{op}_12_1" for op in ("Create", "AddData", "Complete")),
        wheel_njl,
        "$ORIGIN/../../nvjitlink/lib:$ORIGIN",
    )
    place(world, f"{SITE}/nvidia/nvjitlink/lib/libnvJitLink.so.12", wheel_njl)
    place(world, f"{SITE}/nvidia/cusparse/lib/libcusparse.so.12", wheel_sparse)


def cuda_120_on_ld_library_path(world: World) -> None:
    """C03 (pytorch/pytorch#111469): LD_LIBRARY_PATH names a CUDA 12.0 toolkit whose
    libnvJitLink.so.12.0.140 defines only the ``_12_0`` symbols; the loader takes it before
    the wheel's (libcusparse's RUNPATH loses to LD_LIBRARY_PATH): "undefined symbol:
    __nvJitLinkAddData_12_1, version libnvJitLink.so.12"."""
    root = world.toolkit("/usr/local/cuda-12.0", "12.0.140", libs=())
    lib = f"{root}/targets/x86_64-linux/lib"
    old = _versioned("c03:cuda120-nvjitlink", "libnvJitLink.so.12", _nvjitlink((0,)))
    place(world, f"{lib}/libnvJitLink.so.12.0.140", old)
    world.link(f"{lib}/libnvJitLink.so.12", "libnvJitLink.so.12.0.140")
    world.env["LD_LIBRARY_PATH"] = f"{root}/lib64"


def pip_tensorflow_212(world: World) -> None:
    """C05 (tensorflow/tensorflow#56413): ``pip install tensorflow==2.12.0`` into the conda env
    whose cudatoolkit 11.8 put libcudart.so.11.0 in $CONDA_PREFIX/lib; TF dlopen()s CUDA by
    name and nothing puts that directory on the loader's path."""
    install_closure(world, ML_SITE, "tensorflow-2.12.0")


def pythonpath_old_venv(world: World) -> None:
    """C09 (pytorch/pytorch#147001): PYTHONPATH names another project's site-packages, which
    holds torch 1.13.1 and its nvidia-*-cu11 wheels; it comes before the venv's torch 2.4.1."""
    old = "/home/u/old/.venv"
    world.venv(old)
    site = f"{old}/lib/python3.11/site-packages"
    install_closure(world, site, "torch-1.13.1")
    world.env["PYTHONPATH"] = site


def torch_no_deps(world: World) -> None:
    """C11 (zai-org/ChatGLM3#317): ``pip install -r requirements.txt --no-deps``: torch 2.4.1
    without any of its nvidia-* wheels."""
    for dist in kit_pypi.closure("torch-2.4.1"):
        if dist.name.startswith("nvidia-"):
            _uninstall(world, SITE, dist.name)


def driver_only(world: World) -> None:
    """C13 (cupy/cupy#7772): cupy-cuda12x 13.3.0 (no [ctk]) on a machine with the driver and
    no CUDA toolkit: no libcublas.so.12 / libnvrtc.so.12 anywhere.  The healthy machine has
    NVIDIA's 12.4 toolkit; this one never installed it (``apt remove cuda-toolkit-12-4``)."""
    for path in (
        "/usr/local/cuda",
        "/usr/local/cuda-12",
        "/usr/local/cuda-12.4",
        "/etc/ld.so.conf.d/000_cuda.conf",
        "/etc/ld.so.conf.d/988_cuda-12.conf",
    ):
        _remove(world, path)


# -- D: the driver --------------------------------------------------------------------------


def driver_r535(world: World) -> None:
    """D01 (lllyasviel/Fooocus#1313), the CUDA 13 form: the newest torch (CUDA 13.2, cu13
    wheels) on the kit's R535 driver (CUDA 12.2): minor-version compatibility does not cross
    a major.  The healthy machine runs R580 on an RTX 5090; this one has the distribution's
    R535 on an RTX 4090 (R535 does not drive a 5090)."""
    _remove(world, "/proc/driver/nvidia")
    _remove(world, "/sys/module/nvidia")
    libdir = f"/usr/lib/{kit_debian.TRIPLET}"
    for name in os.listdir(world.real(libdir)):
        if name.startswith(("libcuda.so", "libnvidia-ml.so")):
            _remove(world, f"{libdir}/{name}")
    machine_driver(world, "flat", "NVIDIA GeForce RTX 4090")


def module_not_reloaded(world: World) -> None:
    """D04 (oddmario/NVIDIA-Ubuntu-Driver-Guide#4): an upgrade brought the 535.309.01 user
    space while the module loaded at boot, 535.247.01, is still running (no reboot)."""
    new = world.real("/sys/module/nvidia/version").read_text().strip()
    old = "535.247.01"
    for path in ("/proc/driver/nvidia/version", "/sys/module/nvidia/version"):
        world.file(path, world.real(path).read_text().replace(new, old))


def container_without_gpus(world: World) -> None:
    """D06 (kcosta42/VQGAN-CLIP-Docker#1): ``docker run`` without ``--gpus``: the image (and
    its NVIDIA_VISIBLE_DEVICES=all ENV) as before, but the runtime hook injected nothing: no
    /proc/driver/nvidia, no libcuda / libnvidia-ml, no nvidia-smi."""
    _remove(world, "/proc/driver/nvidia")
    _remove(world, "/sys/module/nvidia")
    _remove(world, "/usr/bin/nvidia-smi")
    libdir = f"/usr/lib/{kit_debian.TRIPLET}"
    for name in os.listdir(world.real(libdir)):
        if name.startswith(("libcuda.so", "libnvidia-")):
            _remove(world, f"{libdir}/{name}")


def numba_nvvm_129(world: World) -> None:
    """D09 (xinzhuma/monodle#23): ``pip install numba nvidia-cuda-nvcc-cu12`` in the venv:
    Numba's kernels are PTX from NVVM 12.9, which the R535 driver (CUDA 12.2) cannot
    JIT-compile (CUDA_ERROR_UNSUPPORTED_PTX_VERSION)."""
    _pip_install(
        world,
        SITE,
        "numba-nvidia-cuda-nvcc-cu12",
        ("llvmlite", "numba", "numpy", "nvidia-cuda-nvcc-cu12"),
    )


# -- E: frameworks --------------------------------------------------------------------------


def conda_cpu_variant(world: World) -> None:
    """E01 (meta-pytorch/data#315): the solver picked pytorch's CPU build through the
    pytorch-mutex metapackage: ``pytorch 2.0.1 py3.11_cpu_0``, ``pytorch-mutex 1.0 cpu``,
    ``cpuonly 2.0``; torch.version.cuda is None."""
    _remove(world, f"{ML}/conda-meta/pytorch-2.0.1-py3.11_cuda11.8_cudnn8.7.0_0.json")
    world.conda_record(ML, "pytorch", "2.0.1", "py3.11_cpu_0")
    world.conda_record(ML, "pytorch-mutex", "1.0", "cpu")
    world.conda_record(ML, "cpuonly", "2.0", "0")
    world.file(f"{ML_SITE}/torch/version.py", "__version__ = '2.0.1'\ncuda = None\n")


def gpu_box(world: World) -> None:
    """E03 (pytorch/pytorch#122924): the same CPU wheel of torch on a desktop with an RTX 4090
    and its driver."""
    machine_driver(world, "flat", "NVIDIA GeForce RTX 4090")


def jax_upgrades_cudnn(world: World) -> None:
    """E07 (apple/axlearn#858): ``pip install jax[cuda12]`` next to torch 2.1.2: pip upgrades
    nvidia-cudnn-cu12 8.9.2.26 (torch's ``==`` pin) to 9.28.0.42 (jax's ``>=9.8``), adds the
    wheels torch lacks, keeps those that satisfy both, and leaves torch without its
    libcudnn.so.8 ("ImportError: libcudnn.so.8: cannot open shared object file")."""
    _pip_install(
        world,
        SITE,
        "jax-cuda12-latest",
        (
            "jax",
            "jaxlib",
            "jax-cuda12-plugin",
            "jax-cuda12-pjrt",
            "ml_dtypes",
            "numpy",
            "opt_einsum",
            "scipy",
            "nvidia-cudnn-cu12",
            "nvidia-cuda-nvcc-cu12",
            "nvidia-cuda-cccl-cu12",
            "nvidia-nvshmem-cu12",
        ),
    )


def pip_torch_over_conda(world: World) -> None:
    """E11 (learnables/learn2learn#408): a ``pip install`` whose dependency asks for torch pulls
    PyPI's torch 2.4.1 (and its nvidia-*-cu12 wheels) over conda's pytorch 2.0.1: conda-meta
    still records pytorch, site-packages now holds pip's torch."""
    _remove(world, f"{ML_SITE}/torch-2.0.1.dist-info")
    install_closure(world, ML_SITE, "torch-2.4.1")


def torchvision_for_271(world: World) -> None:
    """E14 (pytorch/vision#9174): torchvision 0.22.1 (``Requires-Dist: torch==2.7.1``) installed
    with --no-deps over 0.19.1, next to torch 2.4.1."""
    _pip_install(world, SITE, "vllm-0.10.1.1", ("torchvision",))


# -- the brief's list: public reports outside the corpus -----------------------------------


def compat_on_geforce(world: World) -> None:
    """Forward-compatibility libraries on a GeForce (QuipNetwork/quip-miner#24: an image with
    /usr/local/cuda/compat/libcuda.so on an RTX 3060 -> cudaErrorCompatNotSupportedOnDevice):
    the H100 machine's cuda-compat-12-8 setup, on an RTX 3060."""
    gpus = world.real("/proc/driver/nvidia/gpus")
    for pci in os.listdir(gpus):
        info = gpus / pci / "information"
        info.write_text(
            info.read_text().replace("NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 3060")
        )


def jax_plugin_newer(world: World) -> None:
    """jax-ml/jax#24901: jax[cuda12] 0.4.30, then a ``pip install -U jax-cuda12-plugin``
    brings the plugin and PJRT 0.10.2 while jax and jaxlib stay 0.4.30."""
    _pip_install(world, SITE, "jax-cuda12-latest", ("jax-cuda12-plugin", "jax-cuda12-pjrt"))


def linux_driver_in_wsl(world: World) -> None:
    """NVIDIA/cuml#6218 (and numba/numba#7104): inside WSL2 the user installed a Linux
    driver's user space (``apt install libnvidia-compute-535``), whose libcuda.so.1 lands in
    /usr/lib/x86_64-linux-gnu beside WSL's /usr/lib/wsl/lib (no kernel module: WSL)."""
    kit_debian.install_driver(world.root, "flat", loaded=False)


# -- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    build: Step
    """the healthy machine (a builder of the healthy suites)"""
    change: Step
    """the one failure"""
    must: tuple[str, ...]
    primary: Optional[str] = None
    must_not: tuple[str, ...] = ()
    at_least: Optional[str] = None
    """the severity every ``must`` code needs, where the spec's severity matters: a finding at
    ``info`` on a machine whose next step fails gates nothing (``--fail-on warning``)"""
    missed: Optional[str] = None
    """xfail reason, when cudaenv gets this case wrong"""


def _cupy_13_with_toolkit(world: World) -> None:
    desktop(world)
    cuda_repo_toolkit(world)
    pip_project(world, "cupy-cuda12x-13.3.0")


CASES: dict[str, Case] = {
    "A01 conda env without python": Case(
        conda_cudatoolkit_pytorch,
        new_env_without_python,
        must=("env-without-python",),
        primary="env-without-python",
        must_not=("pip-other-interpreter",),
    ),
    "A01 conda env without pip": Case(
        conda_cudatoolkit_pytorch,
        env_without_pip,
        must=("pip-other-interpreter",),
        primary="pip-other-interpreter",
        must_not=("env-without-python",),
    ),
    "A04 base bin ahead of the env": Case(
        conda_cudatoolkit_pytorch,
        base_first_on_path,
        must=("python-outside-active-env",),
        primary="python-outside-active-env",
    ),
    "A08 PYTHONHOME from a module": Case(
        hpc_module_cupy,
        module_pythonhome,
        must=("pythonhome-set",),
        primary="pythonhome-set",
    ),
    "A09 pip.conf user = true in a venv": Case(
        desktop_pip_torch,
        pip_conf_user,
        must=("pip-install-redirected",),
    ),
    "A09/E04 torch in ~/.local shadows the env's": Case(
        conda_cudatoolkit_pytorch,
        user_site_torch,
        must=("user-site-shadowing",),
        primary="user-site-shadowing",
    ),
    "B01 apex build, conda cudatoolkit has no nvcc": Case(
        conda_cudatoolkit_pytorch,
        apex_checkout,
        must=("toolkit-runtime-only",),
        at_least="warning",
    ),
    "B05 CUDA 11.8 toolkit, torch cu121": Case(
        desktop_pip_torch,
        old_cuda_toolkit,
        must=("toolkit-framework-mismatch",),
    ),
    "B07 CUDA_HOME with a leading colon": Case(
        desktop_toolkit_for_builds,
        cuda_home_leading_colon,
        must=("cuda-home-invalid",),
        primary="cuda-home-invalid",
        must_not=("toolkit-runtime-only",),
    ),
    "B14 CUDA 11.8 nvcc, gcc 12": Case(
        torch_cu118,
        cuda_118_with_gcc_12,
        must=("host-compiler-unsupported",),
        must_not=("toolkit-framework-mismatch",),
    ),
    "C01 CUDA 11.3 libcublasLt on LD_LIBRARY_PATH": Case(
        torch_1131_with_cublas_symbols,
        cuda_113_on_ld_library_path,
        must=("symbol-version-missing", "library-shadowed"),
        primary="symbol-version-missing",
    ),
    "C03 CUDA 12.0 libnvJitLink on LD_LIBRARY_PATH": Case(
        torch_212_with_nvjitlink_symbols,
        cuda_120_on_ld_library_path,
        must=("symbol-version-missing",),
        primary="symbol-version-missing",
    ),
    "C05 pip tensorflow 2.12 beside conda cudatoolkit": Case(
        conda_cudatoolkit_pytorch,
        pip_tensorflow_212,
        must=("tensorflow-cuda-mismatch",),
    ),
    "C09 PYTHONPATH to another venv's torch": Case(
        desktop_pip_torch,
        pythonpath_old_venv,
        must=("pythonpath-other-env",),
    ),
    "C11 torch installed with --no-deps": Case(
        desktop_pip_torch,
        torch_no_deps,
        must=("cuda-wheel-requirements-unmet", "library-missing"),
    ),
    "C13 cupy-cuda12x 13 on a driver-only machine": Case(
        _cupy_13_with_toolkit,
        driver_only,
        must=("cupy-cuda-mismatch", "library-missing"),
    ),
    "D01 torch cu13 on R535": Case(
        torch_latest_r580,
        driver_r535,
        must=("driver-too-old",),
        primary="driver-too-old",
    ),
    "D04 driver upgraded, module not reloaded": Case(
        desktop_debian_driver_torch_271,
        module_not_reloaded,
        must=("driver-library-mismatch",),
        primary="driver-library-mismatch",
    ),
    "D06 container started without --gpus": Case(
        lambda world: container(world, devel=False),
        container_without_gpus,
        must=("driver-missing",),
        primary="driver-missing",
    ),
    "D09 numba with NVVM 12.9 on R535": Case(
        desktop_pip_torch,
        numba_nvvm_129,
        must=("driver-too-old",),
    ),
    "E01 conda solved pytorch's CPU variant": Case(
        conda_cudatoolkit_pytorch,
        conda_cpu_variant,
        must=("torch-cpu-build",),
        primary="torch-cpu-build",
    ),
    "E03 CPU torch wheel on a GPU desktop": Case(
        cpu_laptop_cpu_torch,
        gpu_box,
        must=("torch-cpu-build",),
        primary="torch-cpu-build",
    ),
    "E07 jax[cuda12] upgrades torch's cuDNN 8 to 9": Case(
        pip_stack("torch-2.1.2"),
        jax_upgrades_cudnn,
        must=("cudnn-version-mismatch", "cuda-wheel-requirements-unmet"),
        primary="cudnn-version-mismatch",
        must_not=("toolkit-older-than-framework",),
    ),
    "E11 pip torch over conda pytorch": Case(
        conda_cudatoolkit_pytorch,
        pip_torch_over_conda,
        must=("conda-pip-duplicate",),
    ),
    "E14 torchvision 0.22.1 beside torch 2.4.1": Case(
        pip_stack("torch-2.4.1-torchvision-0.19.1"),
        torchvision_for_271,
        must=("torch-companion-mismatch",),
        primary="torch-companion-mismatch",
    ),
    "forward-compat libs on a GeForce": Case(
        forward_compat_h100,
        compat_on_geforce,
        must=("forward-compat-misuse",),
        primary="forward-compat-misuse",
    ),
    "jax plugin newer than jaxlib": Case(
        pip_stack("jax-cuda12-0.4.30"),
        jax_plugin_newer,
        must=("jax-plugin-mismatch",),
    ),
    "WSL2 with a Linux driver's libcuda": Case(
        wsl2,
        linux_driver_in_wsl,
        must=("wsl-driver-inside",),
    ),
}


def _params() -> list[object]:
    params: list[object] = []
    for name in sorted(CASES):
        case = CASES[name]
        marks = [pytest.mark.xfail(reason=case.missed, strict=True)] if case.missed else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def diagnose(tmp_path: Path, name: str) -> dict[str, Any]:
    case = CASES[name]
    world = World(tmp_path / "world")
    case.build(world)
    case.change(world)
    return finish(world)


@pytest.mark.parametrize("name", _params())
def test_a_broken_machine_gets_its_diagnosis(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    report = diagnose(tmp_path, name)
    seen = [(f["code"], f["severity"]) for f in report["findings"]]
    print(json.dumps(seen))
    assert_diagnosis(report, must=case.must, must_not=case.must_not, primary=case.primary)
    if case.at_least is not None:
        limit = SEVERITY_ORDER.index(case.at_least)
        weak = [(c, v) for c, v in seen if c in case.must and SEVERITY_ORDER.index(v) > limit]
        assert not weak, f"below {case.at_least}: {weak}"


@pytest.mark.parametrize(
    "build", [torch_1131_with_cublas_symbols, torch_212_with_nvjitlink_symbols]
)
def test_the_modelled_symbols_alone_are_healthy(tmp_path: Path, build: Step) -> None:
    """The symbol versions C01 and C03 add to the wheels break nothing by themselves: the
    failure is the LD_LIBRARY_PATH change alone."""
    world = World(tmp_path / "world")
    build(world)
    assert_diagnosis(finish(world), max_severity="info")
