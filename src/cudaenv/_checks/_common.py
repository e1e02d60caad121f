"""Helpers the checks share: building findings and reading the snapshot."""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterable
from typing import Optional

from .._describe import env_label, env_name, interp_label
from .._formats.metadata import canonicalize_name
from ..actions import Action
from ..findings import Finding
from ..snapshot import Command, Distribution, Environment, Interpreter, Snapshot
from .codes import CODES, RANKS

__all__ = [
    "ACTIVATED",
    "CONDA_KINDS",
    "by_name",
    "command_evidence",
    "conda_selector",
    "env_distributions",
    "env_label",
    "env_name",
    "finding",
    "interp_label",
    "path_position",
    "quote",
    "same_interpreter",
    "shell_context",
    "shell_python",
]

CONDA_KINDS = ("conda-base", "conda-env", "pixi")
ACTIVATED = ("VIRTUAL_ENV", "CONDA_PREFIX")
"""Ways of choosing the target that mean "the environment the shell has activated"."""


def finding(
    code: str,
    title: str,
    detail: str,
    evidence: Iterable[str] = (),
    fix: Iterable[str] = (),
    severity: Optional[str] = None,
    actions: Iterable[Action] = (),
) -> Finding:
    return Finding(
        code=code,
        severity=severity or CODES[code].severity,
        title=title,
        detail=detail,
        evidence=tuple(e for e in evidence if e),
        fix=tuple(fix),
        rank=RANKS[code],
        actions=tuple(actions),
    )


def quote(path: str) -> str:
    return shlex.quote(path)


def shell_python(s: Snapshot) -> Optional[Command]:
    """The ``python`` the shell runs (``python3`` where there is no ``python``)."""
    return s.command("python") or s.command("python3")


def shell_context(s: Snapshot) -> bool:
    """Whether the shell's own commands describe the target (not a --python elsewhere)."""
    if s.target.chosen_by in (*ACTIVATED, "PATH"):
        return True
    active = s.active.virtual_env or s.active.conda_prefix
    py = shell_python(s)
    shell_prefix = py.interpreter.prefix if py and py.interpreter else None
    return s.target.prefix is not None and s.target.prefix in (active, shell_prefix)


def command_evidence(s: Snapshot, cmd: Command) -> str:
    """``pip → /x/bin/pip (#!/x/bin/python3.12: Python 3.12, conda base (/x))``."""
    parts = [f"{cmd.name} → {cmd.path}"]
    if cmd.resolved and cmd.resolved != cmd.path:
        parts.append(f"→ {cmd.resolved}")
    text = " ".join(parts)
    if cmd.shebang:
        text += f" [{cmd.shebang}]"
    if cmd.interpreter is not None and not cmd.name.startswith("python"):
        text += f" runs {interp_label(s, cmd.interpreter)}"
    elif cmd.interpreter is not None:
        env = s.environments.get(cmd.interpreter.prefix) if cmd.interpreter.prefix else None
        version = f"Python {cmd.interpreter.version}, " if cmd.interpreter.version else ""
        text += f" ({version}{env_label(env, cmd.interpreter.prefix)})"
    if cmd.detail:
        text += f"; {cmd.detail}"
    return text


def same_interpreter(a: Interpreter, prefix: Optional[str], version: Optional[str]) -> bool:
    if not a.exists or a.prefix is None or a.prefix != prefix:
        return False
    return a.version is None or version is None or a.version == version


def conda_selector(s: Snapshot, env: Environment) -> str:
    """``-n ml`` when conda knows the env by that name, else ``-p /path``."""
    for entry in s.conda.envs:
        if entry.prefix == env.prefix and entry.name:
            return f"-n {quote(entry.name)}"
    if env.kind == "conda-base":
        return "-n base"
    return f"-p {quote(env.prefix)}"


def env_distributions(s: Snapshot, prefix: str) -> list[Distribution]:
    """Distributions in the environment's own site-packages."""
    return [
        dist
        for site in s.site_dirs
        if site.role == "site" and site.owner == prefix
        for dist in site.distributions
    ]


def by_name(dists: Iterable[Distribution]) -> dict[str, list[Distribution]]:
    grouped: dict[str, list[Distribution]] = {}
    for dist in dists:
        grouped.setdefault(canonicalize_name(dist.name), []).append(dist)
    return grouped


def path_position(s: Snapshot, directory: str) -> Optional[int]:
    for index, entry in enumerate(s.environ.get("PATH", "").split(":")):
        if entry and posixpath.normpath(entry) == posixpath.normpath(directory):
            return index
    return None
