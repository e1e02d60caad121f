"""What frameworks' files say about their builds, and which builds belong together.

Sources (knowledge base §2.4, §4.d to 4.g and the projects' own packaging):

* torch: ``torch/version.py`` (``cuda``, ``hip``), local version tags (``+cu128``, ``+cpu``,
  ``+rocm6.1``), conda build strings (pytorch channel ``py3.11_cuda12.1_cudnn8.9.2_0`` /
  ``py3.11_cpu_0``, conda-forge ``cuda126_generic_py312h…`` / ``cpu_generic_…``),
  ``pytorch-mutex`` (build ``cpu``/``cuda``) and ``cpuonly``.
* torchvision/torchaudio pairing: pytorch/vision's and pytorch/audio's compatibility tables
  (torchvision 0.(N+1) ↔ torch 1.N, 0.(N+15) ↔ torch 2.N; torchaudio 0.N ↔ torch 1.N from 1.6,
  torchaudio 2.N ↔ torch 2.N), and their ``Requires-Dist: torch==…`` pins.
* CuPy: its wheel names (``cupy-cuda12x`` …, legacy ``cupy-cuda102`` …).
* JAX: ``jax-cudaNN-plugin`` and ``jax-cudaNN-pjrt`` carry jaxlib's version exactly.
* TensorFlow: ``tensorflow/python/platform/build_info.py``; the tested CUDA/cuDNN pairs of
  tensorflow.org's "Tested build configurations" (Linux GPU) where the file is silent.
* ``TORCH_INDEXES``: the CUDA variants download.pytorch.org serves for current torch, with the
  ``TORCH_CUDA_ARCH_LIST`` each is built with (pytorch .ci/manywheel/build_cuda.sh; cu118 from
  older releases of the same script, M).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Optional

__all__ = [
    "EXTENSIONS",
    "GPU_CODE_OBJECTS",
    "TF_TESTED",
    "companion_series",
    "conda_build_variant",
    "cupy_variant_cuda",
    "local_tag_variant",
    "tensorflow_libraries",
    "torch_index_for",
    "torch_release_cuda",
]

TF_TESTED: dict[str, tuple[str, str]] = {
    "2.18": ("12.5", "9.3"),
    "2.17": ("12.3", "8.9"),
    "2.16": ("12.3", "8.9"),
    "2.15": ("12.2", "8.9"),
    "2.14": ("11.8", "8.7"),
    "2.13": ("11.8", "8.6"),
    "2.12": ("11.8", "8.6"),
    "2.11": ("11.2", "8.1"),
    "2.10": ("11.2", "8.1"),
    "2.9": ("11.2", "8.1"),
    "2.8": ("11.2", "8.1"),
    "2.7": ("11.2", "8.1"),
    "2.6": ("11.2", "8.1"),
    "2.5": ("11.2", "8.1"),
    "2.4": ("11.0", "8.0"),
    "2.3": ("10.1", "7.6"),
    "2.2": ("10.1", "7.6"),
    "2.1": ("10.1", "7.6"),
}
"""TensorFlow X.Y → (CUDA, cuDNN) it was tested (and built) with on Linux."""

EXTENSIONS = (
    "vllm",
    "flash-attn",
    "xformers",
    "torch-scatter",
    "torch-sparse",
    "torch-cluster",
    "torch-spline-conv",
    "pyg-lib",
    "bitsandbytes",
    "onnxruntime-gpu",
    "apex",
    "mamba-ssm",
    "causal-conv1d",
    "auto-gptq",
)
"""Compiled extensions whose shared objects link a CUDA runtime of their own choosing."""

GPU_CODE_OBJECTS: dict[str, tuple[str, ...]] = {
    "torch": ("torch/lib/libtorch_cuda.so", "torch/lib/libtorch_cuda_cu.so"),
    "cupy": ("cupy/cuda/cub*.so", "cupy/cuda/thrust*.so", "cupy/random/_generator_api*.so"),
    "torchvision": ("torchvision/_C.so", "torchvision/_C.*.so"),
    "vllm": ("vllm/_C.abi3.so", "vllm/_C.*.so"),
    "flash-attn": ("flash_attn_2_cuda*.so",),
    "xformers": ("xformers/_C.so", "xformers/_C.*.so"),
    "torch-scatter": ("torch_scatter/_scatter_cuda*.so",),
    "onnxruntime-gpu": ("onnxruntime/capi/libonnxruntime_providers_cuda.so",),
    "tensorflow": (
        "tensorflow/libtensorflow_cc.so.2",
        "tensorflow/python/_pywrap_tensorflow_internal.so",
    ),
}
"""Framework → the binaries (relative to its site directory) that carry its GPU kernels, beside
its entry objects (which are read too).  CuPy compiles most kernels at run time; its CUB,
Thrust and random-number modules are precompiled."""

TORCH_INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # newest first: (CUDA, compute capabilities with SASS; "+PTX" marks the JIT-able newest)
    ("13.0", ("7.5", "8.0", "8.6", "9.0", "10.0", "12.0+PTX")),
    ("12.9", ("7.0", "7.5", "8.0", "8.6", "9.0", "10.0", "12.0+PTX")),
    ("12.8", ("7.0", "7.5", "8.0", "8.6", "9.0", "10.0", "12.0")),
    ("12.6", ("5.0", "6.0", "7.0", "7.5", "8.0", "8.6", "9.0")),
    ("12.4", ("5.0", "6.0", "7.0", "7.5", "8.0", "8.6", "9.0")),
    ("12.1", ("5.0", "6.0", "7.0", "7.5", "8.0", "8.6", "9.0")),
    ("11.8", ("3.7", "5.0", "6.0", "7.0", "7.5", "8.0", "8.6", "9.0")),
)
CURRENT_TORCH_CUDA = frozenset({"13.0", "12.9", "12.8", "12.6", "11.8"})
"""The variants to choose from when no torch version is asked for (11.8: the newest torch an
R450-R510 driver runs)."""
TORCH_RELEASE_CUDA: dict[str, tuple[str, ...]] = {
    "2.0": ("11.8",),
    "2.1": ("11.8", "12.1"),
    "2.2": ("11.8", "12.1"),
    "2.3": ("11.8", "12.1"),
    "2.4": ("11.8", "12.1", "12.4"),
    "2.5": ("11.8", "12.1", "12.4"),
    "2.6": ("11.8", "12.4", "12.6"),
    "2.7": ("11.8", "12.6", "12.8"),
    "2.8": ("12.6", "12.8", "12.9"),
    "2.9": ("12.6", "12.8", "13.0"),
}
"""torch release → the CUDA variants download.pytorch.org serves for it (pytorch's release
matrices; M)."""
TORCH_INDEX_URL = "https://download.pytorch.org/whl/{tag}"

_LOCAL_CUDA = re.compile(r"\+(?:.*?)cu(\d{2,3})(?![\d])")
_LOCAL_ROCM = re.compile(r"\+rocm(\d+\.\d+(?:\.\d+)?)")


def _dotted(digits: str) -> str:
    """``128`` → ``12.8``, ``118`` → ``11.8``, ``92`` → ``9.2``."""
    return f"{digits[:-1]}.{digits[-1]}"


def local_tag_variant(version: str) -> tuple[Optional[str], Optional[str]]:
    """(variant, CUDA X.Y) from a local version tag: ``2.5.1+cu124`` → (cuda, 12.4),
    ``2.5.1+cpu`` → (cpu, None), ``2.1.2+pt21cu121`` → (cuda, 12.1), ``+rocm6.1`` → rocm."""
    if "+" not in version:
        return None, None
    local = version.split("+", 1)[1]
    if re.fullmatch(r"cpu(\.\w+)?|cpu_\w+", local):
        return "cpu", None
    rocm = _LOCAL_ROCM.search(version)
    if rocm:
        return "rocm", None
    cuda = _LOCAL_CUDA.search(version)
    if cuda:
        return "cuda", _dotted(cuda.group(1))
    if re.search(r"pt\d+cpu", local):
        return "cpu", None
    return None, None


def conda_build_variant(build: str) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(variant, CUDA, cuDNN) from a conda build string.

    ``py3.11_cuda12.1_cudnn8.9.2_0`` → (cuda, 12.1, 8.9.2); ``cuda126_generic_py312h…`` →
    (cuda, 12.6, None); ``cpu_generic_py312h…`` / ``py3.8_cpu_0`` → (cpu, None, None).
    """
    cudnn = re.search(r"cudnn(\d+(?:\.\d+)*)", build)
    dotted = re.search(r"cuda(\d+\.\d+)", build)
    if dotted:
        return "cuda", dotted.group(1), cudnn.group(1) if cudnn else None
    packed = re.search(r"cuda(\d{2,3})(?!\d)", build)
    if packed:
        return "cuda", _dotted(packed.group(1)), cudnn.group(1) if cudnn else None
    if re.search(r"(^|_)cpu(_|$)", build):
        return "cpu", None, None
    if re.search(r"(^|_)rocm", build):
        return "rocm", None, None
    return None, None, None


