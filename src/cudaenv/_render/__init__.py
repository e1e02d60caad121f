"""Renderers: a :class:`~cudaenv.findings.Report` as text, JSON or Markdown.

Presentation only — renderers read the report and never the machine.  Each format lives in its
own module and is imported only when chosen.
"""

from __future__ import annotations

from ..findings import Report

__all__ = ["FORMATS", "render"]

FORMATS = ("text", "json", "markdown", "github")


def render(report: Report, fmt: str, *, color: bool = False, width: int = 100) -> str:
    if fmt == "json":
        from .json import render_json

        return render_json(report)
    if fmt == "markdown":
        from .markdown import render_markdown

        return render_markdown(report)
    if fmt == "github":
        from .github import render_github

        return render_github(report)
    if fmt == "text":
        from .text import render_text

        return render_text(report, color=color, width=width)
    raise ValueError(f"unknown format {fmt!r}")
