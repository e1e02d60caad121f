"""The report as Markdown, to paste into an issue: a summary line, the findings with their
fixes, and the facts behind them in collapsible sections (GitHub, GitLab and Discourse render
``<details>``)."""

from __future__ import annotations

from ..findings import Report
from ..snapshot import Snapshot
from ._words import counts_phrase, target_phrase

__all__ = ["render_markdown"]

_ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}  # noqa: RUF001  # emoji are intended


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _machine(snap: Snapshot) -> str:
    d = snap.driver
    if d.loaded and d.version:
        driver = f"NVIDIA driver {d.version} (CUDA {d.cuda or '?'})"
    elif d.loaded:
        driver = "NVIDIA driver (WSL)" if d.wsl else "NVIDIA driver loaded"
    else:
        driver = "no NVIDIA driver loaded"
    gpus = ", ".join(f"{g.model or g.pci} ({g.capability or '?'})" for g in snap.gpus)
    frameworks = ", ".join(
        f"{f.name} {f.version} ({f'CUDA {f.cuda}' if f.cuda else f.variant or '?'})"
        for f in snap.frameworks
        if f.name not in ("jax", "numba")
    )
    parts = [driver, f"GPUs: {gpus or 'none listed'}", f"frameworks: {frameworks or 'none'}"]
    return " · ".join(parts)


def _details(summary: str, lines: list[str]) -> list[str]:
    return ["<details><summary>" + summary + "</summary>", "", *lines, "", "</details>", ""]


def _facts(snap: Snapshot) -> list[str]:
    out: list[str] = []
    d = snap.driver
    rows = [
        "| | |",
        "|---|---|",
        f"| kernel module | {_cell(d.version or 'not loaded')} ({d.flavor or '-'}) |",
        f"| CUDA it supports | {d.cuda or '-'} |",
    ]
    for label, lib in (("libcuda.so.1", d.libcuda), ("libnvidia-ml.so.1", d.libnvidia_ml)):
        where = f"{_code(lib.path)} ({lib.via}, {lib.version or '?'})" if lib and lib.path else "-"
        rows.append(f"| {label} | {_cell(where)} |")
    if d.container is not None:
        rows.append(f"| container | {d.container.kind} |")
    if d.wsl:
        rows.append("| WSL | yes |")
    for gpu in snap.gpus:
        rows.append(f"| GPU {gpu.pci} | {_cell(gpu.model or '?')} (CC {gpu.capability or '?'}) |")
    out += _details("Driver and GPUs", rows)
    if snap.frameworks:
        rows = ["| framework | version | built for | from |", "|---|---|---|---|"]
        for f in snap.frameworks:
            built = f"CUDA {f.cuda}" if f.cuda else (f.variant or "?")
            rows.append(
                f"| {f.name} | {_cell(f.version)} | {built} | "
                f"{_cell(f.cuda_from if f.cuda else f.variant_from)} |"
            )
        out += _details("Frameworks", rows)
    if snap.toolkits:
        rows = ["| toolkit | CUDA | source | nvcc | headers |", "|---|---|---|---|---|"]
        for t in snap.toolkits:
            rows.append(
                f"| {_code(t.root)} | {t.version or '?'} | {t.source} | "
                f"{'yes' if t.nvcc else 'no'} | {'yes' if t.runtime_headers else 'no'} |"
            )
        out += _details("CUDA toolkits", rows)
    libraries = [
        obj for tree in snap.libraries.trees for obj in tree.objects if obj.cuda and obj.path
    ]
    if libraries:
        rows = ["| library | file | found via | owner |", "|---|---|---|---|"]
        seen: set[str] = set()
        for obj in libraries:
            if obj.name in seen:
                continue
            seen.add(obj.name)
            owner = f"{obj.owner or ''} {obj.version or ''}".strip() or "-"
            rows.append(f"| {obj.name} | {_code(obj.path or '')} | {obj.via} | {_cell(owner)} |")
        out += _details("CUDA libraries the process would load", rows)
    rows = ["| command | runs | interpreter |", "|---|---|---|"]
    for name, cmd in snap.commands.items():
        runs = cmd.resolved or cmd.path or "not found"
        interp = cmd.interpreter.path if cmd.interpreter else ""
        rows.append(f"| {_code(name)} | {_code(runs)} | {_code(interp) if interp else ''} |")
    rows += ["", "| site directory | role | distributions |", "|---|---|---|"]
    for site in snap.site_dirs:
        rows.append(f"| {_code(site.path)} | {site.role} | {len(site.distributions)} |")
    out += _details("Commands and environments", rows)
    return out


def render_markdown(report: Report) -> str:
    snap = report.snapshot
    summary = counts_phrase(report) or "no problems found"
    primary = report.primary
    headline = f"## cudaenv doctor: {summary}"
    if primary is not None and primary.severity != "info":
        headline += f" — {primary.title}"
    lines = [
        headline,
        "",
        f"**Target:** {target_phrase(report)}",
        "",
        f"**Machine:** {_machine(snap)}",
        "",
    ]
    for f in report.findings:
        lines += [f"### {_ICON[f.severity]} {f.title} ({_code(f.code)}, {f.severity})", ""]
        lines += [f.detail, ""]
        if f.fix:
            lines += ["**Fix**", ""]
            lines += [f"{n}. {_code(step)}" for n, step in enumerate(f.fix, 1)] + [""]
        if f.evidence:
            lines += _details("Evidence", [f"- {_code(e)}" for e in f.evidence])
    lines += _facts(snap)
    note = f"cudaenv {snap.tool_version}"
    if snap.redacted:
        note += (
            f" · redacted: {', '.join(snap.redacted)} (`cudaenv doctor --format markdown "
            "--no-redact` keeps them)"
        )
    lines += [f"_{note}_", ""]
    return "\n".join(lines)
