"""More healthy reference machines (the suite of tests/test_reference_machines.py): NixOS, CUDA
forward compatibility on a data-center GPU, PyTorch's own cu118 wheel, a pixi project, Debian's
CUDA 11.8 toolkit with CuPy, and the newest torch (CUDA 13) on an R580 driver.

Each machine's docstring names where every layout fact comes from.  Sources read for this file
(through the project's search tools, on the day it was written):

- nixpkgs: ``nixos/modules/hardware/graphics.nix`` (``/run/opengl-driver`` is an ``L+`` tmpfiles
  link to a ``buildEnv`` named ``graphics-drivers``), ``nixos/modules/hardware/video/nvidia.nix``
  (``hardware.graphics.extraPackages = [ nvidia_x11.out ]``; ``environment.systemPackages =
  [ nvidia_x11.bin ]``), ``pkgs/os-specific/linux/nvidia-x11/builder.sh`` (every ``lib*.so.<v>``
  copied to ``$out/lib`` gets ``ln -srnf`` links ``lib*.so`` and ``lib*.so.1``),
  ``pkgs/by-name/ad/addDriverRunpath`` (driverLink ``/run/opengl-driver``, put in RUNPATH of
  Nix-built CUDA programs), ``pkgs/development/libraries/glibc/dont-use-system-ld-so-cache.patch``
  (Nix's glibc reads ``$glibc/etc/ld.so.cache``, never ``/etc/ld.so.cache``); the NixOS wiki
  "OpenGL" page (in a nix-shell: ``LD_LIBRARY_PATH="/run/opengl-driver/lib:..."``).
- NVIDIA: docs.nvidia.com/deploy/cuda-compatibility/forward-compatibility.html (forward
  compatibility is for data-center GPUs; ``cuda-compat-12-8`` is built from the 570 driver and
  installs into the versioned toolkit directory); nvidia-container-toolkit
  ``cmd/nvidia-cdi-hook/cudacompat/cudacompat.go`` (``/usr/local/cuda/compat/libcuda.so.*.*``);
  Azure Linux's ``cuda-compat.spec`` (the package's file list, ``ldconfig -vn`` for the SONAME
  links, ``ln -sf libcuda.so.1 libcuda.so``); conda-forge's cuda-compat build script
  (``compat/libcuda.so*``, ``libnvidia-nvvm.so*``, ``libnvidia-ptxjitcompiler.so*``,
  ``libcudadebugger.so*``).
- PyTorch: pytorch/builder ``release/2.1`` ``manywheel/build_cuda.sh`` and ``build_common.sh``;
  pytorch/pytorch issue #113972 (2023-11-17: the wheels on download.pytorch.org were "hermetic",
  CUDA libraries bundled, for the last three releases) and PR #114281 (small wheels made the
  default only for cu121, in 2.2).
- pixi: pixi.prefix.dev reference/environment_variables and workspace/environment (the
  ``pixi shell-hook`` output), the ``conda-meta/pixi`` marker (pixi's source comments), and a
  real ``pixi.lock`` (github.com/matthewfeickert/pytorch-gpu-pixi-example); conda-forge
  ``cuda-cudart-feedstock`` / ``libcublas-feedstock`` ``recipe/build.sh`` (libraries in
  ``targets/x86_64-linux/lib`` with links in ``lib/``, RPATH ``$ORIGIN``) and
  ``pytorch-cpu-feedstock`` ``recipe/build.sh`` (libtorch in ``$PREFIX/lib``, linked back into
  ``site-packages/torch/lib``).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import kit_debian
import kit_pypi
from cudaworld import built, driver, place, simple
from reference import debian_root, install_closure, machine_driver
from test_reference_machines import PROJECT, SITE, desktop, finish, pip_project
from worlds import World, assert_diagnosis

pytestmark = pytest.mark.slow


def _kernel_and_driver_records() -> tuple[str, dict[str, kit_debian.Fetched]]:
    """The real driver packages ``install_driver`` uses: (Debian version, records)."""
    version = kit_debian.fetch_records(["libcuda1"])["libcuda1"].version
    records = kit_debian.fetch_records(
        [f"{package}={version}" for package in kit_debian.DRIVER_PACKAGES]
        + list(kit_debian.SUPPORT_PACKAGES)
    )
    return version, records


def _copy(world: World, source: Path, path: str) -> None:
    target = world.real(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    target.chmod(0o755)


# -- 1. NixOS -------------------------------------------------------------------------------------

NIX = "/nix/store"
# Store paths: the hashes are made up in the real format (32 characters of Nix's base32); the
# names are the derivations' real names (python3-3.11.9, nvidia-x11-<v>-<kernel>, its "-bin"
# output, graphics-drivers).
NIX_PYTHON = f"{NIX}/0m3rqnqhc1b6x3cvh1qajm2qn0sg3kb9-python3-3.11.9"
NIX_DRIVERS = f"{NIX}/8w9lyd7rkmhfscg7x5k1bc5z7jqw2y0v-graphics-drivers"
NIXOS_PATH = (
    "/run/wrappers/bin:/home/u/.nix-profile/bin:/nix/profile/bin:"
    "/home/u/.local/state/nix/profile/bin:/etc/profiles/per-user/u/bin:"
    "/nix/var/nix/profiles/default/bin:/run/current-system/sw/bin"
)


def nixos_pip_torch(world: World) -> None:
    """NixOS with ``hardware.nvidia`` (R535) and a pip torch 2.4.1 venv in a nix-shell.

    Driver: the real Debian-archive files of 535.309.01 (kit_debian's fetch: libcuda,
    libnvidia-ml, libnvidia-ptxjitcompiler, libnvidia-pkcs11-openssl3, nvidia-smi), laid out as
    nixpkgs' nvidia-x11 ``builder.sh`` does: the versioned files in ``$out/lib`` and, for each,
    ``ln -srnf`` links ``lib*.so`` and ``lib*.so.1`` (so ``libcuda.so`` points at the versioned
    file directly, and libnvidia-pkcs11-openssl3 gets a ``.so.1`` link too); nvidia-smi in the
    ``bin`` output, on PATH through ``/run/current-system/sw/bin``.  The real Nix files are the
    same NVIDIA binaries with their RPATH rewritten by patchelf: the Debian copies stand in.
    ``/run/opengl-driver`` → the ``graphics-drivers`` buildEnv (graphics.nix), whose ``lib/``
    holds one absolute link per file of its packages; mesa's and libglvnd's files there
    (``cfg.package``, ``pkgs.libGL``) are left out.

    Python: a Nix python3 (3.11.9) and ``python -m venv .venv && pip install torch==2.4.1``
    (kit closure), inside a nix-shell that exports ``LD_LIBRARY_PATH=/run/opengl-driver/lib``
    as the NixOS wiki says, so torch's dlopen of libcuda.so.1 finds the driver; PATH is NixOS's
    login PATH (seen verbatim in users' systemd units) with the shell's python and the venv
    first.

    No loader cache: NixOS has no ``/etc/ld.so.conf`` and nothing writes ``/etc/ld.so.cache``,
    and Nix's glibc would not read it anyway (dont-use-system-ld-so-cache.patch), so this
    machine skips the ldconfig run the other machines get.  The kernel module's files are
    kit_debian's (NVRM id of the same driver version from nvidia-kernel-dkms); their GCC line
    names Debian's gcc where NixOS would name its own: not verified, and not read by cudaenv's
    driver checks."""
    version, records = _kernel_and_driver_records()
    files = kit_debian._driver_files(records, version)
    upstream = version.split("-", maxsplit=1)[0]
    nvidia = f"{NIX}/3a1bq5x2j6nqkvm0w4y8h7c9d2f5g0lz-nvidia-x11-{upstream}-6.6.63"
    nvidia_bin = f"{nvidia}-bin"
    for name, source in files.items():
        if name == "nvidia-smi":
            _copy(world, source, f"{nvidia_bin}/bin/nvidia-smi")
            world.link("/run/current-system/sw/bin/nvidia-smi", f"{nvidia_bin}/bin/nvidia-smi")
            continue
        _copy(world, source, f"{nvidia}/lib/{name}")
        short = name.split(".so.", 1)[0] + ".so"
        for link in (short, f"{short}.1"):
            world.link(f"{nvidia}/lib/{link}", name)
    for name in sorted(os.listdir(world.real(f"{nvidia}/lib"))):
        world.link(f"{NIX_DRIVERS}/lib/{name}", f"{nvidia}/lib/{name}")
    world.link("/run/opengl-driver", NIX_DRIVERS)
    kit_debian.write_kernel_files(
        world.root, upstream, kit_debian._nvrm_id(version), "NVIDIA GeForce RTX 4090"
    )
    for directory in ("/run/wrappers/bin", "/etc/profiles/per-user/u/bin"):
        world.mkdir(directory)  # NixOS's setuid wrappers; users.users.u.packages
    world.python_install(NIX_PYTHON, "3.11")
    world.venv(PROJECT, base_bin=f"{NIX_PYTHON}/bin")
    install_closure(world, SITE, "torch-2.4.1")
    world.activate_venv(PROJECT)
    world.env.update(
        PATH=f"{PROJECT}/bin:{NIX_PYTHON}/bin:{NIXOS_PATH}",
        LD_LIBRARY_PATH="/run/opengl-driver/lib",
        IN_NIX_SHELL="impure",
    )


# -- 2. forward compatibility -------------------------------------------------------------------

COMPAT_VERSION = "570.211.01"  # cuda-compat-12-8_570.211.01-0ubuntu1_amd64.deb, seen in a
# public setup script that installs it from developer.download.nvidia.com/.../ubuntu2204.
COMPAT_DIR = "/usr/local/cuda-12.8/compat"


def forward_compat_h100(world: World) -> None:
    """An H100 server on the R535 driver (kit "flat" layout, as NVIDIA's repository and
    Ubuntu install it) running pip torch 2.8.0 (CUDA 12.8) through ``cuda-compat-12-8``.

    The compat package (``apt install cuda-compat-12-8``, NVIDIA's forward-compatibility doc)
    installs into the versioned toolkit directory ``/usr/local/cuda-12.8/compat`` and nothing
    else (no ``/usr/local/cuda`` link, no ld.so.conf.d file).  Its files, after Azure Linux's
    spec and conda-forge's build script: ``libcuda.so.<v>`` with ``libcuda.so.1`` (ldconfig -n)
    and ``libcuda.so`` → ``libcuda.so.1``; ``libcudadebugger.so.<v>`` + ``.so.1``;
    ``libnvidia-nvvm.so.<v>`` + ``.so.4`` (+ ``libnvidia-nvvm.so``, as conda-forge's script
    links it); ``libnvidia-ptxjitcompiler.so.<v>`` + ``.so.1``.  Newer branches also ship
    libnvidia-gpucomp, -nvvm70, -tileiras and -pkcs11-openssl3 there; whether 570's package
    has the pkcs11 and gpucomp files was not verified, so they are left out.  The libraries are
    gcc-built stand-ins with the real SONAMEs.  The version 570.211.01 is a real
    cuda-compat-12-8 build (named in a public setup script).

    Activation as NVIDIA's doc and real deployment scripts do it:
    ``LD_LIBRARY_PATH=/usr/local/cuda-12.8/compat``.  Whether NVIDIA's support table lists
    R535 as a base for the 12.8 compat package was not read verbatim (the doc page's table
    was not reachable); R535 is an LTSB data-center branch older than 570, the situation the
    package exists for."""
    desktop(world, "NVIDIA H100 80GB HBM3", flavour="flat")
    compat = {
        "libcuda": ("libcuda.so.1", True),
        "libcudadebugger": ("libcudadebugger.so.1", False),
        "libnvidia-nvvm": ("libnvidia-nvvm.so.4", True),
        "libnvidia-ptxjitcompiler": ("libnvidia-ptxjitcompiler.so.1", False),
    }
    for stem, (soname, dev_link) in compat.items():
        name = f"{stem}.so.{COMPAT_VERSION}"
        place(world, f"{COMPAT_DIR}/{name}", simple(soname, stem.replace("-", "_")))
        world.link(f"{COMPAT_DIR}/{soname}", name)
        if dev_link:
            world.link(f"{COMPAT_DIR}/{stem}.so", soname)
    pip_project(world, "torch-2.8.0")
    world.env["LD_LIBRARY_PATH"] = COMPAT_DIR


# -- 3. PyTorch's own cu118 wheel -------------------------------------------------------------

# torch/lib of the cu118 "large" wheel: what build_cuda.sh (release/2.1, CUDA 11.8, no
# PYTORCH_EXTRA_INSTALL_REQUIREMENTS) copies in from /usr/local/cuda/lib64, under the names
# build_common.sh's fname_with_sha256 gives them (sha256[:8] inserted, except libnvrtc-builtins,
# libcudnn* and libcublas*).  file name -> the library's own SONAME (patchelf --replace-needed
# rewrites the NEEDED entries of torch's libraries, never the copied files' SONAMEs).  The
# hashes are the ones seen in public reports of cu118 torch/libtorch builds (libcudart-d0da41ae,
# libnvrtc-d833c4f3, libnvToolsExt-847d78f2); libgomp-a34b3233 is in the real 2.1.2 (cu121)
# wheel's RECORD, built in the same image.
CU118_BUNDLED = {
    "libgomp-a34b3233.so.1": "libgomp.so.1",
    "libcudart-d0da41ae.so.11.0": "libcudart.so.11.0",
    "libnvToolsExt-847d78f2.so.1": "libnvToolsExt.so.1",
    "libnvrtc-d833c4f3.so.11.2": "libnvrtc.so.11.2",
    "libnvrtc-builtins.so.11.8": "libnvrtc-builtins.so.11.8",
    "libcublasLt.so.11": "libcublasLt.so.11",
    "libcublas.so.11": "libcublas.so.11",
    "libcudnn.so.8": "libcudnn.so.8",
    "libcudnn_ops_infer.so.8": "libcudnn_ops_infer.so.8",
    "libcudnn_ops_train.so.8": "libcudnn_ops_train.so.8",
    "libcudnn_cnn_infer.so.8": "libcudnn_cnn_infer.so.8",
    "libcudnn_cnn_train.so.8": "libcudnn_cnn_train.so.8",
    "libcudnn_adv_infer.so.8": "libcudnn_adv_infer.so.8",
    "libcudnn_adv_train.so.8": "libcudnn_adv_train.so.8",
}
TORCH_212 = "torch-2.1.2-cp311-cp311-manylinux1_x86_64.whl"


def _write_dist(world: World, site: str, dist: kit_pypi.Dist, **changes: object) -> None:
    name = str(changes.get("name", dist.name))
    version = str(changes.get("version", dist.version))
    requires = changes.get("requires_dist", dist.requires_dist)
    record = changes.get("record", dist.record)
    assert isinstance(requires, tuple)
    assert isinstance(record, tuple)
    info = f"{site}/{re.sub(r'[-.]+', '_', name)}-{version}.dist-info"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if dist.requires_python is not None:
        lines.append(f"Requires-Python: {dist.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in requires]
    world.file(f"{info}/METADATA", "\n".join(lines) + "\n")
    world.file(f"{info}/INSTALLER", "pip\n")
    world.file(f"{info}/RECORD", "".join(f"{p},,\n" for p in record))


def torch_cu118(world: World) -> None:
    """An RTX 4090 desktop (flat R535 driver) with ``pip install torch==2.1.2
    --index-url https://download.pytorch.org/whl/cu118`` in a venv.

    What differs from the kit's ``torch-2.1.2`` closure (PyPI's cu121 build):

    - torch is ``2.1.2+cu118`` and requires no nvidia-* wheel: for CUDA 11.8, release/2.1's
      build_cuda.sh bundles cuDNN, cuBLAS(Lt), cudart, nvToolsExt, nvrtc(+builtins) into
      ``torch/lib`` unless PYTORCH_EXTRA_INSTALL_REQUIREMENTS is set, and then sets that
      variable to triton alone; pytorch/pytorch #113972 (Nov 2023) says the
      download.pytorch.org wheels of the last three releases were hermetic, and #114281 made
      the pip-wheel build the default only for cu121, in 2.2.  So the brief's "requires
      nvidia-*-cu11 wheels" does not hold for 2.1.2: that split came with later releases.
      Requires-Dist is the real cu121 wheel's without its nvidia-* lines; the other
      distributions (triton 2.1.0, sympy, ...) are the real closure's minus nvidia-*.
    - ``torch/lib`` holds the bundled libraries (CU118_BUNDLED) beside the real RECORD's
      files; torch's libraries carry RUNPATH ``$ORIGIN`` (``_C.so``: ``$ORIGIN:$ORIGIN/lib``),
      build_common.sh's ``patchelf --set-rpath`` without --force-rpath.  NEEDED entries of
      libtorch_cuda.so / libc10_cuda.so are the bundled names (build_cuda.sh's DEPS_SONAME
      after replace_needed_sofiles), not read from the real binary.
    - ``torch/version.py``: the real 2.1.2 file with ``+cu118`` and ``cuda = '11.8'`` (same
      git_version: both builds are of the v2.1.2 tag).

    ``functorch/_C`` and ``nvfuser/_C`` lie outside ``torch/`` (build_common.sh sets RUNPATH
    only on ``torch/*.so`` and ``torch/lib/*.so``): their RUNPATH here is a guess.  GPU code
    (``.nv_fatbin``) is not modelled.  A CUDA 11.8 build on R535 (a CUDA 12.2 driver) needs
    nothing from forward or minor-version compatibility."""
    desktop(world)
    world.venv(PROJECT)
    closure = kit_pypi.closure("torch-2.1.2")
    lib = f"{SITE}/torch/lib"
    for dist in closure:
        if dist.name.startswith("nvidia-"):
            continue
        if dist.name != "torch":
            _write_dist(world, SITE, dist)
            continue
        requires = tuple(r for r in dist.requires_dist if not r.startswith("nvidia-"))
        bundled = tuple(
            f"torch/lib/{n}" for n in CU118_BUNDLED if f"torch/lib/{n}" not in dist.record
        )
        _write_dist(
            world,
            SITE,
            dist,
            version="2.1.2+cu118",
            requires_dist=requires,
            record=dist.record + bundled,
        )
        for member in dist.record:
            if member.endswith(".so") or ".so." in member or ".dist-info/" in member:
                continue
            if member == "torch/version.py":
                text = kit_pypi.member(f"{TORCH_212}/{member}").decode()
                text = text.replace("2.1.2+cu121", "2.1.2+cu118").replace("'12.1'", "'11.8'")
                world.file(f"{SITE}/{member}", text)
            else:
                world.file(f"{SITE}/{member}", f"stand-in for {member}\n")
    # ``libs`` are what torch's libraries link against: for a renamed file, a stub whose SONAME
    # is the new file name, so that the NEEDED entry reads as patchelf --replace-needed left it;
    # the file placed under that name keeps the library's own SONAME.
    libs: dict[str, Path] = {}
    for name, soname in CU118_BUNDLED.items():
        needed = [libs["libcublasLt.so.11"]] if name == "libcublas.so.11" else []
        body = f"int cu118_{len(libs)}(void) {{ return 0; }}"
        real = built(f"cu118:{name}", body, soname=soname, needed=needed, runpath="$ORIGIN")
        place(world, f"{lib}/{name}", real)
        libs[name] = real if name == soname else built(f"cu118-link:{name}", body, soname=name)

    def torch_lib(soname: str, needed: list[str], runpath: str = "$ORIGIN") -> Path:
        libs[soname] = built(
            f"cu118:{soname}",
            f"int t_{len(libs)}(void) {{ return 0; }}",
            soname=soname,
            needed=[libs[n] for n in needed],
            runpath=runpath,
        )
        return libs[soname]

    place(world, f"{lib}/libc10.so", torch_lib("libc10.so", ["libgomp-a34b3233.so.1"]))
    place(
        world,
        f"{lib}/libc10_cuda.so",
        torch_lib("libc10_cuda.so", ["libc10.so", "libcudart-d0da41ae.so.11.0"]),
    )
    place(world, f"{lib}/libtorch_cpu.so", torch_lib("libtorch_cpu.so", ["libc10.so"]))
    cuda_needed = [
        "libc10_cuda.so",
        "libtorch_cpu.so",
        "libcudart-d0da41ae.so.11.0",
        "libnvToolsExt-847d78f2.so.1",
        "libcublas.so.11",
        "libcublasLt.so.11",
        "libcudnn.so.8",
    ]
    place(world, f"{lib}/libtorch_cuda.so", torch_lib("libtorch_cuda.so", cuda_needed))
    place(
        world,
        f"{lib}/libcaffe2_nvrtc.so",
        torch_lib("libcaffe2_nvrtc.so", ["libnvrtc-d833c4f3.so.11.2"]),
    )
    place(
        world,
        f"{lib}/libtorch.so",
        torch_lib("libtorch.so", ["libtorch_cpu.so", "libtorch_cuda.so"]),
    )
    place(world, f"{lib}/libshm.so", torch_lib("libshm.so", ["libc10.so"]))
    place(world, f"{lib}/libtorch_global_deps.so", torch_lib("libtorch_global_deps.so", []))
    place(world, f"{lib}/libnvfuser_codegen.so", torch_lib("libnvfuser_codegen.so", ["libc10.so"]))
    place(world, f"{lib}/libtorch_cuda_linalg.so", torch_lib("libtorch_cuda_linalg.so", []))
    place(world, f"{lib}/libtorch_python.so", torch_lib("libtorch_python.so", ["libtorch.so"]))
    for ext in ("torch", "functorch", "nvfuser"):
        member = f"{ext}/_C.cpython-311-x86_64-linux-gnu.so"
        place(
            world,
            f"{SITE}/{member}",
            built(
                f"cu118:{member}",
                "int PyInit__C(void) { return 0; }",
                soname=posixpath.basename(member),
                needed=[libs["libtorch_python.so"]],
                runpath="$ORIGIN:$ORIGIN/lib" if ext == "torch" else "$ORIGIN/../torch/lib",
            ),
        )
    world.activate_venv(PROJECT)


# -- 4. pixi ----------------------------------------------------------------------------------

PIXI_ROOT = "/home/u/proj"
PIXI_ENV = f"{PIXI_ROOT}/.pixi/envs/default"
PIXI_SITE = f"{PIXI_ENV}/lib/python3.13/site-packages"
# The linux-64 environment of a real pixi.lock (pytorch >=2.8.0 with system-requirements
# cuda = "12.0", conda-forge): subdir/name-version-build of every package, verbatim.
PIXI_LOCK_LINUX64 = """
linux-64/_openmp_mutex-4.5-6_kmp_llvm linux-64/attr-2.5.2-h39aace5_0
linux-64/bzip2-1.0.8-hda65f42_8 linux-64/c-ares-1.34.5-hb9d3cd8_0
noarch/ca-certificates-2025.11.12-hbd8a1cb_0 noarch/cpython-3.13.9-py313hd8ed1ab_101
linux-64/cuda-crt-tools-12.9.86-ha770c72_2 linux-64/cuda-cudart-12.9.79-h5888daf_0
noarch/cuda-cudart_linux-64-12.9.79-h3f2d84a_0 linux-64/cuda-cuobjdump-12.9.82-hffce074_1
linux-64/cuda-cupti-12.9.79-h676940d_1 linux-64/cuda-nvcc-tools-12.9.86-he02047a_2
linux-64/cuda-nvdisasm-12.9.88-hffce074_1 linux-64/cuda-nvrtc-12.9.86-hecca717_1
linux-64/cuda-nvtx-12.9.79-hecca717_1 linux-64/cuda-nvvm-tools-12.9.86-h4bc722e_2
noarch/cuda-version-12.9-h4f385c5_3 linux-64/cudnn-9.10.2.21-hbcb9cd8_0
linux-64/curl-8.17.0-h4e3cde8_0 noarch/filelock-3.20.0-pyhd8ed1ab_0
noarch/fsspec-2025.10.0-pyhd8ed1ab_0 linux-64/gmp-6.3.0-hac33072_2
linux-64/gmpy2-2.2.1-py313h86d8783_2 linux-64/icu-75.1-he02047a_0
noarch/jinja2-3.1.6-pyhd8ed1ab_0 linux-64/keyutils-1.6.3-hb9d3cd8_0
linux-64/krb5-1.21.3-h659f571_0 linux-64/ld_impl_linux-64-2.45-h1aa0949_0
linux-64/libabseil-20250512.1-cxx17_hba17884_0 linux-64/libblas-3.11.0-1_h5875eb1_mkl
linux-64/libcap-2.77-h3ff7636_0 linux-64/libcblas-3.11.0-1_hfef963f_mkl
linux-64/libcublas-12.9.1.4-h676940d_1 linux-64/libcudnn-9.10.2.21-hf7e9902_0
linux-64/libcudnn-dev-9.10.2.21-h58dd1b1_0 linux-64/libcudss-0.7.1.4-h58dd1b1_0
linux-64/libcufft-11.4.1.4-hecca717_1 linux-64/libcufile-1.14.1.1-hbc026e6_1
linux-64/libcurand-10.3.10.19-h676940d_1 linux-64/libcurl-8.17.0-h4e3cde8_0
linux-64/libcusolver-11.7.5.82-h676940d_2 linux-64/libcusparse-12.5.10.65-hecca717_2
linux-64/libedit-3.1.20250104-pl5321h7949ede_0 linux-64/libev-4.33-hd590300_2
linux-64/libexpat-2.7.3-hecca717_0 linux-64/libffi-3.5.2-h9ec8514_0
linux-64/libgcc-15.2.0-h767d61c_7 linux-64/libgcc-ng-15.2.0-h69a702a_7
linux-64/libhwloc-2.12.1-default_h7f8ec31_1002 linux-64/libiconv-1.18-h3b78370_2
linux-64/liblapack-3.11.0-1_h5e43f62_mkl linux-64/liblzma-5.8.1-hb9d3cd8_2
linux-64/libmagma-2.9.0-ha7672b3_3 linux-64/libmpdec-4.0.0-hb9d3cd8_0
linux-64/libnghttp2-1.67.0-had1ee68_0 linux-64/libnl-3.11.0-hb9d3cd8_0
linux-64/libnvjitlink-12.9.86-hecca717_2 linux-64/libprotobuf-6.31.1-h49aed37_2
linux-64/libsqlite-3.51.0-hee844dc_0 linux-64/libssh2-1.11.1-hcf80075_0
linux-64/libstdcxx-15.2.0-h8f9b012_7 linux-64/libstdcxx-ng-15.2.0-h4852527_7
linux-64/libsystemd0-257.10-hd0affe5_2 linux-64/libtorch-2.8.0-cuda129_mkl_hf53477d_302
linux-64/libudev1-257.10-hd0affe5_2 linux-64/libuuid-2.41.2-he9a06e4_0
linux-64/libuv-1.51.0-hb03c661_1 linux-64/libxml2-16-2.15.1-ha9997c6_0
linux-64/libxml2-2.15.1-h26afc86_0 linux-64/libzlib-1.3.1-hb9d3cd8_2
linux-64/llvm-openmp-21.1.6-h4922eb0_0 linux-64/markupsafe-3.0.3-py313h3dea7bd_0
linux-64/mkl-2025.3.0-h0e700b2_462 linux-64/mpc-1.3.1-h24ddda3_1
linux-64/mpfr-4.2.1-h90cbb55_3 noarch/mpmath-1.3.0-pyhd8ed1ab_1
linux-64/nccl-2.28.9.1-h4d09622_0 linux-64/ncurses-6.5-h2d0b736_3
noarch/networkx-3.5-pyhe01879c_0 linux-64/numpy-2.3.5-py313hf6604e3_0
linux-64/openssl-3.6.0-h26f9b46_0 linux-64/optree-0.18.0-py313h7037e92_0
noarch/pybind11-2.13.6-pyhc790b64_3 noarch/pybind11-abi-4-hd8ed1ab_3
noarch/pybind11-global-2.13.6-pyh217bc35_3 linux-64/python-3.13.9-hc97d973_101_cp313
noarch/python_abi-3.13-8_cp313 linux-64/pytorch-2.8.0-cuda129_mkl_py313_h7947483_302
linux-64/rdma-core-60.0-hecca717_0 linux-64/readline-8.2-h8c095d6_2
noarch/setuptools-80.9.0-pyhff2d567_0 linux-64/sleef-3.9.0-ha0421bc_0
noarch/sympy-1.14.0-pyh2585a3b_105 linux-64/tbb-2022.3.0-h8d10470_1
linux-64/tk-8.6.13-noxft_ha0e22de_103 linux-64/triton-3.4.0-cuda129py313h246eb7c_1
noarch/typing-extensions-4.15.0-h396c80c_0 noarch/typing_extensions-4.15.0-pyhcf101f3_0
noarch/tzdata-2025b-h78e105d_0 linux-64/zstd-1.5.7-hb8e6e7a_2
"""
PIXI_TOML = """[workspace]
channels = ["conda-forge"]
name = "proj"
platforms = ["linux-64"]
version = "0.1.0"

[system-requirements]
cuda = "12.0"

[dependencies]
pytorch = ">=2.8.0,<3"
"""
# conda-forge's CUDA 12.9 redistributables of that lock: SONAME -> (package, its real version),
# leaves first (libcublas links libcublasLt; libcusparse and libcusolver link libnvJitLink).
PIXI_CUDA_LIBS = {
    "libcudart.so.12": ("cuda-cudart_linux-64", "12.9.79"),
    "libnvrtc.so.12": ("cuda-nvrtc", "12.9.86"),
    "libcupti.so.12": ("cuda-cupti", "12.9.79"),
    "libnvJitLink.so.12": ("libnvjitlink", "12.9.86"),
    "libcublasLt.so.12": ("libcublas", "12.9.1.4"),
    "libcublas.so.12": ("libcublas", "12.9.1.4"),
    "libcufft.so.11": ("libcufft", "11.4.1.4"),
    "libcurand.so.10": ("libcurand", "10.3.10.19"),
    "libcusparse.so.12": ("libcusparse", "12.5.10.65"),
    "libcusolver.so.11": ("libcusolver", "11.7.5.82"),
}
PIXI_CUDA_NEEDED = {
    "libcublas.so.12": ["libcublasLt.so.12"],
    "libcusparse.so.12": ["libnvJitLink.so.12"],
    "libcusolver.so.11": [
        "libcublas.so.12",
        "libcublasLt.so.12",
        "libcusparse.so.12",
        "libnvJitLink.so.12",
    ],
}


def _pixi_records(world: World, env: str) -> None:
    for entry in PIXI_LOCK_LINUX64.split():
        subdir, _, stem = entry.partition("/")
        match = re.match(r"^(.+?)-(\d[^-]*)-([^-]+)$", stem)
        assert match is not None, entry
        name, version, build = match.groups()
        record: dict[str, object] = {
            "name": name,
            "version": version,
            "build": build,
            "build_number": int(([*re.findall(r"(?:^|_)(\d+)(?=_|$)", build), "0"])[0]),
            "channel": "https://conda.anaconda.org/conda-forge/",
            "subdir": subdir,
            "fn": f"{stem}.conda",
            "url": f"https://conda.anaconda.org/conda-forge/{entry}.conda",
            "files": [],
        }
        world.file(f"{env}/conda-meta/{stem}.json", json.dumps(record))


def conda_forge_pytorch(world: World, env: str, site: str) -> None:
    """conda-forge's pytorch 2.8.0 (CUDA 12.9) laid into a conda prefix: the records of a real
    pixi.lock's linux-64 environment and the libraries as conda-forge lays them out (see
    pixi_pytorch for every source)."""
    _pixi_records(world, env)
    targets = f"{env}/targets/x86_64-linux/lib"
    libs: dict[str, Path] = {}
    for soname, (_package, version) in PIXI_CUDA_LIBS.items():
        stem = soname.split(".so.")[0]
        libs[soname] = built(
            f"pixi:{soname}",
            f"int px_{len(libs)}(void) {{ return 0; }}",
            soname=soname,
            needed=[libs[n] for n in PIXI_CUDA_NEEDED.get(soname, [])],
            rpath="$ORIGIN",
        )
        place(world, f"{targets}/{stem}.so.{version}", libs[soname])
        world.link(f"{targets}/{soname}", f"{stem}.so.{version}")
        world.link(f"{env}/lib/{soname}", f"../targets/x86_64-linux/lib/{soname}")
    for soname in ("libcudnn.so.9", "libnccl.so.2"):
        libs[soname] = simple(soname)
        place(world, f"{env}/lib/{soname}", libs[soname])
    torch_libs = {
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
            "libcusolver.so.11",
            "libnccl.so.2",
        ],
        "libtorch.so": ["libtorch_cpu.so", "libtorch_cuda.so"],
        "libtorch_python.so": ["libtorch.so"],
    }
    for soname, needed in torch_libs.items():
        libs[soname] = built(
            f"pixi:{soname}",
            f"int pt_{len(libs)}(void) {{ return 0; }}",
            soname=soname,
            needed=[libs[n] for n in needed],
            rpath="$ORIGIN",
        )
        place(world, f"{env}/lib/{soname}", libs[soname])
        world.link(f"{site}/torch/lib/{soname}", f"../../../../{soname}")
    place(
        world,
        f"{site}/torch/_C.cpython-313-x86_64-linux-gnu.so",
        built(
            "pixi:_C",
            "int PyInit__C(void) { return 0; }",
            soname="_C.so",
            needed=[libs["libtorch_python.so"]],
            rpath="$ORIGIN/lib:$ORIGIN/../../..",
        ),
    )
    world.file(f"{site}/torch/__init__.py", "")
    world.file(
        f"{site}/torch/version.py",
        "from typing import Optional\n\n__all__ = ['__version__', 'debug', 'cuda', "
        "'git_version', 'hip', 'xpu']\n__version__ = '2.8.0'\ndebug = False\n"
        "cuda: Optional[str] = '12.9'\ngit_version = 'Unknown'\nhip: Optional[str] = None\n"
        "xpu: Optional[str] = None\n",
    )
    world.dist(
        site,
        "torch",
        "2.8.0",
        installer="conda",
        requires=["filelock", "typing-extensions>=4.10.0", "sympy>=1.13.3", "networkx"],
    )


def pixi_pytorch(world: World) -> None:
    """``pixi add pytorch`` (conda-forge, CUDA 12.9 build) in a pixi workspace, inside
    ``pixi shell``, on an RTX 4090 desktop with the R535 driver (CUDA 12.9 by minor-version
    compatibility; pixi's ``system-requirements.cuda = "12.0"`` is what lets the solver pick
    the CUDA build, pixi's PyTorch guide).

    The prefix is ``.pixi/envs/default`` (pixi docs: a conda environment), holding a
    conda-meta record for every package of a real pixi.lock's linux-64 environment
    (pytorch 2.8.0 ``cuda129_mkl_py313_h7947483_302``, libtorch, python 3.13.9, cuda-version
    12.9, ...; the records carry name/version/build/channel, not the real file lists) and the
    ``conda-meta/pixi`` marker pixi writes at install (its content here is illustrative).  No
    pip: the lock has none.  pixi.toml is the example workspace's, renamed; the lock itself is
    not written.

    Libraries as conda-forge lays them out: each CUDA redistributable's versioned file in
    ``targets/x86_64-linux/lib`` with its SONAME link and RPATH ``$ORIGIN``, and a link from
    ``lib/`` (cuda-cudart / libcublas feedstocks' build.sh; the other CUDA feedstocks were not
    each read: same template assumed); cuDNN's and NCCL's ``lib/libcudnn.so.9``,
    ``lib/libnccl.so.2`` directly in ``lib/`` (not verified).  libtorch's libraries in
    ``$PREFIX/lib`` with NEEDED on the CUDA libraries (not read from the real binary), and
    linked back into ``site-packages/torch/lib`` (pytorch-cpu-feedstock build.sh: ``ln -sf
    $PREFIX/lib/X torch/lib/X``, relative once conda packs it).  ``torch/version.py`` has the
    format of torch's own generated file, values 2.8.0 / '12.9' (not the real file).

    The shell: ``pixi shell``'s variables as pixi's docs and real ``pixi shell-hook`` output show
    them (PATH with the env's bin first, CONDA_PREFIX, CONDA_SHLVL=1, CONDA_DEFAULT_ENV = the
    workspace name, PIXI_PROJECT_*, PIXI_ENVIRONMENT_NAME/PLATFORMS, PIXI_PROMPT,
    PIXI_IN_SHELL, PIXI_EXE)."""
    debian_root(world)
    machine_driver(world, "flat", "NVIDIA GeForce RTX 4090")
    world.system_python("3.11", pip=False)
    world.file("/home/u/.pixi/bin/pixi", "stand-in for the pixi binary\n", 0o755)
    world.file(f"{PIXI_ROOT}/pixi.toml", PIXI_TOML)
    world.conda_env(PIXI_ENV, python=None)
    world.python_install(PIXI_ENV, "3.13")
    world.file(
        f"{PIXI_ENV}/conda-meta/pixi",
        json.dumps(
            {
                "manifest_path": f"{PIXI_ROOT}/pixi.toml",
                "environment_name": "default",
                "pixi_version": "0.59.0",
            }
        ),
    )
    conda_forge_pytorch(world, PIXI_ENV, PIXI_SITE)
    world.env.update(
        PATH=f"{PIXI_ENV}/bin:/home/u/.pixi/bin:/usr/local/bin:/usr/bin:/bin",
        CONDA_PREFIX=PIXI_ENV,
        CONDA_SHLVL="1",
        CONDA_DEFAULT_ENV="proj",
        PIXI_PROJECT_ROOT=PIXI_ROOT,
        PIXI_PROJECT_NAME="proj",
        PIXI_PROJECT_MANIFEST=f"{PIXI_ROOT}/pixi.toml",
        PIXI_PROJECT_VERSION="0.1.0",
        PIXI_ENVIRONMENT_NAME="default",
        PIXI_ENVIRONMENT_PLATFORMS="linux-64",
        PIXI_PROMPT="(proj) ",
        PIXI_IN_SHELL="1",
        PIXI_EXE="/home/u/.pixi/bin/pixi",
        PWD=PIXI_ROOT,
    )


# -- 5. Debian's toolkit with CuPy --------------------------------------------------------------

# The CUDA 11.8 runtime libraries `apt install nvidia-cuda-toolkit` pulls in through
# nvidia-cuda-dev's Depends (bookworm non-free Packages index, the kit's apt lists: libnvrtc11.2,
# libnvrtc-builtins11.8, libcublas11, libcublaslt11, libcufft10, libcurand10, libcusolver11,
# libcusparse11, all =11.8.0-5~deb12u1 builds): file name -> SONAME, the paths from Debian's
# Contents index (tests/data/real/debian/cuda-toolkit.contents).  Which name is the
# file and which the link is Debian Policy 8.1's convention, not read from the .debs.
DEBIAN_CUDA_LIBS = {
    "libnvrtc.so.11.8.89": "libnvrtc.so.11.2",
    "libnvrtc-builtins.so.11.8.89": "libnvrtc-builtins.so.11.8",
    "libcublas.so.11.11.3.6": "libcublas.so.11",
    "libcublasLt.so.11.11.3.6": "libcublasLt.so.11",
    "libcufft.so.10.9.0.58": "libcufft.so.10",
    "libcurand.so.10.3.0.86": "libcurand.so.10",
    "libcusolver.so.11.4.1.48": "libcusolver.so.11",
    "libcusparse.so.11.7.5.86": "libcusparse.so.11",
}


def debian_toolkit_cupy(world: World) -> None:
    """A Debian 12 desktop with Debian's driver packages (R535), ``apt install
    nvidia-cuda-toolkit`` (CUDA 11.8: kit_debian.install_distro_toolkit, nvcc in /usr/bin) and
    a venv with ``pip install cupy-cuda11x==13.3.0``, which uses the toolkit's CUDA 11.8
    libraries from the loader cache.

    The toolkit's runtime libraries (DEBIAN_CUDA_LIBS) are ELF stand-ins at the paths of
    Debian's Contents index; the kit installs only libcudart11.0 of them, apt installs all
    (nvidia-cuda-toolkit Depends nvidia-cuda-dev, which Depends each of them).  cuda-home-unset
    (info) is expected: Debian's toolkit is /usr, and nothing here sets CUDA_HOME.

    No closure exists for cupy-cuda11x: its dist-info is written from the real cupy-cuda12x
    13.3.0 METADATA (same release, same setup.py requirements; the name changed), with numpy
    2.2.6 and fastrlock 0.8.4 as pip resolved them for cupy-cuda12x 13.3.0.  No cupy module
    files or ELF facts of the cuda11x wheel are in the kit: only ``cupy/__init__.py`` is
    written."""
    debian_root(world)
    machine_driver(world, "debian", "NVIDIA GeForce RTX 3090")
    world.system_python("3.11")
    kit_debian.install_distro_toolkit(world.root)
    libdir = f"/usr/lib/{kit_debian.TRIPLET}"
    for name, soname in DEBIAN_CUDA_LIBS.items():
        place(world, f"{libdir}/{name}", simple(soname))
        world.link(f"{libdir}/{soname}", name)
    world.venv(PROJECT)
    for dist in kit_pypi.closure("cupy-cuda12x-13.3.0"):
        if dist.name == "cupy-cuda12x":
            _write_dist(world, SITE, dist, name="cupy-cuda11x", record=())
        else:
            _write_dist(world, SITE, dist, record=())
    world.file(f"{SITE}/cupy/__init__.py", "")
    world.file(f"{SITE}/numpy/__init__.py", "")
    world.activate_venv(PROJECT)


# -- 6. the newest torch on R580 ---------------------------------------------------------------


def torch_latest_r580(world: World) -> None:
    """An RTX 5090 desktop on driver 580.95.05 (CUDA 13.0) with ``pip install torch`` (newest:
    the kit's torch-latest closure, CUDA 13.2 wheels, the unsuffixed nvidia-* wheels under
    ``nvidia/cu13``), CUDA 13.2 on an R580 driver by minor-version compatibility.

    The driver is cudaworld's stand-in (the kit's real driver is R535 only): libcuda /
    libnvidia-ml stand-ins named ``.so.580.95.05`` with their SONAME links in the multiarch
    directory, the proprietary module's /proc and /sys files in the real formats."""
    debian_root(world)
    driver(world, "580.95.05", gpus=("NVIDIA GeForce RTX 5090",))
    world.system_python("3.11")
    pip_project(world, "torch-latest")


def finish_nixos(world: World) -> dict[str, object]:
    """NixOS: no ldconfig run (see nixos_pip_torch)."""
    return world.doctor()


def miniforge_pytorch(world: World) -> None:
    """Miniforge with ``conda create -n torch pytorch`` from conda-forge (the same packages and
    layout as pixi_pytorch's prefix), activated with ``conda activate torch``.  Unlike pixi,
    conda adds pip to every environment with a Python (its ``add_pip_as_python_dependency``
    setting, on by default): a pip record, its dist-info and ``bin/pip``."""
    base = "/home/u/miniforge3"
    env = f"{base}/envs/torch"
    site = f"{env}/lib/python3.13/site-packages"
    debian_root(world)
    machine_driver(world, "flat", "NVIDIA GeForce RTX 4090")
    world.system_python("3.11", pip=False)
    world.conda_base(base)
    world.conda_env(env, python=None)
    world.python_install(env, "3.13")
    conda_forge_pytorch(world, env, site)
    world.conda_record(env, "pip", "25.3", "pyh145f28c_0")
    world.dist(site, "pip", "25.3", installer="conda")
    world.script(f"{env}/bin/pip", f"{env}/bin/python3.13")
    world.file("/home/u/.conda/environments.txt", f"{base}\n{env}\n")
    world.activate_conda(env, base)


MACHINES: dict[str, tuple[Callable[[World], None], Callable[[World], dict[str, object]]]] = {
    "Miniforge, conda-forge pytorch 2.8.0 (CUDA 12.9)": (miniforge_pytorch, finish),
    "NixOS, /run/opengl-driver, pip torch 2.4.1 in a nix-shell": (nixos_pip_torch, finish_nixos),
    "H100 on R535, cuda-compat-12-8, pip torch 2.8.0": (forward_compat_h100, finish),
    "RTX 4090, torch 2.1.2+cu118 from download.pytorch.org": (torch_cu118, finish),
    "pixi shell, conda-forge pytorch 2.8.0 (CUDA 12.9)": (pixi_pytorch, finish),
    "Debian nvidia-cuda-toolkit 11.8, cupy-cuda11x 13.3.0": (debian_toolkit_cupy, finish),
    "RTX 5090 on R580, pip torch newest (CUDA 13)": (torch_latest_r580, finish),
}


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_a_healthy_machine_gets_nothing_above_info(tmp_path: Path, name: str) -> None:
    build, done = MACHINES[name]
    world = World(tmp_path / "world")
    build(world)
    report = done(world)
    assert_diagnosis(report, max_severity="info")
