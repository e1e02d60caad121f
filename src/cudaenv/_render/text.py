"""The report for a person at a terminal: the verdict first, then each finding with its fix.

Colour is decided by the caller (TTY, ``NO_COLOR``, ``FORCE_COLOR``) and done with plain ANSI
codes: a full terminal toolkit would cost more start-up time than the whole diagnosis.
"""

from __future__ import annotations

import textwrap

from .._describe import live_summary
from ..findings import Finding, Report
from ._words import SEVERITY_MARK, counts_phrase, target_phrase

__all__ = ["render_text"]

_STYLES = {
    "bold": "1",
    "dim": "2",
    "error": "1;31",
    "warning": "1;33",
    "info": "1;36",
    "ok": "1;32",
}


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color:
            return text
        return f"\033[{_STYLES[style]}m{text}\033[0m"


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=max(width, 40),
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _finding_lines(f: Finding, paint: _Painter, width: int) -> list[str]:
    head = f"{paint(SEVERITY_MARK[f.severity] + ' ' + f.severity.upper(), f.severity)}  "
    lines = [head + paint(f.title, "bold") + "  " + paint(f"[{f.code}]", "dim")]
    lines += _wrap(f.detail, width, "   ")
    if f.evidence:
        lines.append("   " + paint("Evidence", "bold"))
        for item in f.evidence:
            wrapped = _wrap(item, width, "       ")
            wrapped[0] = "     · " + wrapped[0].lstrip()
            lines += wrapped
    if f.fix:
        lines.append("   " + paint("Fix", "bold"))
        for number, step in enumerate(f.fix, start=1):
            lines.append(f"     {number}. {step}")
    return lines


def render_text(report: Report, *, color: bool = False, width: int = 100) -> str:
    paint = _Painter(color)
    lines = [paint("cudaenv doctor", "bold") + " — " + target_phrase(report), ""]
    primary = report.primary
    worst = report.worst_severity()
    if worst is None:
        lines.append(paint("✓ No problems found.", "ok"))
    elif worst == "info":
        lines.append(paint(f"✓ No problems found ({counts_phrase(report)}).", "ok"))
    else:
        assert primary is not None  # there is a finding when worst is set
        lines.append(paint(f"✗ {counts_phrase(report)}: ", worst) + paint(primary.title, "bold"))
    for f in report.findings:
        lines.append("")
        lines += _finding_lines(f, paint, width)
    if report.snapshot.live:
        lines += ["", paint("Live (--live: the driver's and the frameworks' own answers)", "bold")]
        for check in report.snapshot.live:
            lines += _wrap(live_summary(check), width, "   ")
    if report.findings:
        lines += ["", paint("Details: cudaenv doctor --format json (every fact collected).", "dim")]
    return "\n".join(lines) + "\n"
