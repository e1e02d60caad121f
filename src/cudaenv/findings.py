"""Findings (what is wrong, why, the evidence and the fix) and the report that carries them."""

from __future__ import annotations

from typing import Any, Optional

from ._records import field, record
from ._serial import to_json
from .actions import Action
from .snapshot import Snapshot

__all__ = ["REPORT_SCHEMA", "SEVERITIES", "Finding", "Report", "severity_rank"]

REPORT_SCHEMA = "cudaenv.report/1"
SEVERITIES = ("error", "warning", "info")
"""Most severe first: error — the goal fails; warning — works now, breaks next; info — FYI."""


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@record
class Finding:
    code: str
    severity: str
    title: str
    detail: str
    evidence: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    """Concrete steps, in order: commands to run, variables to change, files to edit."""
    rank: int = 0
    """Order among findings of one severity: root causes before their consequences."""
    actions: tuple[Action, ...] = ()
    """The fix as data, for ``cudaenv fix`` (empty where only a person can act)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "evidence": list(self.evidence),
            "fix": list(self.fix),
            "actions": [
                {k: v for k, v in to_json(a).items() if v not in (None, [], "")}
                for a in self.actions
            ],
        }


@record
class Report:
    snapshot: Snapshot
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    @property
    def primary(self) -> Optional[Finding]:
        for finding in self.findings:
            if finding.severity == "error":
                return finding
        return self.findings[0] if self.findings else None

    def worst_severity(self) -> Optional[str]:
        return min((f.severity for f in self.findings), key=severity_rank, default=None)

    def target_summary(self) -> dict[str, Any]:
        snap = self.snapshot
        env = snap.target_env
        interp = snap.target.interpreter
        return {
            "chosen_by": snap.target.chosen_by,
            "requested": snap.target.requested,
            "prefix": snap.target.prefix,
            "kind": env.kind if env else None,
            "name": env.name if env else None,
            "python": (env.python if env and env.python else (interp.path if interp else None)),
            "python_version": (
                env.python_version
                if env and env.python_version
                else (interp.version if interp else None)
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "tool": {"name": "cudaenv", "version": self.snapshot.tool_version},
            "target": self.target_summary(),
            "summary": self.counts,
            "findings": [f.to_dict() for f in self.findings],
            "facts": self.snapshot.to_dict(),
        }
