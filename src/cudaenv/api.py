"""The library entry points: collect facts, check them, or both."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Optional

from ._checks import run_checks
from ._host import Host
from ._probes import collect as _collect
from .findings import Report
from .snapshot import Snapshot

__all__ = ["check", "collect", "diagnose"]


def _host(root: str, environ: Optional[Mapping[str, str]]) -> Host:
    live_cwd = None
    if os.path.abspath(root) == "/":
        try:
            live_cwd = os.getcwd()
        except OSError:
            live_cwd = None
    return Host(root, os.environ if environ is None else environ, live_cwd=live_cwd)


def collect(
    root: str = "/",
    environ: Optional[Mapping[str, str]] = None,
    *,
    python: Optional[str] = None,
    prefix: Optional[str] = None,
) -> Snapshot:
    """Facts about the machine under ``root`` with ``environ`` (default: this machine, now)."""
    return _collect(_host(root, environ), python=python, prefix=prefix)


def check(snapshot: Snapshot) -> Report:
    """Findings for a snapshot, most important first."""
    return Report(snapshot, tuple(run_checks(snapshot)))


def diagnose(
    root: str = "/",
    environ: Optional[Mapping[str, str]] = None,
    *,
    python: Optional[str] = None,
    prefix: Optional[str] = None,
) -> Report:
    return check(collect(root, environ, python=python, prefix=prefix))
