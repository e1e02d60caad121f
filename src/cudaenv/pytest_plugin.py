"""cudaenv in pytest: ``pytest --cudaenv`` (or ``cudaenv = true`` in the ini file).

The Python running the tests is diagnosed once, from its files (nothing is imported from it):

* the session header gets one line — environment, Python, frameworks and their CUDA, the
  driver and GPUs, and the verdict with the most important finding;
* with ``--junitxml``, the suite's properties get ``cudaenv`` (that line),
  ``cudaenv.findings`` (``code:severity`` each) and ``cudaenv.report`` (the JSON report,
  schema ``cudaenv.report/1``) — a CI failure on a GPU runner then carries its diagnosis.

What goes to the JUnit file is redacted as a shared report is (home, user and host names,
secrets); ``--cudaenv-no-redact`` keeps everything.  Without the option the plugin does
nothing, so installing cudaenv costs a test session nothing.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable, Optional

import pytest

if TYPE_CHECKING:
    from .findings import Report

__all__ = ["pytest_addoption", "pytest_configure"]

_SESSION = "cudaenv-session"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cudaenv", "CUDA environment diagnosis (cudaenv)")
    group.addoption(
        "--cudaenv",
        action="store_true",
        default=None,
        help="diagnose this Python's CUDA environment: one line in the header, "
        "the full report in the JUnit XML properties",
    )
    group.addoption(
        "--cudaenv-no-redact",
        action="store_true",
        default=False,
        help="keep home, user and host names and secrets in the JUnit properties",
    )
    parser.addini("cudaenv", "diagnose the CUDA environment (as --cudaenv)", type="bool")


def pytest_configure(config: pytest.Config) -> None:
    option = config.getoption("cudaenv")
    enabled = bool(config.getini("cudaenv")) if option is None else bool(option)
    if enabled:
        config.pluginmanager.register(
            CudaenvSession(redact=not config.getoption("cudaenv_no_redact")), _SESSION
        )


class CudaenvSession:
    """The hooks and the fixture of an opted-in session: one diagnosis, taken at start."""

    def __init__(self, *, redact: bool) -> None:
        self.redact = redact
        self.report: Optional[Report] = None
        self.error: Optional[str] = None
        from .api import diagnose

        try:
            # The interpreter running the tests is the one that matters, active env or not.
            self.report = diagnose(python=sys.executable)
        except Exception as exc:  # noqa: BLE001 - a diagnosis must never break a test session
            self.error = f"{type(exc).__name__}: {exc}"

    def one_line(self, report: Optional[Report], *, secrets: bool = True) -> str:
        if report is None:
            return f"cudaenv: the diagnosis failed ({self.error})"
        from ._redact import Redaction, redact_text
        from ._render.oneline import render_one_line

        return "cudaenv: " + redact_text(render_one_line(report), Redaction(secrets=secrets))

    def pytest_report_header(self) -> str:
        return self.one_line(self.report)

    def properties(self) -> list[tuple[str, str]]:
        """What the JUnit XML gets: the line, the findings, and the JSON report."""
        report = self.report
        if report is None:
            return [("cudaenv", self.one_line(None))]
        from ._redact import redact_report, rules_for
        from ._render import render

        if self.redact:
            report = redact_report(report, rules_for(report.snapshot, identity=True))
        return [
            ("cudaenv", self.one_line(report, secrets=self.redact)),
            ("cudaenv.findings", " ".join(f"{f.code}:{f.severity}" for f in report.findings)),
            ("cudaenv.report", render(report, "json")),
        ]


@pytest.fixture(scope="session", autouse=True)
def _cudaenv_junit_properties(request: pytest.FixtureRequest) -> None:
    """The report into the JUnit XML (a no-op without ``--junitxml`` or without the option).

    ``record_testsuite_property`` is asked for only when opted in: a session that disabled
    the junitxml plugin (``-p no:junitxml``) has no such fixture."""
    session = request.config.pluginmanager.get_plugin(_SESSION)
    if not isinstance(session, CudaenvSession) or not request.config.pluginmanager.has_plugin(
        "junitxml"
    ):
        return
    record: Callable[[str, object], None] = request.getfixturevalue("record_testsuite_property")
    for name, value in session.properties():
        record(name, value)
