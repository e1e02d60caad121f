"""Every environment on the machine, one row each: as text, JSON, Markdown or GitHub
annotations (``cudaenv envs``, ``cudaenv doctor --all``)."""

from __future__ import annotations

import json
from typing import Any, Optional

from .._surveyed import (
    READINESS,
    EnvSummary,
    Survey,
    SurveyEntry,
    about_the_environment,
    headline,
    machine_wide,
)
from ..findings import SEVERITIES
from ._words import SEVERITY_MARK, frameworks_phrase, machine_phrase
from .github import _data, _property
from .markdown import _cell, _code

__all__ = ["ENVS_SCHEMA", "render_survey", "survey_counts", "survey_to_dict"]

ENVS_SCHEMA = "cudaenv.envs/1"

_WORDS = {
    "ready": "ready",
    "blocked": "blocked",
    "cpu-only": "CPU-only",
    "no-framework": "without a GPU framework",
    "no-python": "without Python",
    "missing": "missing",
    "failed": "failed to diagnose",
}
_STYLE = {"ready": "1;32", "blocked": "1;31", "cpu-only": "1;33", "failed": "1;31"}
_ICON = {"ready": "✅", "blocked": "❌", "cpu-only": "⚠️"}  # emoji are intended


def survey_counts(survey: Survey) -> dict[str, int]:
    counts = dict.fromkeys(READINESS, 0)
    for entry in survey.entries:
        counts[entry.readiness] += 1
    return counts


def _summary_line(survey: Survey) -> str:
    counts = survey_counts(survey)
    parts = [f"{n} {_WORDS[k]}" for k, n in counts.items() if n]
    total = len(survey.entries)
    return f"{total} environment{'s' if total != 1 else ''}: " + ", ".join(parts)


def _machine_line(survey: Survey) -> str:
    return machine_phrase(survey.driver, survey.gpus)


def _frameworks(summary: Optional[EnvSummary]) -> str:
    if summary is None:
        return ""
    return frameworks_phrase(summary.frameworks) or "—"


def _kind(entry: SurveyEntry) -> str:
    sources = " ".join(entry.sources)
    if entry.summary is None:
        return "?"
    kind = entry.summary.kind
    if kind == "venv":
        for word in ("uv project", "uv tool", "pipx"):
            if word in sources:
                return word
    return kind


def _name(entry: SurveyEntry) -> str:
    if entry.summary is not None and entry.summary.name:
        return entry.summary.name
    return entry.prefix.rstrip("/").rsplit("/", 1)[-1] or "/"


def _home(path: str, home: Optional[str]) -> str:
    if home and home != "/" and (path == home or path.startswith(home.rstrip("/") + "/")):
        return "~" + path[len(home.rstrip("/")) :]
    return path


def _text(survey: Survey, *, color: bool, width: int, details: bool) -> str:
    def paint(text: str, style: Optional[str]) -> str:
        return f"\033[{style}m{text}\033[0m" if color and style else text

    rows = [
        (
            entry.readiness,
            _kind(entry),
            _name(entry),
            (entry.summary.python or "—") if entry.summary else "",
            _frameworks(entry.summary),
            _home(entry.prefix, survey.home) + ("  (default)" if entry.active else ""),
        )
        for entry in survey.entries
    ]
    header = ("GPU", "KIND", "NAME", "PYTHON", "FRAMEWORKS", "PREFIX")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    shared = machine_wide(survey)
    lines = [paint(_summary_line(survey), "1"), _machine_line(survey)]
    lines += [
        _clip(f"{SEVERITY_MARK[f.severity]} every environment: {f.code}: {f.title}", width)
        for f in shared
    ]
    lines.append("")
    lines.append(paint("  ".join(h.ljust(w) for h, w in zip(header, widths)) + "  PREFIX", "2"))
    for entry, row in zip(survey.entries, rows):
        cells = [paint(row[0].ljust(widths[0]), _STYLE.get(row[0]))]
        cells += [row[i].ljust(widths[i]) for i in range(1, 5)]
        lines.append("  ".join(cells) + "  " + row[5])
        note = _row_note(entry, shared)
        if note:
            indent = " " * (widths[0] + 2)
            lines.append(indent + _clip(note, max(width - len(indent), 30)))
    if survey.problems:
        lines += ["", "Could not read while looking for environments:"]
        lines += [f"  {p.path}: {p.error}" for p in survey.problems]
    lines += [
        "",
        "One environment in full: cudaenv doctor --prefix PREFIX"
        + ("" if details else "   (or --details here)"),
    ]
    text = "\n".join(line.rstrip() for line in lines) + "\n"
    if details:
        for entry in survey.entries:
            if isinstance(entry.details, str):
                rule = "─" * min(width, 100)
                text += f"\n{rule}\n{paint(_home(entry.prefix, survey.home), '1')}\n{rule}\n"
                text += entry.details
    return text


