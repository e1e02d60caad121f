"""CUDA frameworks as Python sees them: import names, distribution names, conda names.

Sources: the projects' own packaging (PyPI names of torch, cupy-cudaXXx, jax/jaxlib,
tensorflow, nvidia-* wheels; conda-forge and pytorch-channel package names), as summarised in
the knowledge base's "Package layouts" section.
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "ENTRY_OBJECTS",
    "FRAMEWORK_IMPORT_NAMES",
    "OPENED_BY_NAME",
    "PACKAGING_TOOLS",
    "import_name_for_distribution",
    "is_cuda_relevant",
    "pip_names_for_conda_package",
]

FRAMEWORK_IMPORT_NAMES = (
    "torch",
    "torchvision",
    "torchaudio",
    "cupy",
    "jax",
    "jaxlib",
    "tensorflow",
    "nvidia",
    "numba",
    "triton",
    "tensorrt",
    "cuda",
)
"""Top-level import names whose shadowing breaks GPU work."""

# distribution-name pattern → import name.  Anchored full matches on canonical names.
_DIST_TO_IMPORT = (
    (re.compile(r"torch"), "torch"),
    (re.compile(r"torchvision"), "torchvision"),
    (re.compile(r"torchaudio"), "torchaudio"),
    (re.compile(r"cupy(-cuda\d+x?|-rocm-.*)?"), "cupy"),
    (re.compile(r"jax"), "jax"),
    (re.compile(r"jaxlib"), "jaxlib"),
    (re.compile(r"(tensorflow|tf-nightly)(-cpu|-gpu|-intel|-macos)?"), "tensorflow"),
    (re.compile(r"nvidia-.+"), "nvidia"),
    (re.compile(r"numba(-cuda)?"), "numba"),
    (re.compile(r"triton"), "triton"),
    (re.compile(r"tensorrt(-cu\d+)?"), "tensorrt"),
    (re.compile(r"cuda-python|cuda-bindings|cuda-core|cuda-pathfinder"), "cuda"),
)

PACKAGING_TOOLS = frozenset({"pip", "setuptools", "wheel"})
"""Distributions users routinely upgrade with pip inside conda envs; duplicates are benign."""

# conda package name → the pip distribution names that hold the same import package.
_CONDA_TO_PIP = {
    "pytorch": ("torch",),
    "pytorch-cpu": ("torch",),
    "pytorch-gpu": ("torch",),
    "libtorch": (),
    "tensorflow-base": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu"),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu"),
    "tensorflow-gpu": ("tensorflow", "tensorflow-gpu"),
    "cupy": ("cupy",),
    "cupy-core": ("cupy",),
    "py-opencv": ("opencv-python", "opencv-python-headless", "opencv-contrib-python"),
}
_CONDA_META_ONLY = frozenset({"pytorch-cpu", "pytorch-gpu", "tensorflow", "tensorflow-gpu"})


@functools.lru_cache(maxsize=4096)
def import_name_for_distribution(canonical_name: str) -> str | None:
    """The framework import name a distribution provides, when it is a CUDA framework."""
    for pattern, import_name in _DIST_TO_IMPORT:
        if pattern.fullmatch(canonical_name):
            return import_name
    return None


def is_cuda_relevant(canonical_name: str) -> bool:
    return import_name_for_distribution(canonical_name) is not None


def pip_names_for_conda_package(conda_name: str) -> tuple[str, ...]:
    """pip distribution names that would duplicate a conda package (empty for metapackages).

    Conda's ``cupy`` and pip's ``cupy-cuda12x`` install the same import package ``cupy``; the
    pip side of such families is matched separately by import name.
    """
    if conda_name in _CONDA_META_ONLY:
        return ()
    return _CONDA_TO_PIP.get(conda_name, (conda_name,))


ENTRY_OBJECTS = (
    (
        "torch",
        ("torch/_C.*.so", "torch/_C.so", "torch/lib/libtorch_cuda*.so", "torch/lib/libc10_cuda.so"),
    ),
    ("torchvision", ("torchvision/_C.*.so", "torchvision/_C.so")),
    ("torchaudio", ("torchaudio/lib/libtorchaudio*.so", "torchaudio/lib/_torchaudio*.so")),
    ("cupy", ("cupy_backends/cuda/api/runtime*.so", "cupy/_core/core*.so")),
    ("jax-cuda-plugin", ("jax_plugins/xla_cuda1*/*.so", "jax_cuda1*_plugin/*.so")),
    ("tensorflow", ("tensorflow/libtensorflow_framework.so.*", "tensorflow/libtensorflow_cc.so.*")),
    ("vllm", ("vllm/_C.abi3.so", "vllm/_C.*.so")),
    ("flash-attn", ("flash_attn_2_cuda*.so", "flash_attn_3*/*.so")),
    ("xformers", ("xformers/_C.so", "xformers/_C.*.so")),
    ("bitsandbytes", ("bitsandbytes/libbitsandbytes_cuda*.so",)),
    ("onnxruntime-gpu", ("onnxruntime/capi/libonnxruntime_providers_cuda.so",)),
    ("torch-scatter", ("torch_scatter/_scatter_cuda*.so", "torch_scatter/_scatter*.so")),
)
"""Framework → glob patterns (relative to a site directory) of the objects ``import`` loads
first; their dependency trees are the libraries the framework needs.  Order is import order:
an extension module resolves against what the framework before it already loaded."""

OPENED_BY_NAME = (
    ("cupy", "cupy-cuda11x", ("libcudart.so.11.0", "libnvrtc.so.11.2")),
    ("cupy", "cupy-cuda12x", ("libcudart.so.12", "libnvrtc.so.12")),
    ("cupy", "cupy-cuda13x", ("libcudart.so.13", "libnvrtc.so.13")),
)
"""(framework, distribution, names found through the loader's path at run time).  CuPy <= 13
wheels bundle no CUDA runtime: their modules need ``libcudart`` from the system's loader path,
and NVRTC is dlopen()ed by name when a kernel is first compiled (knowledge base 4.e, 6.2:
"CuPy failed to load libnvrtc.so.12"); CuPy 14 looks in NVIDIA's wheels first."""
