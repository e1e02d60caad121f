"""GPUs, their compute capabilities, and which CUDA versions and binaries can serve them.

Sources (knowledge base §2, ``../shared/knowledge/cuda-facts.md``):

* ``MODEL_CAPABILITY`` — developer.nvidia.com/cuda-gpus and cuda-legacy-gpus, matched against
  the ``Model:`` line of ``/proc/driver/nvidia/gpus/*/information`` (as the driver names the
  board: ``NVIDIA GeForce RTX 3090``, ``Tesla T4``, ``NVIDIA H100 80GB HBM3``).
* ``ARCH_CUDA`` — the first and last CUDA toolkit that can compile for each compute
  capability: clang's Cuda.cpp for the first, NVIDIA's release notes for removals (sm_30/32
  in 11.0, sm_35/37 in 12.0, sm_50 … sm_72 in 13.0, sm_101 renamed sm_110 in 13.0).
* ``PTX_ISA_CUDA`` — the PTX ISA version each toolkit writes (NVIDIA/cuda-python's table and
  the PTX ISA documentation's history).
* ``FORWARD_COMPAT`` — CUDA Compatibility guide, "Forward Compatibility": data-center GPUs,
  select NGC-ready RTX boards and Jetson only; never GeForce.
"""

from __future__ import annotations

import re
from typing import Optional

from .drivers import parse_version

__all__ = [
    "ARCH_CUDA",
    "MODEL_CAPABILITY",
    "PTX_ISA_CUDA",
    "capability_of_model",
    "code_runs_on",
    "cuda_can_target",
    "cuda_of_ptx_isa",
    "forward_compat_supported",
    "sass_can_serve",
    "targets_of_cuda",
]

# Checked in order: more specific patterns first.  Matched case-insensitively against the model
# name with a leading "NVIDIA " removed.
MODEL_CAPABILITY: tuple[tuple[str, str], ...] = (
    (r"GB10\b|DGX Spark", "12.1"),
    (r"RTX 50[5-9]0|RTX PRO \d{4}( .*)? Blackwell", "12.0"),
    (r"Jetson T[45]000|\bThor\b", "11.0"),
    (r"\bG?B300\b", "10.3"),
    (r"\bG?B200\b|\bB100\b", "10.0"),
    (r"\bGH200\b|\bH100\b|\bH200\b|\bH800\b|\bH20\b", "9.0"),
    (r"\bL40S?\b|\bL4\b|\bL20\b|RTX 40[5-9]0|RTX \d{4} Ada|RTX 6000 Ada", "8.9"),
    (r"\bOrin\b", "8.7"),
    (r"\bA100\b|\bA30\b|\bA800\b", "8.0"),
    (r"\bA10G?\b|\bA40\b|\bA16\b|\bA2\b|RTX A\d{4}|RTX 30[5-9]0", "8.6"),
    (r"\bXavier\b", "7.2"),
    (r"\bT4\b|Quadro RTX|RTX 20[6-8]0|GTX 16[5-6]0|TITAN RTX|\bT(1000|600|400)\b", "7.5"),
    (r"\bV100|TITAN V\b|GV100", "7.0"),
    (r"\bTX2\b", "6.2"),
    (r"\bP100\b|GP100", "6.0"),
    (r"\bP40\b|\bP4\b|GTX 10[5-8]0|GT 1030|TITAN Xp|TITAN X \(Pascal\)|Quadro P\d+", "6.1"),
    (r"Jetson Nano|\bTX1\b", "5.3"),
    (r"\bM60\b|\bM40\b|GTX 9[5-8]0|TITAN X\b", "5.2"),
    (r"GTX 750|Quadro K(620|1200)", "5.0"),
    (r"\bK80\b", "3.7"),
    (r"\bK40|\bK20|GTX TITAN|GTX 780", "3.5"),
)
"""GPU model pattern → compute capability."""

ARCH_CUDA: dict[str, tuple[str, Optional[str]]] = {
    "3.0": ("7.0", "10.2"),
    "3.2": ("7.0", "10.2"),
    "3.5": ("7.0", "11.8"),
    "3.7": ("7.0", "11.8"),
    "5.0": ("7.0", "12.9"),
    "5.2": ("7.0", "12.9"),
    "5.3": ("7.0", "12.9"),
    "6.0": ("8.0", "12.9"),
    "6.1": ("8.0", "12.9"),
    "6.2": ("8.0", "12.9"),
    "7.0": ("9.0", "12.9"),
    "7.2": ("9.1", "12.9"),
    "7.5": ("10.0", None),
    "8.0": ("11.0", None),
    "8.6": ("11.1", None),
    "8.7": ("11.4", None),
    "8.8": ("13.0", None),
    "8.9": ("11.8", None),
    "9.0": ("11.8", None),
    "10.0": ("12.8", None),
    "10.1": ("12.8", "12.9"),
    "10.3": ("12.9", None),
    "11.0": ("13.0", None),
    "12.0": ("12.8", None),
    "12.1": ("12.9", None),
}
"""Compute capability → (first, last) CUDA toolkit that compiles for it; last None: current."""

