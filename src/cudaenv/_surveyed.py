"""What a survey of the machine's environments found: one entry per environment, with its
summary line and findings (``_survey.py`` finds and diagnoses them; renderers show them)."""

from __future__ import annotations

from typing import Optional

from ._describe import env_name
from ._records import record
from .findings import Finding, Report
from .snapshot import Driver, Gpu, Problem

__all__ = [
    "READINESS",
    "SHELL_STATE",
    "EnvSummary",
    "FrameworkBrief",
    "Survey",
    "SurveyEntry",
    "about_the_environment",
    "headline",
    "summarize",
]

READINESS = {
    "ready": "a CUDA build of a framework, and no error in its way",
    "blocked": "a CUDA build of a framework, stopped by an error (the headline finding)",
    "cpu-only": "GPU frameworks, none built for CUDA",
    "no-framework": "no GPU framework installed",
    "no-python": "no Python interpreter of its own",
    "missing": "the directory does not exist (a stale registration)",
    "failed": "the diagnosis itself failed (see the error)",
}
"""What each GPU readiness verdict means, most hopeful first."""

# Findings about the shell rather than the environment: a survey looks at environments the
# shell has not activated, so these say nothing new about them in the table.
SHELL_STATE = frozenset({"conda-env-not-activated"})
"""Findings about the shell's activation state, not about an environment looked at on purpose."""


@record
class FrameworkBrief:
    name: str
    version: str
    cuda: Optional[str] = None
    variant: Optional[str] = None


@record
class EnvSummary:
    """One environment in a line: what it is, its Python, frameworks, and GPU readiness."""

    kind: str
    label: str
    name: Optional[str] = None
    python: Optional[str] = None
    """The ``X.Y`` of its Python; None when it has none."""
    interpreter: Optional[str] = None
    frameworks: tuple[FrameworkBrief, ...] = ()
    readiness: str = "no-framework"


@record
class SurveyEntry:
    prefix: str
    sources: tuple[str, ...]
    active: bool = False
    """The environment ``cudaenv doctor`` alone would diagnose."""
    summary: Optional[EnvSummary] = None
    """None when the prefix does not exist or the diagnosis failed."""
    findings: tuple[Finding, ...] = ()
    error: Optional[str] = None
    details: object = None
    """The full report, rendered as asked (``--details``): text, or a JSON tree."""
    report: Optional[Report] = None
    """The report itself, kept on request (tests; the library API)."""

    @property
    def readiness(self) -> str:
        if self.summary is not None:
            return self.summary.readiness
        return "failed" if self.error else "missing"


@record
class Survey:
    entries: tuple[SurveyEntry, ...]
    hostname: Optional[str]
    home: Optional[str]
    environ: dict[str, str]
    tool_version: str
    root: str
    driver: Driver
    """The kernel module (the libraries each environment loads are in its own report)."""
    gpus: tuple[Gpu, ...] = ()
    problems: tuple[Problem, ...] = ()
    """Files the discovery itself could not read."""


def summarize(report: Report) -> EnvSummary:
    """The environment of a report in one line (what ``doctor --all`` shows per row)."""
    snap = report.snapshot
    env = snap.target_env
    interp = snap.target.interpreter
    python = (env.python_version if env else None) or (interp.version if interp else None)
    has_python = (env is not None and env.python is not None) or (
        interp is not None and interp.exists
    )
    return EnvSummary(
        kind=env.kind if env else "unknown",
        label=env_name(env, snap.target.prefix),
        name=env.name if env else None,
        python=python if has_python else None,
        interpreter=(env.python if env and env.python else (interp.path if interp else None))
        if has_python
        else None,
        frameworks=tuple(
            FrameworkBrief(f.name, f.version, f.cuda, f.variant) for f in snap.frameworks
        ),
        readiness=_readiness(report, has_python),
    )


def _readiness(report: Report, has_python: bool) -> str:
    frameworks = report.snapshot.frameworks
    if not has_python:
        return "no-python"
    if not frameworks:
        return "no-framework"
    if not any(f.cuda or f.variant == "cuda" for f in frameworks):
        return "cpu-only"
    if any(f.severity == "error" for f in report.findings):
        return "blocked"
    return "ready"


def about_the_environment(entry: SurveyEntry) -> tuple[Finding, ...]:
    """The entry's findings, less those about the shell's activation state when the shell
    has not activated it (a survey looks at such environments on purpose)."""
    if entry.active:
        return entry.findings
    return tuple(f for f in entry.findings if f.code not in SHELL_STATE)


MACHINE_CODES = frozenset(
    {
        "driver-missing",
        "driver-library-unreachable",
        "driver-library-mismatch",
        "driver-stub-shadowing",
        "forward-compat-misuse",
        "wsl-driver-inside",
        "ld-cache-stale",
        "stale-path-entry",
    }
)
"""Findings about the machine, not one environment: the driver, the loader's cache."""


def machine_wide(survey: Survey) -> tuple[Finding, ...]:
    """Errors and warnings about the machine that several environments share (the same code
    and title: a missing driver, a stale loader cache): said once above the rows."""
    seen: dict[tuple[str, str], list[Finding]] = {}
    for entry in survey.entries:
        for f in about_the_environment(entry):
            if f.code in MACHINE_CODES and f.severity != "info":
                seen.setdefault((f.code, f.title), []).append(f)
    return tuple(found[0] for found in seen.values() if len(found) >= 2)


def headline(entry: SurveyEntry, shared: tuple[Finding, ...] = ()) -> Optional[Finding]:
    """The finding a row shows: the most important error or warning about the environment,
    other than those every environment shares (``machine_wide``)."""
    said = {(f.code, f.title) for f in shared}
    return next(
        (
            f
            for f in about_the_environment(entry)
            if f.severity != "info" and (f.code, f.title) not in said
        ),
        None,
    )
