"""The environment variables cudaenv reads, in one place.

A snapshot records only these (never the whole environment): they are what the checks use,
and recording nothing else keeps unrelated secrets out of reports.
"""

from __future__ import annotations

__all__ = ["RECORDED_PREFIXES", "RECORDED_VARIABLES", "is_recorded"]

RECORDED_VARIABLES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "PWD",
        "SHELL",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONNOUSERSITE",
        "PYTHONUSERBASE",
        "PYTHONSAFEPATH",
        "PYTHONEXECUTABLE",
        "PYTHONPLATLIBDIR",
        "VIRTUAL_ENV",
        "VIRTUAL_ENV_PROMPT",
        "PIP_TARGET",
        "PIP_PREFIX",
        "PIP_USER",
        "PIP_ROOT",
        "PIP_CONFIG_FILE",
        "PIP_REQUIRE_VIRTUALENV",
        "PIP_ISOLATED",
        "PYENV_ROOT",
        "PYENV_VERSION",
        "PYENV_DIR",
        "JUPYTER_PATH",
        "JUPYTER_DATA_DIR",
        "JUPYTER_CONFIG_DIR",
        "XDG_CONFIG_HOME",
        "XDG_CONFIG_DIRS",
        "XDG_DATA_HOME",
        "XDG_DATA_DIRS",
        "CONDARC",
        "MAMBA_ROOT_PREFIX",
        "LD_LIBRARY_PATH",
        "LD_PRELOAD",
        "CUDA_HOME",
        "CUDA_PATH",
        "CUDA_ROOT",
        "CUDA_VISIBLE_DEVICES",
        "CUDA_VERSION",
        "WSL_DISTRO_NAME",
        "WSL_INTEROP",
        "KUBERNETES_SERVICE_HOST",
        "TRITON_PTXAS_PATH",
        "XLA_FLAGS",
        "NVCC_PREPEND_FLAGS",
        "NVCC_APPEND_FLAGS",
        "NVCC_CCBIN",
        "CUDAHOSTCXX",
        "CC",
        "CXX",
        "BNB_CUDA_VERSION",
        "TORCH_CUDA_ARCH_LIST",
    }
)

RECORDED_PREFIXES = ("CONDA_", "PIXI_", "NVIDIA_")


def is_recorded(name: str) -> bool:
    return name in RECORDED_VARIABLES or name.startswith(RECORDED_PREFIXES)
