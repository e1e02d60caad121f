"""A fix plan: the actions of every finding, merged into one coherent, ordered set of steps.

Order of execution: package removals, conda installs, pip installs, ``pyvenv.cfg`` keys, then
the environment's variables (persisted through its activation).  Findings come most important
first, so when two ask for different things (two values for CUDA_HOME, two specs of torch) the
first wins and the other is reported as a conflict, never applied half-way.  Manual steps
(a driver, a reboot, a container flag) are listed, not executed.
"""

from __future__ import annotations

import posixpath
import re
from typing import Optional

from .._formats.metadata import canonicalize_name, requirement_name
from .._records import record
from ..actions import Action
from ..findings import Report
from ..snapshot import Snapshot

__all__ = [
    "PERSISTENT_KINDS",
    "ManualStep",
    "PackageStep",
    "Plan",
    "SettingStep",
    "VariableChange",
    "build_plan",
]

PERSISTENT_KINDS = {
    "conda-env": "conda",
    "conda-base": "conda",
    "pixi": "conda",
    "venv": "venv",
}
"""Environment kind → how its variables are persisted (conda: etc/conda/activate.d, which
pixi runs too; venv: bin/activate)."""

_PROTECTED_KINDS = frozenset({"conda-base", "system", "pyenv", "unknown"})
"""Kinds whose files cudaenv changes only with --force (shared by everything else)."""


@record
class VariableChange:
    """What one variable becomes in the environment."""

    name: str
    mode: str
    """set, unset, or path (``prepend`` first, ``drop`` removed, the rest kept in order)."""
    value: Optional[str] = None
    prepend: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    why: tuple[str, ...] = ()


@record
class PackageStep:
    """One package-manager command, with the exact program that runs it."""

    manager: str
    """pip or conda."""
    operation: str
    """install or uninstall."""
    argv: tuple[str, ...]
    items: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    why: tuple[str, ...] = ()


@record
class SettingStep:
    """One key of a configuration file inside the environment (``pyvenv.cfg``)."""

    path: str
    key: str
    value: str
    codes: tuple[str, ...] = ()
    why: tuple[str, ...] = ()


@record
class ManualStep:
    text: str
    scope: str = "system"
    codes: tuple[str, ...] = ()


@record
class Plan:
    prefix: Optional[str]
    """The environment the plan changes."""
    env_kind: str
    env_label: str
    python: Optional[str]
    persistence: Optional[str]
    """conda, venv or None (the variables can then only be applied per run: cudaenv run)."""
    protected: bool
    """The environment is shared (conda base, a system Python): nothing is written without
    --force."""
    packages: tuple[PackageStep, ...] = ()
    settings: tuple[SettingStep, ...] = ()
    variables: tuple[VariableChange, ...] = ()
    manual: tuple[ManualStep, ...] = ()
    conflicts: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    """Every finding the plan acts on."""

    @property
    def empty(self) -> bool:
        return not (self.packages or self.settings or self.variables or self.manual)


class _Variables:
    def __init__(self) -> None:
        self.changes: dict[str, VariableChange] = {}
        self.conflicts: list[str] = []

    def add(self, action: Action, code: str) -> None:
        name = action.name or ""
        have = self.changes.get(name)
        if action.kind in ("set-var", "unset-var"):
            mode = "set" if action.kind == "set-var" else "unset"
            if have is None:
                self.changes[name] = VariableChange(
                    name, mode, action.value, codes=(code,), why=(action.why,)
                )
            elif have.mode == mode and have.value == action.value:
                self.changes[name] = _with_reason(have, code, action.why)
            else:
                self.conflicts.append(
                    f"{code} wants {name} {_describe(mode, action.value)}; kept "
                    f"{_describe(have.mode, have.value)} ({', '.join(have.codes)})"
                )
            return
        if have is not None and have.mode != "path":
            self.conflicts.append(
                f"{code} wants to edit {name} as a path; kept "
                f"{_describe(have.mode, have.value)} ({', '.join(have.codes)})"
            )
            return
        prepend = have.prepend if have else ()
        drop = have.drop if have else ()
        if action.kind == "prepend-path":
            prepend += tuple(e for e in action.items if e not in prepend)
            drop = tuple(e for e in drop if e not in action.items)
        else:
            drop += tuple(e for e in action.items if e not in drop and e not in prepend)
        base = have or VariableChange(name, "path")
        self.changes[name] = _with_reason(
            VariableChange(name, "path", None, prepend, drop, base.codes, base.why),
            code,
            action.why,
        )


def _describe(mode: str, value: Optional[str]) -> str:
    return f"set to {value}" if mode == "set" else mode


def _with_reason(change: VariableChange, code: str, why: str) -> VariableChange:
    codes = change.codes if code in change.codes else (*change.codes, code)
    reasons = change.why if not why or why in change.why else (*change.why, why)
    return VariableChange(
        change.name, change.mode, change.value, change.prepend, change.drop, codes, reasons
    )


