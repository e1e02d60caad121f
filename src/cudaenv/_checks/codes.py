"""Every finding code cudaenv can raise, with its usual severity and its rank.

Rank orders findings of equal severity: a root cause comes before the findings it explains
(a missing Python before the pip that falls through, PYTHONHOME before anything that
imports).  ``docs/findings.md`` documents each code; a test keeps the two in step.
"""

from __future__ import annotations

from .._records import record

__all__ = ["CODES", "CodeInfo"]


@record
class CodeInfo:
    code: str
    severity: str
    """The usual severity; a check may raise or lower it with the evidence in hand."""
    summary: str


_ORDERED = (
    CodeInfo(
        "pythonhome-set",
        "error",
        "PYTHONHOME is set, so the interpreter may load another installation's stdlib",
    ),
    CodeInfo(
        "venv-interpreter-missing",
        "error",
        "the venv's bin/python names a Python that is gone (its base was removed or upgraded)",
    ),
    CodeInfo(
        "env-without-python",
        "error",
        "the active conda env has no Python, so python/pip fall through to another",
    ),
    CodeInfo(
        "python-outside-active-env",
        "error",
        "an env with Python is active, but `python` resolves outside it",
    ),
    CodeInfo(
        "pip-other-interpreter",
        "error",
        "`pip` installs for another interpreter than `python` or the active env's",
    ),
    CodeInfo(
        "pythonpath-version-mismatch",
        "error",
        "PYTHONPATH holds a lib/pythonX.Y dir of another Python version",
    ),
    CodeInfo(
        "pythonpath-other-env",
        "warning",
        "PYTHONPATH holds site-packages or package dirs of another environment",
    ),
    CodeInfo(
        "cwd-shadows-package",
        "error",
        "the working directory holds a module named like an installed framework",
    ),
    CodeInfo(
        "wsl-driver-inside",
        "error",
        "a Linux NVIDIA driver is installed inside WSL, shadowing Windows' driver",
    ),
    CodeInfo(
        "driver-library-mismatch",
        "error",
        "the user-space driver library's version differs from the kernel module's",
    ),
    CodeInfo(
        "forward-compat-misuse",
        "error",
        "CUDA forward-compatibility libraries are used on a GPU or driver they cannot serve",
    ),
    CodeInfo(
        "driver-too-old",
        "error",
        "the driver's CUDA version is below what a framework, toolkit or image needs",
    ),
    CodeInfo(
        "driver-library-unreachable",
        "error",
        "the driver is loaded but the loader cannot resolve libcuda.so.1 (or libcuda.so)",
    ),
    CodeInfo(
        "gpu-arch-unsupported",
        "error",
        "a framework's binaries have no SASS or PTX for a GPU's compute capability",
    ),
    CodeInfo(
        "torch-cpu-build",
        "error",
        "torch is a CPU-only build on a machine with a driver, a GPU or CUDA packages",
    ),
    CodeInfo(
        "torch-companion-mismatch",
        "error",
        "torchvision/torchaudio do not pair with the installed torch",
    ),
    CodeInfo(
        "cupy-multiple-packages",
        "error",
        "more than one CuPy distribution is installed in one environment",
    ),
    CodeInfo(
        "cupy-cuda-mismatch",
        "error",
        "the CuPy variant's CUDA major has no runtime in reach or is newer than the driver",
    ),
    CodeInfo(
        "extension-cuda-mismatch",
        "error",
        "a compiled extension needs another CUDA runtime major than torch's, or a missing one",
    ),
    CodeInfo(
        "jax-plugin-mismatch",
        "error",
        "a JAX CUDA plugin/PJRT package is missing or differs from jaxlib's version",
    ),
    CodeInfo(
        "tensorflow-cuda-mismatch",
        "error",
        "a TensorFlow GPU build's CUDA or cuDNN major cannot be resolved",
    ),
    CodeInfo(
        "cuda-home-invalid",
        "error",
        "CUDA_HOME or CUDA_PATH names a missing directory or one without bin/nvcc",
    ),
    CodeInfo(
        "toolkit-runtime-only",
        "error",
        "the environment's CUDA is runtime libraries only, and a build needs nvcc",
    ),
    CodeInfo(
        "toolkit-incomplete",
        "error",
        "the toolkit builds use has nvcc without headers, or headers without nvcc",
    ),
    CodeInfo(
        "cuda-home-targets-layout",
        "warning",
        "CUDA_HOME is a conda CUDA 12+ prefix without include/ or lib64/",
    ),
    CodeInfo(
        "toolkit-framework-mismatch",
        "error",
        "the toolkit builds use has another CUDA major than torch was built with",
    ),
    CodeInfo(
        "host-compiler-unsupported",
        "error",
        "the host compiler nvcc would use is outside the range the toolkit accepts",
    ),
    CodeInfo(
        "nvcc-too-old-for-gpu",
        "error",
        "the nvcc builds would use cannot target a GPU on the machine",
    ),
    CodeInfo(
        "toolkit-older-than-framework",
        "error",
        "XLA or Triton would use an older ptxas than their CUDA, or XLA finds no libdevice",
    ),
    CodeInfo(
        "nvcc-cuda-home-mismatch",
        "warning",
        "nvcc on PATH belongs to another toolkit than CUDA_HOME/CUDA_PATH",
    ),
    CodeInfo(
        "cuda-home-unset",
        "warning",
        "a complete toolkit exists, but CUDA_HOME/CUDA_PATH is unset",
    ),
    CodeInfo(
        "driver-stub-shadowing",
        "error",
        "a stub libcuda comes before the real driver library in the search",
    ),
    CodeInfo(
        "mixed-cuda-wheel-families",
        "warning",
        "nvidia-* wheels of different CUDA majors in one environment",
    ),
    CodeInfo(
        "cuda-wheel-requirements-unmet",
        "error",
        "a package's nvidia-* requirements are missing or at other versions",
    ),
    CodeInfo(
        "symbol-version-missing",
        "error",
        "a library the loader picks lacks a versioned symbol its user imports",
    ),
    CodeInfo(
        "cudnn-version-mismatch",
        "error",
        "frameworks here need different cuDNN majors",
    ),
    CodeInfo(
        "library-missing",
        "error",
        "a CUDA library an installed framework needs cannot be resolved",
    ),
    CodeInfo(
        "library-shadowed",
        "warning",
        "the loader picks another copy of a CUDA library, at another version",
    ),
    CodeInfo(
        "ld-cache-stale",
        "warning",
        "CUDA libraries in an ld.so.conf directory are missing from the ld.so cache",
    ),
    CodeInfo(
        "venv-over-conda",
        "warning",
        "a venv on top of a conda env without system site-packages",
    ),
    CodeInfo(
        "conda-env-not-activated",
        "warning",
        "the interpreter in use belongs to a conda env that is not activated",
    ),
    CodeInfo(
        "user-site-shadowing",
        "warning",
        "the user site holds a distribution the env has, or a CUDA package it lacks",
    ),
    CodeInfo(
        "pip-install-redirected",
        "error",
        "pip settings send installs outside the environment",
    ),
    CodeInfo(
        "conda-pip-duplicate",
        "warning",
        "one environment holds the same package from conda and from pip",
    ),
    CodeInfo(
        "kernel-other-interpreter",
        "warning",
        "a Jupyter kernel named for the environment runs another interpreter",
    ),
    CodeInfo(
        "stale-path-entry",
        "info",
        "PATH, LD_LIBRARY_PATH, CUDA_HOME or ld.so.conf name missing directories",
    ),
    CodeInfo(
        "driver-missing",
        "error",
        "no NVIDIA kernel driver is loaded (not WSL with its driver), so CUDA cannot run",
    ),
    CodeInfo(
        "live-disagrees",
        "warning",
        "with --live, a framework's or the driver's own answer contradicts the static verdict",
    ),
    CodeInfo(
        "python-not-found",
        "info",
        "no active environment and no python on PATH to diagnose",
    ),
    CodeInfo(
        "unreadable-file",
        "warning",
        "a file cudaenv needed exists but could not be read or parsed",
    ),
    CodeInfo(
        "check-failed",
        "warning",
        "a check stopped on unexpected data; the rest of the report stands",
    ),
)

CODES: dict[str, CodeInfo] = {info.code: info for info in _ORDERED}
RANKS: dict[str, int] = {info.code: rank for rank, info in enumerate(_ORDERED)}