def cupy_variant_cuda(distribution: str) -> Optional[str]:
    """``cupy-cuda12x`` → ``12``; ``cupy-cuda102`` → ``10.2``; None for ``cupy``/ROCm."""
    match = re.fullmatch(r"cupy-cuda(\d+)(x?)", distribution)
    if match is None:
        return None
    digits, wildcard = match.groups()
    return digits if wildcard else _dotted(digits)


def companion_series(companion: str, version: str) -> Optional[str]:
    """The torch ``X.Y`` a torchvision / torchaudio release is made for."""
    parts = re.match(r"(\d+)\.(\d+)", version)
    if parts is None:
        return None
    major, minor = int(parts.group(1)), int(parts.group(2))
    if companion == "torchvision" and major == 0:
        if minor >= 15:
            return f"2.{minor - 15}"
        if minor >= 2:
            return f"1.{minor - 1}"
    if companion == "torchaudio":
        if major >= 2:
            return f"{major}.{minor}"
        if major == 0 and minor >= 6:
            return f"1.{minor}"
    return None


def tensorflow_libraries(cuda: Optional[str], cudnn: Optional[str], version: str) -> list[str]:
    """The CUDA runtime and cuDNN SONAMEs a TensorFlow GPU build opens at start-up: from its
    build info, else from the tested configuration of its release."""
    tested = TF_TESTED.get(".".join(version.split(".")[:2]))
    cuda = cuda or (tested[0] if tested else None)
    cudnn = cudnn or (tested[1] if tested else None)
    names = []
    if cuda:
        major = cuda.split(".")[0]
        names.append("libcudart.so.11.0" if major == "11" else f"libcudart.so.{major}")
    if cudnn:
        names.append(f"libcudnn.so.{cudnn.split('.')[0]}")
    return names


