"""Helpers the driver, GPU and framework checks share: which frameworks want a GPU, what the
driver runs, and the install command that fits this driver and these GPUs."""

from __future__ import annotations

from typing import Optional

from .._knowledge.builds import torch_index_for
from .._knowledge.drivers import Compatibility, driver_runs, parse_version
from ..actions import Action, pip_install
from ..snapshot import Framework, Snapshot

__all__ = [
    "CPU_FALLBACK",
    "NOT_GPU_FRAMEWORKS",
    "cuda_major",
    "framework_label",
    "gpu_capabilities",
    "gpu_expected",
    "gpu_frameworks",
    "runs_on_driver",
    "torch_index",
    "torch_install",
    "torch_install_action",
    "wants_gpu",
]

NOT_GPU_FRAMEWORKS = frozenset({"triton", "numba", "numba-cuda", "jax", "jaxlib"})
"""Installed beside GPU frameworks but needing no driver themselves (Triton bundles a CUDA
for compiling; JAX's GPU support is its plugin; jaxlib is checked through the plugin)."""


def gpu_frameworks(s: Snapshot) -> list[Framework]:
    """Frameworks built for CUDA, which cannot run without a driver."""
    return [
        f
        for f in s.frameworks
        if f.variant == "cuda" and f.cuda and f.name not in NOT_GPU_FRAMEWORKS
    ]


CPU_FALLBACK = ("tensorflow", "tf-nightly")
"""Frameworks whose one wheel runs on the CPU when CUDA is not there (TensorFlow's PyPI
wheel is a CUDA build): without the CUDA wheels beside them, no sign of a GPU wanted."""


def wants_gpu(s: Snapshot, f: Framework) -> bool:
    """Whether ``f`` is installed to use a GPU: a CUDA build, and for a framework that falls
    back to the CPU, CUDA set up for it: its CUDA wheels (``tensorflow[and-cuda]``) beside it,
    or CUDA libraries it opens found in the loader's path."""
    if not f.name.startswith(CPU_FALLBACK):
        return True
    if any(o.needed_by == "tensorflow" and o.path for o in s.libraries.opened_by_name):
        return True  # CUDA libraries set up for it (a system CUDA and cuDNN, LD_LIBRARY_PATH)
    return any(
        d.name.lower().startswith("nvidia-") for site in s.site_dirs for d in site.distributions
    )


def gpu_expected(s: Snapshot, f: Framework) -> bool:
    """A driver is loaded, or ``f`` is set up to use a GPU (``wants_gpu``): a missing CUDA
    library is then a fault, not a CPU machine running a framework on its CPU."""
    return s.driver.loaded or wants_gpu(s, f)


def cuda_major(cuda: Optional[str]) -> Optional[int]:
    version = parse_version(cuda or "")
    return version[0] if version else None


def framework_label(f: Framework) -> str:
    """``torch 2.5.1 (CUDA 12.4, from torch/version.py)``."""
    built = f"CUDA {f.cuda}" if f.cuda else (f.variant or "unknown build")
    return f"{f.name} {f.version} ({built}, from {f.cuda_from if f.cuda else f.variant_from})"


def gpu_capabilities(s: Snapshot) -> list[str]:
    return sorted({g.capability for g in s.gpus if g.capability}, key=parse_version)


def runs_on_driver(s: Snapshot, cuda: str) -> Optional[str]:
    """How the loaded driver runs CUDA ``cuda`` code (a Compatibility), None if unknown."""
    if not s.driver.version:
        return None
    verdict = driver_runs(s.driver.version, cuda)
    return None if verdict == Compatibility.UNKNOWN else verdict


def torch_index(s: Snapshot, torch: Optional[Framework]) -> Optional[tuple[tuple[str, ...], str]]:
    """(packages, index URL) of the newest torch CUDA build this driver runs and these GPUs can
    use, with torch's installed companions; None when the driver or the choice is unknown."""
    if not s.driver.version:
        return None
    chosen = torch_index_for(lambda cuda: runs_on_driver(s, cuda), gpu_capabilities(s))
    if chosen is None:
        return None
    packages = ["torch"]
    if torch is not None:
        names = {f.name for f in s.frameworks}
        packages += [c for c in ("torchvision", "torchaudio") if c in names]
    return tuple(packages), chosen[1]


def torch_install(s: Snapshot, torch: Optional[Framework]) -> Optional[str]:
    """The pip command for :func:`torch_index`."""
    found = torch_index(s, torch)
    if found is None:
        return None
    packages, url = found
    return f"python -m pip install --force-reinstall {' '.join(packages)} --index-url {url}"


def torch_install_action(s: Snapshot, torch: Optional[Framework], why: str) -> list[Action]:
    found = torch_index(s, torch)
    if found is None:
        return []
    packages, url = found
    return [pip_install(packages, why, "--force-reinstall", "--index-url", url)]
