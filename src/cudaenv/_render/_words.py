"""Phrases shared by the human-readable renderers."""

from __future__ import annotations

from collections.abc import Iterable

from .._describe import env_label
from .._surveyed import FrameworkBrief
from ..findings import Report
from ..snapshot import Driver, Gpu

__all__ = [
    "CHOSEN_BY",
    "SEVERITY_MARK",
    "counts_phrase",
    "frameworks_phrase",
    "machine_phrase",
    "target_phrase",
]

SEVERITY_MARK = {"error": "✗", "warning": "!", "info": "i"}

CHOSEN_BY = {
    "VIRTUAL_ENV": "active (VIRTUAL_ENV)",
    "CONDA_PREFIX": "active (CONDA_PREFIX)",
    "PATH": "the `python` on PATH",
    "--python": "chosen with --python",
    "--prefix": "chosen with --prefix",
    "none": "no environment found",
}


def target_phrase(report: Report) -> str:
    snap = report.snapshot
    target = report.target_summary()
    if target["prefix"] is None:
        return "no Python environment (none active, no python on PATH)"
    label = env_label(snap.target_env, target["prefix"])
    version = f"Python {target['python_version']}" if target["python_version"] else "no Python"
    return f"{label} · {version} · {CHOSEN_BY.get(snap.target.chosen_by, snap.target.chosen_by)}"


def counts_phrase(report: Report) -> str:
    counts = report.counts
    parts = []
    for severity, word in (("error", "error"), ("warning", "warning"), ("info", "note")):
        n = counts[severity]
        if n:
            parts.append(f"{n} {word}{'s' if n != 1 else ''}")
    return ", ".join(parts)


def frameworks_phrase(frameworks: Iterable[FrameworkBrief]) -> str:
    """``torch 2.5.1 (CUDA 12.4), cupy 13.3.0 (CUDA 12.x)``; empty without a framework."""
    shown = []
    for f in frameworks:
        if f.name in ("jax", "numba"):
            continue  # their plugins and CUDA bindings carry the CUDA facts
        build = f"CUDA {f.cuda}" if f.cuda else (f.variant or "?")
        shown.append(f"{f.name} {f.version} ({build})")
    return ", ".join(shown)


def machine_phrase(driver: Driver, gpus: Iterable[Gpu]) -> str:
    """``NVIDIA driver 550.54.14 (CUDA 12.4) · GPUs: NVIDIA H100 (9.0)``."""
    if driver.loaded and driver.version:
        loaded = f"NVIDIA driver {driver.version} (CUDA {driver.cuda or '?'})"
    elif driver.loaded:
        loaded = "NVIDIA driver (WSL)" if driver.wsl else "NVIDIA driver loaded"
    else:
        loaded = "no NVIDIA driver loaded"
    listed = ", ".join(f"{g.model or g.pci} ({g.capability or '?'})" for g in gpus)
    return f"{loaded} · GPUs: {listed or 'none listed'}"