def _serves(archs: tuple[str, ...], capability: str) -> bool:
    gpu = tuple(int(x) for x in capability.split("."))
    for entry in archs:
        built = tuple(int(x) for x in entry.removesuffix("+PTX").split("."))
        if (built[0] == gpu[0] and built[1] <= gpu[1]) or (entry.endswith("+PTX") and built < gpu):
            return True
    return False


def torch_index_for(
    verdict: Callable[[str], Optional[str]],
    capabilities: Sequence[str],
    allowed: Optional[frozenset[str]] = None,
) -> Optional[tuple[str, str]]:
    """(CUDA X.Y, index URL) of the torch CUDA variant to install for this driver and these GPUs.

    ``verdict(cuda)`` says how the driver runs that CUDA: ``full``, ``minor-version`` or not at
    all; ``allowed`` limits the variants (a pinned torch release has only some; default: the
    current ones).  Among those that run and have code for every one of ``capabilities``: the
    newest CUDA major; within it a variant of the driver's own CUDA or older (the newest such),
    else the one closest above it (minor-version compatibility, which PyTorch's CUDA 12 and 13
    builds rely on, but the fewer newer APIs the better).
    """
    allowed = CURRENT_TORCH_CUDA if allowed is None else allowed
    ranked = []
    for cuda, archs in TORCH_INDEXES:
        if cuda not in allowed:
            continue
        how = verdict(cuda)
        if how not in ("full", "minor-version"):
            continue
        if not all(_serves(archs, cc) for cc in capabilities):
            continue
        major, minor = (int(x) for x in cuda.split("."))
        full = how == "full"
        ranked.append(((major, full, minor if full else -minor), cuda))
    if not ranked:
        return None
    cuda = max(ranked)[1]
    return cuda, TORCH_INDEX_URL.format(tag="cu" + cuda.replace(".", ""))


def torch_release_cuda(version: str) -> Optional[frozenset[str]]:
    """The CUDA variants of a torch release (``2.5.1`` → 11.8, 12.1, 12.4), if known."""
    series = ".".join(version.split("+", 1)[0].split(".")[:2])
    known = TORCH_RELEASE_CUDA.get(series)
    return frozenset(known) if known else None