PTX_ISA_CUDA: tuple[tuple[str, str], ...] = (
    ("6.0", "9.0"),
    ("6.1", "9.1"),
    ("6.2", "9.2"),
    ("6.3", "10.0"),
    ("6.4", "10.1"),
    ("6.5", "10.2"),
    ("7.0", "11.0"),
    ("7.1", "11.1"),
    ("7.2", "11.2"),
    ("7.3", "11.3"),
    ("7.4", "11.4"),
    ("7.5", "11.5"),
    ("7.6", "11.6"),
    ("7.7", "11.7"),
    ("7.8", "11.8"),
    ("8.0", "12.0"),
    ("8.1", "12.1"),
    ("8.2", "12.2"),
    ("8.3", "12.3"),
    ("8.4", "12.4"),
    ("8.5", "12.5"),
    ("8.6", "12.7"),
    ("8.7", "12.8"),
    ("8.8", "12.9"),
    ("9.0", "13.0"),
    ("9.1", "13.1"),
)
"""PTX ISA version → the CUDA toolkit that introduced it (a driver JITs PTX of its own CUDA
version or older)."""

_FORWARD_COMPAT_NO = re.compile(
    r"GeForce|TITAN|\bRTX [2-5]0\d0\b|\bGTX\b|\bGT \d{3,4}\b", re.IGNORECASE
)
_FORWARD_COMPAT_YES = re.compile(
    r"Tesla|\b(A100|A30|A800|A10G?|A40|A16|A2|L4|L40S?|L20|H100|H200|H800|H20|GH200|B200|GB200"
    r"|B300|GB300|B100|T4|V100|P100|P40|P4|K80)\b|Jetson|Orin|Xavier|Thor|DGX|RTX PRO \d{4}.*"
    r"Server",
    re.IGNORECASE,
)


def _model_key(model: str) -> str:
    return re.sub(r"^\s*NVIDIA\s+", "", model.strip(), flags=re.IGNORECASE)


def capability_of_model(model: str) -> Optional[str]:
    """``NVIDIA GeForce RTX 3090`` → ``8.6``; None for a model this table does not know."""
    key = _model_key(model)
    for pattern, capability in MODEL_CAPABILITY:
        if re.search(pattern, key, re.IGNORECASE):
            return capability
    return None


def forward_compat_supported(model: str) -> Optional[bool]:
    """Whether CUDA forward compatibility (``cuda-compat``) works on this GPU: data-center and
    Jetson boards yes, GeForce and TITAN boards no; None for workstation boards (only select
    NGC-ready ones are supported) and unknown models."""
    key = _model_key(model)
    if _FORWARD_COMPAT_YES.search(key):
        return True
    if _FORWARD_COMPAT_NO.search(key):
        return False
    return None


def _cc(capability: str) -> tuple[int, int]:
    major, _, minor = capability.partition(".")
    return int(major), int(minor or 0)


def cuda_can_target(cuda: str, capability: str) -> Optional[bool]:
    """Whether toolkit ``cuda`` (X.Y) can compile for ``capability``; None if unknown."""
    span = ARCH_CUDA.get(capability)
    if span is None:
        return None
    version = parse_version(cuda)[:2]
    first, last = span
    if version < parse_version(first)[:2]:
        return False
    return not (last is not None and version > parse_version(last)[:2])


def sass_can_serve(cuda: str, capability: str) -> Optional[bool]:
    """Whether a build made with toolkit ``cuda`` can hold SASS that runs on ``capability``:
    SASS for X.Y runs on X.Z with Z ≥ Y, so some X.Y ≤ the GPU's that the toolkit compiles
    for is enough (a CUDA 11.3 build's sm_86 runs on an 8.9 RTX 4090; nothing of major 8 runs
    on 9.0).  None when the capability is unknown."""
    if capability not in ARCH_CUDA:
        return None
    major, minor = _cc(capability)
    return any(
        cuda_can_target(cuda, cc) is True
        for cc in ARCH_CUDA
        if _cc(cc)[0] == major and _cc(cc)[1] <= minor
    )


def targets_of_cuda(cuda: str) -> list[str]:
    """Every compute capability toolkit ``cuda`` compiles for, ascending."""
    return sorted((cc for cc in ARCH_CUDA if cuda_can_target(cuda, cc)), key=_cc)


def cuda_of_ptx_isa(isa: str) -> Optional[str]:
    """The toolkit that introduced PTX ISA ``isa``: ``9.0`` → ``13.0``; for a newer ISA than
    this table knows, None."""
    wanted = parse_version(isa)[:2]
    for version, cuda in PTX_ISA_CUDA:
        if parse_version(version)[:2] == wanted:
            return cuda
    return None


def code_runs_on(code: str, capability: str) -> bool:
    """Whether one fat-binary image runs on a GPU of ``capability``.

    SASS ``sm_XY`` runs on X.Z with Z ≥ Y; ``sm_XYa`` only on X.Y exactly.  PTX ``compute_XY``
    is JIT-compiled for any X'.Y' ≥ X.Y; ``compute_XYa`` only for X.Y; ``compute_XYf`` for the
    same major with a minor ≥ Y (family code).
    """
    match = re.fullmatch(r"(sm|compute)_(\d+?)(\d)([af]?)", code)
    if match is None:
        return False
    kind, major, minor, suffix = match.groups()
    built = (int(major), int(minor))
    gpu = _cc(capability)
    if suffix == "a":
        return gpu == built
    if kind == "sm" or suffix == "f":
        return gpu[0] == built[0] and gpu[1] >= built[1]
    return gpu >= built