class _Packages:
    """pip and conda operations, merged: one command per manager, operation and options."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str, tuple[str, ...]], list[tuple[str, str, str]]] = {}
        self.names: dict[tuple[str, str, str], tuple[str, tuple[str, ...]]] = {}
        self.conflicts: list[str] = []

    def add(self, manager: str, operation: str, action: Action, code: str) -> None:
        key = (manager, operation, action.options)
        if manager == "python":  # one command: its arguments are not packages to merge
            self.groups.setdefault((manager, operation, action.items), []).append(
                (" ".join(action.items), code, action.why)
            )
            return
        for item in action.items:
            name = (requirement_name(item) or item) if manager == "pip" else _conda_name(item)
            seen = self.names.get((manager, operation, name))
            if seen is not None:
                if seen != (item, action.options):
                    self.conflicts.append(
                        f"{code} wants {manager} {operation} {item}; kept {seen[0]}"
                    )
                else:  # the same step, asked for by another finding too
                    self.groups[(manager, operation, seen[1])].append(("", code, action.why))
                continue
            self.names[(manager, operation, name)] = (item, action.options)
            self.groups.setdefault(key, []).append((item, code, action.why))


def _conda_name(spec: str) -> str:
    return canonicalize_name(re.split(r"[=<> ]", spec, maxsplit=1)[0])


def _conda_program(s: Snapshot) -> Optional[str]:
    """The conda that manages the target: CONDA_EXE (what the shell hook runs), on PATH, else
    in a conda installation found."""
    exe = s.environ.get("CONDA_EXE")
    if exe and exe.startswith("/"):
        return exe
    command = s.command("conda")
    if command is not None and command.path:
        return command.path
    for root in s.conda.roots:
        return posixpath.join(root, "condabin", "conda")
    return None


def build_plan(report: Report, *, force: bool = False, info: bool = False) -> Plan:
    """The plan for the report's target environment: its errors and warnings (and, with
    ``info``, the findings that are only worth knowing)."""
    s = report.snapshot
    env = s.target_env
    kind = env.kind if env is not None else "unknown"
    prefix = s.target.prefix
    python = s.target.interpreter.path if s.target.interpreter else None
    variables = _Variables()
    packages = _Packages()
    settings: dict[str, SettingStep] = {}
    manual: list[ManualStep] = []
    known: set[str] = set()
    codes: list[str] = []
    for f in report.findings:
        if f.severity == "info" and not info:
            continue
        if not f.actions:
            # Nothing cudaenv can do itself: the finding's own fix, for the person.
            for text in f.fix:
                if text not in known:
                    known.add(text)
                    manual.append(ManualStep(text, "user", (f.code,)))
            continue
        for action in f.actions:
            if f.code not in codes:
                codes.append(f.code)
            if action.kind in ("set-var", "unset-var", "prepend-path", "drop-path"):
                variables.add(action, f.code)
            elif action.kind in ("pip-install", "pip-uninstall"):
                packages.add("pip", action.kind.split("-", 1)[1], action, f.code)
            elif action.kind == "python":
                packages.add("python", "run", action, f.code)
            elif action.kind in ("conda-install", "conda-remove"):
                operation = "install" if action.kind == "conda-install" else "uninstall"
                packages.add("conda", operation, action, f.code)
            elif action.kind == "set-pyvenv" and prefix and action.name and action.value:
                path = posixpath.join(prefix, "pyvenv.cfg")
                settings.setdefault(
                    action.name,
                    SettingStep(path, action.name, action.value, (f.code,), (action.why,)),
                )
            elif action.kind == "manual" and action.value and action.value not in known:
                known.add(action.value)
                manual.append(ManualStep(action.value, action.scope, (f.code,)))
    steps: list[PackageStep] = []
    # `python -m ensurepip` first: every pip step after it needs the pip it installs
    order = {
        ("python", "run"): 0,
        ("pip", "uninstall"): 1,
        ("conda", "uninstall"): 2,
        ("conda", "install"): 3,
    }
    for (manager, operation, options), items in sorted(
        packages.groups.items(), key=lambda kv: order.get(kv[0][:2], 4)
    ):
        names = tuple(item for item, _, _ in items if item)
        argv: tuple[str, ...]
        if manager == "pip":
            argv = (python or "python", "-m", "pip", operation)
            argv += ("-y", *names) if operation == "uninstall" else (*options, *names)
        elif manager == "python":
            argv = (python or "python", *options)
        else:
            verb = "install" if operation == "install" else "remove"
            program = _conda_program(s)
            if program is None:  # nothing here runs conda: a step for the person
                text = f"conda {verb} -p {prefix or '<env>'} {' '.join((*options, *names))}"
                manual.append(ManualStep(text, "user", tuple(c for _, c, _ in items)))
                continue
            argv = (program, verb, "-y", "-p", prefix or "", *options, *names)
        steps.append(
            PackageStep(
                manager,
                operation,
                argv,
                names,
                tuple(dict.fromkeys(code for _, code, _ in items)),
                tuple(dict.fromkeys(why for _, _, why in items if why)),
            )
        )
    return Plan(
        prefix=prefix,
        env_kind=kind,
        env_label=_label(s),
        python=python,
        persistence=PERSISTENT_KINDS.get(kind),
        protected=kind in _PROTECTED_KINDS and not force,
        packages=tuple(steps),
        settings=tuple(settings.values()),
        variables=tuple(variables.changes.values()),
        manual=tuple(manual),
        conflicts=tuple(variables.conflicts + packages.conflicts),
        codes=tuple(codes),
    )


def _label(s: Snapshot) -> str:
    from .._describe import env_label  # noqa: PLC0415

    return env_label(s.target_env, s.target.prefix)
