"""cudaenv's checks in ``conda doctor``: a conda plugin (entry point group ``conda``).

With cudaenv installed next to conda (in its base environment), ``conda doctor [-n ENV]``
runs five more health checks on the environment it examines, one per part of the findings
reference: Python/pip/conda, the toolkit builds use, the shared libraries, the driver and
GPUs, the frameworks.  They share one diagnosis of that prefix, read from its files as
``cudaenv doctor --prefix`` reads them; ``conda doctor --fix`` (conda 25.x) offers
``cudaenv fix``'s plan for the environment and applies it after conda's confirmation.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from .findings import Finding, Report

__all__ = ["HEALTH_CHECKS", "CondaHealthCheck", "conda_health_checks"]

try:  # conda loads this module, so its plugin API is there
    from conda.plugins import hookimpl
    from conda.plugins.types import CondaHealthCheck
except ImportError:  # without conda (cudaenv's own tests drive the hook through pluggy)
    import dataclasses

    try:
        import pluggy

        hookimpl = pluggy.HookimplMarker("conda")
    except ImportError:

        def hookimpl(function: Callable[..., Any]) -> Callable[..., Any]:
            return function

    @dataclasses.dataclass
    class CondaHealthCheck:  # type: ignore[no-redef]  # conda's own type when present
        name: str
        action: Callable[[str, bool], None]
        fixer: Optional[Callable[[str, argparse.Namespace, Callable[[str], None]], int]] = None
        summary: Optional[str] = None
        fix: Optional[str] = None


OK_MARK, X_MARK = "✅", "❌"  # as conda's own checks print them

HEALTH_CHECKS = {
    # name: (the part of the findings reference it reports, summary for `conda doctor --list`)
    "cuda-python": (
        "Interpreters, pip and conda",
        "CUDA: the env's Python, pip, site-packages and conda/pip overlaps",
    ),
    "cuda-toolkit": (
        "The CUDA toolkit that builds use",
        "CUDA: the toolkit (nvcc, headers, CUDA_HOME) source builds would use",
    ),
    "cuda-libraries": (
        "Shared libraries and the loader",
        "CUDA: the libraries the loader picks for the env's frameworks",
    ),
    "cuda-driver": ("Driver and GPU", "CUDA: the NVIDIA driver and GPUs this env would use"),
    "cuda-frameworks": (
        "Frameworks",
        "CUDA: what torch, CuPy, JAX, TensorFlow were built for, and whether it fits",
    ),
}
_ABOUT_THE_DIAGNOSIS = "About the diagnosis itself"  # shown with the first check

_reports: dict[str, Report] = {}


def _report(prefix: str) -> Report:
    """One diagnosis per prefix, shared by the checks (conda calls each in turn)."""
    key = os.path.abspath(prefix)
    if key not in _reports:
        from .api import diagnose

        _reports[key] = diagnose(prefix=key)
    return _reports[key]


def _part(report: Report, heading: str) -> list[Finding]:
    from ._explain import areas

    known = areas()
    wanted = {heading}
    if heading == next(iter(HEALTH_CHECKS.values()))[0]:
        wanted.add(_ABOUT_THE_DIAGNOSIS)
    from ._surveyed import SHELL_STATE

    # conda doctor -n ENV looks at an env the shell need not have activated
    shell_state = SHELL_STATE if report.snapshot.target.chosen_by == "--prefix" else frozenset()
    return [
        f
        for f in report.findings
        if known.get(f.code, _ABOUT_THE_DIAGNOSIS) in wanted and f.code not in shell_state
    ]


def _lines(finding: Finding, verbose: bool) -> Iterator[str]:
    yield f"  {finding.severity.upper()}: {finding.title} [{finding.code}]"
    if verbose:
        yield f"    {finding.detail}"
        yield from (f"    · {line}" for line in finding.evidence)
    yield from (f"    fix: {step}" for step in finding.fix)


def _action(name: str) -> Callable[[str, bool], None]:
    heading, _ = HEALTH_CHECKS[name]

    def action(prefix: str, verbose: bool) -> None:
        from ._redact import Redaction, redact_text

        try:
            findings = _part(_report(prefix), heading)
        except Exception as exc:  # noqa: BLE001 - one check must not stop conda doctor
            print(f"{X_MARK} {heading}: cudaenv could not diagnose {prefix}: {exc}\n")
            return
        problems = [f for f in findings if f.severity != "info"]
        notes = [f for f in findings if f.severity == "info"]
        if not problems:
            print(f"{OK_MARK} {heading}: no CUDA problems found.")
        else:
            print(f"{X_MARK} {heading}:")
        shown = problems + (notes if verbose else [])
        text = "\n".join(line for f in shown for line in _lines(f, verbose))
        if text:
            print(redact_text(text, Redaction(secrets=True)))
        print()

    action.__name__ = f"cudaenv_{name.replace('-', '_')}"
    return action


def _fixer(name: str) -> Callable[[str, argparse.Namespace, Callable[[str], None]], int]:
    heading, _ = HEALTH_CHECKS[name]

    def fixer(
        prefix: str,
        args: argparse.Namespace,  # noqa: ARG001 - conda's signature; cudaenv needs none
        confirm: Callable[[str], None],
    ) -> int:
        """``conda doctor --fix``: cudaenv's plan for this part's findings, applied once the
        user confirms (conda's ``confirm`` raises when declined or in a dry run)."""
        from ._fix.plan import build_plan
        from ._fix.render import plan_text
        from ._fixcli import _apply
        from ._redact import Redaction, redact_text
        from .findings import Report

        report = _report(prefix)
        plan = build_plan(Report(report.snapshot, tuple(_part(report, heading))))
        environ = dict(os.environ)
        print(redact_text(plan_text(plan, environ, "bash", applying=True), Redaction(secrets=True)))
        if not (plan.packages or plan.settings or plan.variables):
            print("Nothing cudaenv can apply itself.")
            return 0
        confirm(f"Apply cudaenv's plan to {plan.env_label}?")
        _reports.pop(os.path.abspath(prefix), None)  # the env is about to change
        options = argparse.Namespace(yes=True, force=False, python=None, prefix=prefix)
        return _apply(plan, environ, options, sys.stdout)

    fixer.__name__ = f"cudaenv_fix_{name.replace('-', '_')}"
    return fixer


def _health_check(name: str) -> CondaHealthCheck:
    _, summary = HEALTH_CHECKS[name]
    try:
        return CondaHealthCheck(
            name=name,
            action=_action(name),
            fixer=_fixer(name),
            summary=summary,
            fix="apply cudaenv's fix plan for these findings (as cudaenv fix --apply)",
        )
    except TypeError:  # conda before 25.x: (name, action) only
        return CondaHealthCheck(name=name, action=_action(name))


@hookimpl  # type: ignore[untyped-decorator]  # conda's marker (pluggy), untyped
def conda_health_checks() -> Iterable[CondaHealthCheck]:
    for name in HEALTH_CHECKS:
        yield _health_check(name)
