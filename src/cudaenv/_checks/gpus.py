"""The GPUs against the code that must run on them: the frameworks' compiled kernels, and the
nvcc that would build new ones."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Optional

from .._knowledge.drivers import parse_version
from .._knowledge.gpus import ARCH_CUDA, code_runs_on, cuda_can_target, sass_can_serve
from ..actions import Action, manual
from ..findings import Finding
from ..snapshot import Framework, Gpu, Snapshot, Toolkit
from ._common import finding
from ._gpu import framework_label, gpu_frameworks, torch_install, torch_install_action

__all__ = ["gpu_arch_unsupported", "nvcc_too_old_for_gpu"]


def _verdict(f: Framework, gpu: Gpu) -> Optional[str]:
    """Why ``f`` has no kernel for ``gpu`` (evidence text), or None when it has one (or
    cannot be judged)."""
    cc = gpu.capability
    if cc is None:
        return None
    readable = [c for c in f.gpu_code if not c.error and (c.sass or c.ptx)]
    if readable:
        for code in readable:
            if any(code_runs_on(x, cc) for x in (*code.sass, *code.ptx)):
                return None
        code = readable[0]
        listed = " ".join((*code.sass, *code.ptx))
        return f"{posixpath.basename(code.path)} carries {listed}: nothing runs on {cc}"
    # No GPU code to read (a stripped stand-in, an unreadable file): what the CUDA version
    # alone proves, by binary compatibility.  SASS of an older minor of the GPU's major runs
    # on it, so only a toolkit that can compile for no X.Y ≤ the GPU's (same major) proves a
    # miss; PTX is not assumed (none of these builds ships PTX that an unknown GPU can JIT).
    if f.cuda and "." in f.cuda and sass_can_serve(f.cuda, cc) is False:
        first, last = ARCH_CUDA[cc]
        span = f"CUDA {first}" + (f" to {last}" if last else " or newer")
        return (
            f"built with CUDA {f.cuda}, which compiles for no {cc.split('.')[0]}.x architecture "
            f"that runs on {cc} ({cc} itself takes {span})"
        )
    return None


def gpu_arch_unsupported(s: Snapshot) -> Iterator[Finding]:
    if not s.gpus:
        return
    misses: list[tuple[Framework, Gpu, str]] = []
    for f in gpu_frameworks(s):
        for gpu in s.gpus:
            why = _verdict(f, gpu)
            if why is not None:
                misses.append((f, gpu, why))
    if not misses:
        return
    f, gpu, _ = misses[0]
    fixes = []
    actions: list[Action] = []
    torch = next((m[0] for m in misses if m[0].name == "torch"), None)
    if torch is not None:
        install = torch_install(s, torch)
        if install:
            fixes.append(install)
            actions += torch_install_action(s, torch, f"a torch with code for {gpu.capability}")
        else:
            fixes.append(
                f"install a torch build with code for compute capability {gpu.capability} "
                "(https://pytorch.org/get-started/locally/ lists each build's CUDA)"
            )
    for other in {m[0].name for m in misses} - {"torch"}:
        fixes.append(
            f"reinstall {other} built for compute capability {gpu.capability} (a build for a "
            "CUDA version that targets it), or build it from source with "
            f"TORCH_CUDA_ARCH_LIST={gpu.capability}"
        )
    yield finding(
        "gpu-arch-unsupported",
        f"{f.name} {f.version} has no GPU code for the {gpu.model} (compute capability "
        f"{gpu.capability})",
        "A kernel runs only from SASS compiled for the GPU's architecture (same major, equal or "
        "lower minor) or from PTX the driver can compile for it; this build carries neither, so "
        "GPU work fails with 'no kernel image is available for execution on the device' "
        "(torch first warns that the GPU 'is not compatible with the current PyTorch "
        "installation').",
        [f"{m[1].model}: compute capability {m[1].capability} ({m[1].source})" for m in misses[:1]]
        + [f"{framework_label(m[0])}: {m[2]}" for m in misses[:4]],
        fixes,
        actions=actions
        + [manual(x, "", "user") for x in fixes if not x.startswith("python -m pip")],
    )


def _build_toolkit(s: Snapshot) -> Optional[Toolkit]:
    for choice in s.toolkit_choices:
        if choice.consumer == "torch" and choice.root:
            return next((t for t in s.toolkits if t.root == choice.root and t.exists), None)
    return None


def nvcc_too_old_for_gpu(s: Snapshot) -> Iterator[Finding]:
    toolkit = _build_toolkit(s)
    if toolkit is None or toolkit.nvcc is None:
        return
    version = toolkit.nvcc_version or toolkit.version
    if not version:
        return
    stuck = [g for g in s.gpus if g.capability and cuda_can_target(version, g.capability) is False]
    if not stuck:
        return
    gpu = stuck[0]
    assert gpu.capability is not None  # filtered above
    first, last = ARCH_CUDA[gpu.capability]
    too_new = last is not None and parse_version(version)[:2] > parse_version(last)[:2]
    needed = f"CUDA {first} to {last}" if last else f"CUDA {first} or newer"
    arch = "sm_" + gpu.capability.replace(".", "")
    yield finding(
        "nvcc-too-old-for-gpu",
        f"nvcc {version} cannot compile for the {gpu.model} ({arch})",
        f"Builds use the toolkit at {toolkit.root} (CUDA {version}), which "
        + ("no longer supports" if too_new else "predates")
        + f" compute capability {gpu.capability}: building an extension for this GPU stops with "
        f"'nvcc fatal : Unsupported gpu architecture 'compute_{arch[3:]}''.",
        [
            f"{gpu.model}: compute capability {gpu.capability} ({gpu.source})",
            f"nvcc: {toolkit.nvcc} (CUDA {version})",
            f"{arch} needs {needed}",
        ],
        [
            (
                f"install a CUDA toolkit of {needed} (conda: conda install -c conda-forge "
                f"cuda-nvcc cuda-cudart-dev cuda-version={last or first}) and point "
                "CUDA_HOME at it"
            ),
        ],
    )
