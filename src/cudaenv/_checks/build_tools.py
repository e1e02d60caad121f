"""The tools that compile for the GPU: the host compiler nvcc runs, and the ptxas/libdevice
that frameworks compiling at run time (JAX/XLA, Triton) would use."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Optional

from .._knowledge.compilers import NVCC_HOST_COMPILERS, host_compiler_range
from .._knowledge.drivers import parse_version
from ..actions import Action, pip_install, unset_var
from ..findings import Finding
from ..snapshot import Framework, Snapshot, Toolkit
from ._common import finding, quote

__all__ = ["host_compiler_unsupported", "toolkit_older_than_framework"]


def _toolkit_for(s: Snapshot, consumer: str) -> Optional[Toolkit]:
    for choice in s.toolkit_choices:
        if choice.consumer == consumer and choice.root:
            return next((t for t in s.toolkits if t.root == choice.root and t.exists), None)
    return None


# -- host-compiler-unsupported --------------------------------------------------------------------


def _first_cuda_accepting(kind: str, major: int) -> Optional[str]:
    index = 1 if kind == "gcc" else 3
    rows = sorted(NVCC_HOST_COMPILERS.items(), key=lambda kv: parse_version(kv[0]))
    return next((cuda for cuda, row in rows if row[index] >= major), None)


def host_compiler_unsupported(s: Snapshot) -> Iterator[Finding]:
    compiler = s.host_compiler
    toolkit = _toolkit_for(s, "torch")
    if compiler is None or toolkit is None or toolkit.nvcc is None:
        return
    if compiler.version is None or compiler.kind is None or compiler.allow_unsupported:
        return
    version = toolkit.nvcc_version or toolkit.version
    table = host_compiler_range(version, compiler.kind) if version else None
    newest = toolkit.gcc_max if compiler.kind == "gcc" else toolkit.clang_max
    limit_from = toolkit.host_config if newest is not None else None
    if newest is None and table is not None:
        newest, limit_from = table[1], f"CUDA {version}'s supported compilers"
    oldest = table[0] if table else None
    if newest is None:
        return
    if compiler.version > newest:
        problem = f"{compiler.kind} {compiler.version} is newer than the {newest} it accepts"
        message = (
            f"'unsupported GNU version! gcc versions later than {newest} are not supported!'"
            if compiler.kind == "gcc"
            else f"'unsupported clang version! clang version must be less than {newest + 1}'"
        )
    elif oldest is not None and compiler.version < oldest:
        problem = f"{compiler.kind} {compiler.version} is older than the {oldest} it supports"
        message = "errors in the CUDA headers, or a refusal to compile"
    else:
        return
    binary = "gcc" if compiler.kind == "gcc" else "clang"
    fixes = [
        (
            f"install {binary}-{newest} (or any {oldest or 1} to {newest}) and point nvcc at it: "
            f"export NVCC_CCBIN=/usr/bin/{binary}-{newest}   "
            f"# conda: conda install -c conda-forge {'gxx' if binary == 'gcc' else 'clangxx'}="
            f"{newest}"
        ),
    ]
    newer_cuda = _first_cuda_accepting(compiler.kind, compiler.version)
    if compiler.version > newest and newer_cuda:
        fixes.append(
            f"or use a CUDA toolkit ≥ {newer_cuda}, which accepts {binary} {compiler.version}"
        )
    fixes.append(
        "last resort: nvcc -allow-unsupported-compiler (NVCC_APPEND_FLAGS), at your own risk"
    )
    yield finding(
        "host-compiler-unsupported",
        f"nvcc {version} will refuse its host compiler, {binary} {compiler.version}",
        f"Builds use the toolkit at {toolkit.root}; its nvcc compiles host code with "
        f"{compiler.path or compiler.command} ({compiler.chosen_by}), and {problem}. "
        f"Every CUDA extension build stops with {message}.",
        [
            (
                f"host compiler: {compiler.path or compiler.command} → {compiler.real} "
                f"({compiler.kind} {compiler.version}, from {compiler.version_from})"
            ),
            f"nvcc: {toolkit.nvcc} (CUDA {version}); limit from {limit_from}",
        ],
        fixes,
    )


# -- toolkit-older-than-framework -----------------------------------------------------------------


def _min_nvcc_required(plugin: Framework) -> Optional[str]:
    """The oldest nvidia-cuda-nvcc a JAX CUDA plugin asks for (its ``with-cuda`` extra)."""
    for text in plugin.requires_dist:
        match = re.match(r"\s*nvidia-cuda-nvcc(?:-cu\d+)?\s*\(?\s*>=\s*([\d.]+)", text)
        if match:
            return ".".join(match.group(1).split(".")[:2])
    return None


def _older(version: Optional[str], than: str) -> bool:
    return version is not None and parse_version(version)[:2] < parse_version(than)[:2]


def toolkit_older_than_framework(s: Snapshot) -> Iterator[Finding]:
    problems: list[str] = []
    fixes: list[str] = []
    actions: list[Action] = []
    plugin = next((f for f in s.frameworks if re.fullmatch(r"jax-cuda\d+-plugin", f.name)), None)
    if plugin is not None and plugin.cuda:
        toolkit = _toolkit_for(s, "xla")
        needed = _min_nvcc_required(plugin) or f"{plugin.cuda}.0"
        major = plugin.cuda
        suffix = f"-cu{major}" if int(major) < 13 else ""
        ptxas_cuda = (toolkit.nvcc_version or toolkit.version) if toolkit is not None else None
        if toolkit is not None and _older(ptxas_cuda, needed):
            problems.append(
                f"XLA (JAX {plugin.version}) compiles with ptxas from {toolkit.root} (CUDA "
                f"{ptxas_cuda}); it needs CUDA ≥ {needed}"
            )
            fixes.append(f"python -m pip install 'nvidia-cuda-nvcc{suffix}>={needed}'")
            actions.append(pip_install((f"nvidia-cuda-nvcc{suffix}>={needed}",), "XLA's ptxas"))
        if toolkit is None or toolkit.libdevice is None:
            where = toolkit.root if toolkit is not None else "no CUDA directory"
            problems.append(
                f"XLA (JAX {plugin.version}) needs libdevice.10.bc and finds none ({where})"
            )
            fixes.append(
                f"python -m pip install 'nvidia-cuda-nvcc{suffix}>={needed}'   # or set "
                "XLA_FLAGS=--xla_gpu_cuda_data_dir=<a CUDA toolkit with nvvm/libdevice>"
            )
            actions.append(pip_install((f"nvidia-cuda-nvcc{suffix}>={needed}",), "XLA's libdevice"))
    triton = next((f for f in s.frameworks if f.name == "triton"), None)
    ptxas = s.environ.get("TRITON_PTXAS_PATH")
    if triton is not None and triton.cuda and ptxas:
        root = posixpath.dirname(posixpath.dirname(ptxas))
        toolkit = next((t for t in s.toolkits if t.root == root and t.exists), None)
        if toolkit is not None and _older(toolkit.version, triton.cuda):
            problems.append(
                f"TRITON_PTXAS_PATH={ptxas} is CUDA {toolkit.version}; Triton {triton.version} "
                f"bundles CUDA {triton.cuda} and emits PTX that older ptxas rejects"
            )
            fixes.append(
                f"unset TRITON_PTXAS_PATH   # Triton's own ptxas ({quote(triton.package_dir)})"
            )
            actions.append(unset_var("TRITON_PTXAS_PATH", "Triton uses its own ptxas"))
    if not problems:
        return
    yield finding(
        "toolkit-older-than-framework",
        "A framework that compiles at run time would use an older CUDA compiler than its own",
        "JAX/XLA and Triton generate PTX for their CUDA version and hand it to ptxas (and XLA "
        "links libdevice); an older ptxas rejects it ('ptxas fatal : Unsupported .version'), "
        "and without libdevice XLA cannot compile math functions.",
        problems,
        fixes,
        actions=actions,
    )
