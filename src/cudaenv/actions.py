"""What a fix does, as data.

A finding's ``fix`` tells a person what to do; its ``actions`` say the same to ``cudaenv fix``:
set or unset a variable for one environment, put directories first on (or take them off) a
path variable, install or remove packages with that environment's own pip or conda, change a
``pyvenv.cfg`` key, or — for what only the user or an administrator can do (a driver, a
reboot, a container's flags) — a manual step.  Plans merge the actions of every finding.
"""

from __future__ import annotations

from typing import Optional

from ._records import record

__all__ = [
    "ENV_SCOPED_KINDS",
    "KINDS",
    "Action",
    "conda_install",
    "drop_path",
    "manual",
    "pip_install",
    "pip_uninstall",
    "prepend_path",
    "run_python",
    "set_pyvenv",
    "set_var",
    "unset_var",
]

KINDS = (
    "set-var",
    "unset-var",
    "prepend-path",
    "drop-path",
    "pip-install",
    "pip-uninstall",
    "python",
    "conda-install",
    "conda-remove",
    "set-pyvenv",
    "manual",
)
ENV_SCOPED_KINDS = frozenset(KINDS) - {"manual"}
"""Kinds that change only the target environment (its files, its activation, its packages)."""


@record
class Action:
    kind: str
    """One of :data:`KINDS`."""
    name: Optional[str] = None
    """The variable (set-var, unset-var, prepend-path, drop-path) or pyvenv.cfg key."""
    value: Optional[str] = None
    """The variable's or key's new value; for manual, the instruction."""
    items: tuple[str, ...] = ()
    """Path entries (prepend-path, drop-path), requirements/package names, or the arguments
    the environment's own python runs (python: ``-m ensurepip --upgrade --default-pip``)."""
    options: tuple[str, ...] = ()
    """Extra pip/conda arguments: ``--index-url URL``, ``--force-reinstall``, ``-c channel``."""
    why: str = ""
    scope: str = "env"
    """env (the target environment only), user or system (manual steps)."""


def set_var(name: str, value: str, why: str) -> Action:
    return Action("set-var", name=name, value=value, why=why)


def unset_var(name: str, why: str) -> Action:
    return Action("unset-var", name=name, why=why)


def prepend_path(name: str, entries: tuple[str, ...], why: str) -> Action:
    return Action("prepend-path", name=name, items=entries, why=why)


def drop_path(name: str, entries: tuple[str, ...], why: str) -> Action:
    return Action("drop-path", name=name, items=entries, why=why)


def pip_install(requirements: tuple[str, ...], why: str, *options: str) -> Action:
    return Action("pip-install", items=requirements, options=options, why=why)


def pip_uninstall(names: tuple[str, ...], why: str) -> Action:
    return Action("pip-uninstall", items=names, why=why)


def run_python(args: tuple[str, ...], why: str) -> Action:
    return Action("python", items=args, why=why)


def conda_install(specs: tuple[str, ...], why: str, *options: str) -> Action:
    return Action("conda-install", items=specs, options=options, why=why)


def set_pyvenv(key: str, value: str, why: str) -> Action:
    return Action("set-pyvenv", name=key, value=value, why=why)


def manual(text: str, why: str = "", scope: str = "system") -> Action:
    return Action("manual", value=text, why=why, scope=scope)
