"""Phrases shared by the human-readable renderers."""

from __future__ import annotations

from .._describe import env_label
from ..findings import Report

__all__ = ["CHOSEN_BY", "counts_phrase", "target_phrase"]

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
