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


def _painted_heading(
    parts: list[tuple[str, str]], paint: _Painter, width: int, indent: str
) -> list[str]:
    """A heading made of (text, style) parts, wrapped to ``width`` as plain text first (so
    colour codes never count as columns), each part then painted where it lies."""
    plain = "".join(text for text, _ in parts)
    lines = textwrap.wrap(
        plain,
        width=max(width, 40),
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [plain]
    if not paint.color:
        return lines
    painted = []
    for line in lines:
        for text, style in parts:
            if style and text.strip() and text.strip() in line:
                line = line.replace(text.strip(), paint(text.strip(), style), 1)
        painted.append(line)
    return painted


def _finding_lines(f: Finding, paint: _Painter, width: int) -> list[str]:
    mark = f"{SEVERITY_MARK[f.severity]} {f.severity.upper()}"
    parts = [(mark, f.severity), ("  ", ""), (f.title, "bold"), ("  ", ""), (f"[{f.code}]", "dim")]
    lines = _painted_heading(parts, paint, width, "   ")
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
            # a command is never broken across lines: it must copy and paste whole
            lines.append(f"     {number}. {step}")
    return lines


def render_text(report: Report, *, color: bool = False, width: int = 100) -> str:
    paint = _Painter(color)
    lines = _painted_heading(
        [("cudaenv doctor", "bold"), (" — " + target_phrase(report), "")], paint, width, "  "
    )
    lines.append("")
    primary = report.primary
    worst = report.worst_severity()
    if worst is None:
        lines.append(paint("✓ No problems found.", "ok"))
    elif worst == "info":
        lines.append(paint(f"✓ No problems found ({counts_phrase(report)}).", "ok"))
    else:
        assert primary is not None  # there is a finding when worst is set
        lines += _painted_heading(
            [(f"✗ {counts_phrase(report)}: ", worst), (primary.title, "bold")], paint, width, "  "
        )
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
