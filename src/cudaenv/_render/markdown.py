"""The report as Markdown, to paste into an issue: summary, findings with fixes, key facts."""

from __future__ import annotations

from ..findings import Report
from ._words import counts_phrase, target_phrase

__all__ = ["render_markdown"]

_ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}  # noqa: RUF001  # emoji are intended


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def render_markdown(report: Report) -> str:
    snap = report.snapshot
    summary = counts_phrase(report) or "no problems found"
    lines = [f"## cudaenv doctor: {summary}", "", f"**Target:** {target_phrase(report)}", ""]
    for f in report.findings:
        lines += [
            f"### {_ICON[f.severity]} {f.title} ({_code(f.code)}, {f.severity})",
            "",
            f.detail,
            "",
        ]
        if f.evidence:
            lines += ["**Evidence**", ""] + [f"- {_code(e)}" for e in f.evidence] + [""]
        if f.fix:
            lines += ["**Fix**", ""]
            lines += [f"{n}. {_code(step)}" for n, step in enumerate(f.fix, 1)] + [""]
    lines += [
        "<details><summary>Commands and environments</summary>",
        "",
        "| command | runs | interpreter |",
        "|---|---|---|",
    ]
    for name, cmd in snap.commands.items():
        runs = cmd.resolved or cmd.path or "not found"
        interp = cmd.interpreter.path if cmd.interpreter else ""
        lines.append(f"| {_code(name)} | {_code(runs)} | {_code(interp) if interp else ''} |")
    lines += ["", "| site directory | role | distributions |", "|---|---|---|"]
    for site in snap.site_dirs:
        lines.append(f"| {_code(site.path)} | {site.role} | {len(site.distributions)} |")
    lines += ["", f"cudaenv {snap.tool_version}", "", "</details>", ""]
    return "\n".join(lines)
