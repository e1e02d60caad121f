"""CUDA libraries: their names, and which package ships each one where.

Sources: the knowledge base's "Package layouts" (4.a conda ``cudatoolkit``, 4.b conda CUDA
12+ packages, 4.c pip NVIDIA wheels, 4.h system layouts), which cite NVIDIA's
cuda-pathfinder descriptor tables, the conda-forge feedstocks and the toolkit installers.
"""

from __future__ import annotations

import functools
import re
from typing import Optional

__all__ = [
    "CONDA_PACKAGE_FOR_LIBRARY",
    "DRIVER_LIBRARIES",
    "WHEEL_DIR_DISTRIBUTION",
    "WHEEL_FOR_LIBRARY",
    "cuda_library_stem",
    "is_cuda_library",
    "library_major",
    "nvidia_wheel",
]

# Stems of the libraries NVIDIA's CUDA stack ships (the part before ".so").
_STEMS = (
    "libcudart",
    "libcublas",
    "libcublasLt",
    "libnvblas",
    "libcufft",
    "libcufftw",
    "libcurand",
    "libcusolver",
    "libcusolverMg",
    "libcusparse",
    "libcusparseLt",
    "libnvrtc",
    "libnvrtc-builtins",
    "libnvJitLink",
    "libcupti",
    "libnvToolsExt",
    "libnvtx3interop",
    "libcudnn",
    "libnccl",
    "libnvjpeg",
    "libcufile",
    "libnvshmem_host",
    "libnvvm",
    "libnpp",
    "libcuda",
    "libnvidia-ml",
    "libnvidia-ptxjitcompiler",
    "libnvidia-nvvm",
)
_STEM_RE = re.compile(
    r"^(" + "|".join(re.escape(s) for s in sorted(_STEMS, key=len, reverse=True)) + r")"
    r"(?:_[A-Za-z0-9_]+)?(?:64_\d+)?(?:-[0-9a-f]{8})?\.so(?:\.|$)"
)
"""The ``-<8 hex>`` infix is auditwheel's: the CUDA libraries a wheel bundles under names
of their own (torch's ``libcudart-e409450e.so.11.0``), still CUDA libraries."""

DRIVER_LIBRARIES = frozenset(
    {"libcuda", "libnvidia-ml", "libnvidia-ptxjitcompiler", "libnvidia-nvvm"}
)
"""Shipped by the NVIDIA driver, never by a toolkit, conda or pip package (stubs aside)."""


@functools.lru_cache(maxsize=8192)  # the same file names recur in every environment
def cuda_library_stem(filename: str) -> Optional[str]:
    """``libcublasLt.so.12.4.5.8`` → ``libcublasLt``; ``libcudnn_ops.so.9`` → ``libcudnn``."""
    match = _STEM_RE.match(filename)
    return match.group(1) if match else None


def is_cuda_library(filename: str) -> bool:
    return cuda_library_stem(filename) is not None


def library_major(soname: str) -> Optional[int]:
    """The number after ``.so.``: ``libcudart.so.12`` → 12, ``libcudart.so.11.0`` → 11."""
    match = re.search(r"\.so\.(\d+)", soname)
    return int(match.group(1)) if match else None


WHEEL_DIR_DISTRIBUTION = {
    "cuda_runtime": "nvidia-cuda-runtime",
    "cublas": "nvidia-cublas",
    "cuda_nvrtc": "nvidia-cuda-nvrtc",
    "cufft": "nvidia-cufft",
    "curand": "nvidia-curand",
    "cusolver": "nvidia-cusolver",
    "cusparse": "nvidia-cusparse",
    "nvjitlink": "nvidia-nvjitlink",
    "cuda_cupti": "nvidia-cuda-cupti",
    "cuda_nvcc": "nvidia-cuda-nvcc",
    "nvtx": "nvidia-nvtx",
    "cufile": "nvidia-cufile",
    "cudnn": "nvidia-cudnn",
    "nccl": "nvidia-nccl",
    "cusparselt": "nvidia-cusparselt",
    "nvshmem": "nvidia-nvshmem",
}
"""``site-packages/nvidia/<dir>`` → the distribution name it belongs to (plus ``-cuXX``)."""

WHEEL_FOR_LIBRARY = {
    "libcudart": "nvidia-cuda-runtime",
    "libnvrtc": "nvidia-cuda-nvrtc",
    "libcublas": "nvidia-cublas",
    "libcublasLt": "nvidia-cublas",
    "libcufft": "nvidia-cufft",
    "libcurand": "nvidia-curand",
    "libcusparse": "nvidia-cusparse",
    "libcusolver": "nvidia-cusolver",
    "libnvJitLink": "nvidia-nvjitlink",
}
"""A CUDA toolkit library's stem → NVIDIA's wheel that ships it (see :func:`nvidia_wheel`)."""


def nvidia_wheel(base: str, cuda_major: Optional[int]) -> str:
    """NVIDIA's wheel of ``base`` for a CUDA major: ``-cuNN`` below 13, unsuffixed from 13."""
    return f"{base}-cu{cuda_major}" if cuda_major is not None and cuda_major < 13 else base


# The library stem → the conda package that ships it (CUDA 12+ split packages).
CONDA_PACKAGE_FOR_LIBRARY = {
    "libcudart": "cuda-cudart",
    "libcublas": "libcublas",
    "libcublasLt": "libcublas",
    "libnvblas": "libcublas",
    "libcufft": "libcufft",
    "libcufftw": "libcufft",
    "libcurand": "libcurand",
    "libcusolver": "libcusolver",
    "libcusolverMg": "libcusolver",
    "libcusparse": "libcusparse",
    "libnvrtc": "cuda-nvrtc",
    "libnvrtc-builtins": "cuda-nvrtc",
    "libnvJitLink": "libnvjitlink",
    "libcupti": "cuda-cupti",
    "libnvToolsExt": "cuda-nvtx",
    "libcudnn": "cudnn",
    "libnccl": "nccl",
    "libnvjpeg": "libnvjpeg",
    "libcufile": "libcufile",
    "libcusparseLt": "cusparselt",
    "libnvvm": "cuda-nvvm-impl",
}
