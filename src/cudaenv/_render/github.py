"""Findings as GitHub Actions workflow commands: one annotation per finding in CI logs."""

from __future__ import annotations

from ..findings import Report

__all__ = ["render_github"]

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    lines = []
    for f in report.findings:
        message = f.detail
        if f.fix:
            message += "\nFix:\n" + "\n".join(f"{n}. {step}" for n, step in enumerate(f.fix, 1))
        lines.append(
            f"::{_LEVEL[f.severity]} title={_property(f'{f.title} [{f.code}]')}::{_data(message)}"
        )
    counts = report.counts
    lines.append(
        f"cudaenv: {counts['error']} error(s), {counts['warning']} warning(s), "
        f"{counts['info']} note(s)"
    )
    return "\n".join(lines) + "\n"