def _row_note(entry: SurveyEntry, shared: tuple[Any, ...] = ()) -> Optional[str]:
    if entry.error:
        return f"✗ {entry.error}"
    if entry.summary is None:
        return "✗ registered (" + ", ".join(entry.sources) + ") but the directory is gone"
    finding = headline(entry, shared)
    if finding is None:
        return None
    return f"{SEVERITY_MARK[finding.severity]} {finding.code}: {finding.title}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def survey_to_dict(survey: Survey) -> dict[str, Any]:
    environments = []
    for entry in survey.entries:
        summary = entry.summary
        finding = headline(entry)
        counts = dict.fromkeys(SEVERITIES, 0)
        for f in entry.findings:
            counts[f.severity] += 1
        item: dict[str, Any] = {
            "prefix": entry.prefix,
            "sources": list(entry.sources),
            "active": entry.active,
            "readiness": entry.readiness,
            "kind": summary.kind if summary else None,
            "name": summary.name if summary else None,
            "python": summary.python if summary else None,
            "interpreter": summary.interpreter if summary else None,
            "frameworks": [
                {"name": f.name, "version": f.version, "cuda": f.cuda, "variant": f.variant}
                for f in (summary.frameworks if summary else ())
            ],
            "headline": (
                {"code": finding.code, "severity": finding.severity, "title": finding.title}
                if finding
                else None
            ),
            "counts": counts,
            "findings": [f.to_dict() for f in entry.findings],
            "error": entry.error,
        }
        if entry.details is not None:
            item["report"] = entry.details
        environments.append(item)
    return {
        "schema": ENVS_SCHEMA,
        "tool": {"name": "cudaenv", "version": survey.tool_version},
        "machine": {
            "hostname": survey.hostname,
            "root": survey.root,
            "driver": survey.driver.version,
            "driver_loaded": survey.driver.loaded,
            "gpus": [g.model or g.pci for g in survey.gpus],
        },
        "summary": survey_counts(survey),
        "environments": environments,
        "problems": [{"path": p.path, "error": p.error} for p in survey.problems],
    }


def _markdown(survey: Survey, *, details: bool) -> str:
    shared = machine_wide(survey)
    lines = [
        f"**cudaenv {survey.tool_version}** · {_summary_line(survey)}",
        "",
        _machine_line(survey),
        "",
        *[
            f"- {SEVERITY_MARK[f.severity]} every environment: `{f.code}`: {f.title}"
            for f in shared
        ],
        *([""] if shared else []),
        "| GPU | Kind | Name | Python | Frameworks | Headline finding | Prefix |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in survey.entries:
        note = _row_note(entry, shared) or ""
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"{_ICON.get(entry.readiness, '')} {entry.readiness}".strip(),
                    _kind(entry),
                    _name(entry),
                    (entry.summary.python or "—") if entry.summary else "",
                    _frameworks(entry.summary),
                    note,
                    _code(_home(entry.prefix, survey.home)),
                )
            )
            + " |"
        )
    lines.append("")
    if details:
        for entry in survey.entries:
            if isinstance(entry.details, str):
                lines += [
                    f"<details><summary>{_code(_home(entry.prefix, survey.home))}</summary>",
                    "",
                    entry.details.rstrip("\n"),
                    "",
                    "</details>",
                    "",
                ]
    return "\n".join(lines) + "\n"


def _github(survey: Survey) -> str:
    lines = []
    for entry in survey.entries:
        where = _home(entry.prefix, survey.home)
        if entry.error:
            lines.append(f"::error title={_property(f'cudaenv: {where}')}::{_data(entry.error)}")
        for f in about_the_environment(entry):
            if f.severity == "info":
                continue
            level = "error" if f.severity == "error" else "warning"
            message = f.detail
            if f.fix:
                message += "\nFix:\n" + "\n".join(f"{n}. {s}" for n, s in enumerate(f.fix, 1))
            title = f"{f.title} [{f.code}] in {where}"
            lines.append(f"::{level} title={_property(title)}::{_data(message)}")
    lines.append(f"cudaenv: {_summary_line(survey)}")
    return "\n".join(lines) + "\n"


def render_survey(
    survey: Survey, fmt: str, *, color: bool = False, width: int = 100, details: bool = False
) -> str:
    if fmt == "json":
        return json.dumps(survey_to_dict(survey), indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(survey, details=details)
    if fmt == "github":
        return _github(survey)
    if fmt == "text":
        return _text(survey, color=color, width=width, details=details)
    raise ValueError(f"unknown format {fmt!r}")
