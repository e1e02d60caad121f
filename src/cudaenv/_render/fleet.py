"""The fleet view as text and Markdown (JSON is ``fleet_to_dict``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .._fleet import Fleet, ranked_findings
from .._surveyed import FrameworkBrief
from ._words import SEVERITY_MARK, frameworks_phrase

__all__ = ["fleet_summary", "render_fleet_markdown", "render_fleet_text", "stack_parts"]


def _names(nodes: tuple[str, ...], limit: int = 8) -> str:
    shown = ", ".join(nodes[:limit])
    return shown + (f", … ({len(nodes) - limit} more)" if len(nodes) > limit else "")


def stack_parts(stack: dict[str, Any]) -> tuple[str, str, str]:
    """The driver, the GPUs and the frameworks of a stack, in words."""
    driver = stack["driver"]
    driver_words = (
        f"driver {driver['version']} (CUDA {driver['cuda'] or '?'})"
        if driver["loaded"]
        else "no driver loaded"
    )
    gpus = Counter(stack["gpus"])
    gpu_words = "GPUs: " + (
        ", ".join(f"{n}x {m}" for m, n in sorted(gpus.items())) or "none listed"
    )
    briefs = [
        FrameworkBrief(f["name"], f["version"], f["cuda"], f["variant"])
        for f in stack["frameworks"]
    ]
    return driver_words, gpu_words, frameworks_phrase(briefs) or "no GPU framework"


def stack_phrase(stack: dict[str, Any]) -> str:
    return " · ".join(stack_parts(stack))


def fleet_summary(fleet: Fleet) -> str:
    alike = len(fleet.groups[0].nodes) if fleet.groups else 0
    return (
        f"{fleet.nodes} node{'s' if fleet.nodes != 1 else ''}: {alike} alike, "
        f"{len(fleet.outliers)} outlier{'s' if len(fleet.outliers) != 1 else ''}, "
        f"{len(fleet.failed)} failed"
    )


def render_fleet_text(fleet: Fleet) -> str:
    lines = [f"cudaenv fleet — {fleet_summary(fleet)}", ""]
    if fleet.groups:
        majority = fleet.groups[0]
        lines += [
            f"Majority ({len(majority.nodes)}): {_names(majority.nodes)}",
            f"  {stack_phrase(majority.stack)}",
        ]
    for index, group in enumerate(fleet.groups[1:], start=1):
        lines += [
            "",
            f"Group {index + 1} ({len(group.nodes)}): {_names(group.nodes)}",
            f"  {stack_phrase(group.stack)}",
        ]
    if fleet.outliers:
        lines += ["", "Outliers (what differs from the majority, then their findings)"]
        for outlier in fleet.outliers:
            lines.append(f"  {outlier.node}  (group {outlier.group + 1})")
            lines += [f"    {d}" for d in outlier.differs] or ["    (nothing recorded differs)"]
            for f in outlier.findings:
                if f["severity"] != "info":
                    lines.append(f"    {SEVERITY_MARK[f['severity']]} {f['code']}: {f['title']}")
    if fleet.findings:
        total = fleet.nodes - len(fleet.failed)
        of = f" (of the {total} diagnosed)" if fleet.failed else ""
        lines += ["", f"Findings across nodes{of}"]
        for code, v in ranked_findings(fleet):
            count = len(v["nodes"])
            where = "" if count == total else f"  ({_names(tuple(v['nodes']), 4)})"
            lines.append(
                f"  {count:>4}/{total}  {SEVERITY_MARK[v['severity']]} {code}: {v['title']}{where}"
            )
    if fleet.failed:
        lines += ["", "Failed (no snapshot)"]
        lines += [f"  {node}: {error}" for node, error in fleet.failed]
    return "\n".join(lines) + "\n"


def render_fleet_markdown(fleet: Fleet) -> str:
    lines = [f"## cudaenv fleet: {fleet_summary(fleet)}", ""]
    lines += ["| group | nodes | stack |", "|---|---|---|"]
    for index, group in enumerate(fleet.groups, start=1):
        lines.append(
            f"| {index} | {len(group.nodes)}: {_names(group.nodes)} | {stack_phrase(group.stack)} |"
        )
    for outlier in fleet.outliers:
        lines += ["", f"### Outlier `{outlier.node}` (group {outlier.group + 1})", "", "```"]
        lines += list(outlier.differs) or ["(nothing recorded differs)"]
        lines += ["```"]
        lines += [
            f"- {SEVERITY_MARK[f['severity']]} `{f['code']}`: {f['title']}"
            for f in outlier.findings
            if f["severity"] != "info"
        ]
    if fleet.findings:
        lines += ["", "| nodes | severity | finding |", "|---|---|---|"]
        for code, v in ranked_findings(fleet):
            lines.append(f"| {len(v['nodes'])} | {v['severity']} | `{code}`: {v['title']} |")
    if fleet.failed:
        lines += ["", "**Failed:** " + ", ".join(f"`{n}` ({e})" for n, e in fleet.failed)]
    return "\n".join(lines) + "\n"
