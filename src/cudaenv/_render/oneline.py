"""A report in one line: for a test session's header, a log, a prompt."""

from __future__ import annotations

from .._describe import env_label
from .._surveyed import summarize
from ..findings import Report
from ._words import counts_phrase, frameworks_phrase, machine_phrase

__all__ = ["render_one_line"]


def render_one_line(report: Report) -> str:
    """``<env> · Python 3.11 · torch 2.5.1 (CUDA 12.4) · <driver> · GPUs: … · ✗ 1 error: …``"""
    snap = report.snapshot
    summary = summarize(report)
    parts = [
        env_label(snap.target_env, snap.target.prefix) if snap.target.prefix else "no Python env",
        f"Python {summary.python}" if summary.python else "no Python",
        frameworks_phrase(summary.frameworks) or "no GPU framework",
        machine_phrase(snap.driver, snap.gpus),
    ]
    worst = report.worst_severity()
    primary = report.primary
    if worst is None:
        verdict = "✓ no problems found"
    elif worst == "info" or primary is None:
        verdict = f"✓ no problems found ({counts_phrase(report)})"
    else:
        verdict = f"✗ {counts_phrase(report)}: {primary.title} [{primary.code}]"
    return " · ".join([*parts, verdict])
