"""Apply a plan under a journal, and undo the last apply.

An apply first rolls back an apply that was interrupted (its journal still says
*applying*), then runs the package commands, then writes the files (activation hooks, the
``.pth`` hook, ``pyvenv.cfg``).  Every path written is checked to lie inside the environment;
a shared environment (conda base, a system Python) is refused without ``force``.  Applying
the same plan again changes nothing.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from typing import Optional

from .._records import field, record
from ..errors import FixRefusedError, UsageError
from .environ import apply_variables
from .journal import JOURNAL_DIR, Journal, journals, unsafe_target
from .packages import run_package_step, undo_package_step
from .persist import file_changes
from .plan import Plan

__all__ = ["ApplyResult", "UndoResult", "apply_plan", "recover", "undo_last"]


@record
class ApplyResult:
    journal: Optional[str] = None
    files: tuple[str, ...] = ()
    commands: tuple[tuple[str, int, str], ...] = ()
    """(command line, exit status, last lines of output)."""
    notes: tuple[str, ...] = ()
    recovered: tuple[str, ...] = ()
    failed: bool = False


@record
class UndoResult:
    journal: Optional[str] = None
    files: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    state: str = "nothing"
    """nothing (no journal), undone, or rolled-back (an interrupted apply)."""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _inside(prefix: str, path: str) -> bool:
    real_prefix = os.path.realpath(prefix)
    real = os.path.realpath(posixpath.dirname(path))
    return real == real_prefix or real.startswith(real_prefix + "/")


def _undo(journal: Journal, environ: Mapping[str, str]) -> tuple[list[str], list[str]]:
    files = journal.undo_files()
    packages = []
    for step in reversed(journal.steps):
        if step.get("op") in ("pip", "python", "conda") and step.get("state") != "undone":
            packages.append(undo_package_step(step, journal.data["prefix"], environ))
            step["state"] = "undone"
            journal.save()
    return files, packages


def recover(prefix: str, environ: Mapping[str, str]) -> list[str]:
    """Roll back an apply that did not finish; the files it restored."""
    for journal in journals(prefix):
        if journal.state == "applying":
            files, _ = _undo(journal, environ)
            journal.discard()
            return files
        break
    return []


def _unwritable(path: str) -> Optional[str]:
    """The directory that keeps ``path`` from being written (created or replaced by rename)
    by this user, or None: the nearest existing one, which must be writable."""
    directory = posixpath.dirname(path)
    while directory and not os.path.isdir(directory):
        parent = posixpath.dirname(directory)
        if parent == directory:
            break
        directory = parent
    if directory and not os.access(directory, os.W_OK | os.X_OK):
        return directory
    return None


def apply_plan(plan: Plan, environ: Mapping[str, str], *, force: bool = False) -> ApplyResult:
    prefix = plan.prefix
    if prefix is None:
        return ApplyResult(notes=("no environment to change",))
    if plan.protected and not force:
        raise UsageError(
            f"{plan.env_label} is shared by everything on the machine: cudaenv changes it only "
            "with --force"
        )
    recovered = recover(prefix, environ)
    changes, notes = file_changes(plan)
    targets = [c.path for c in changes]
    journal_dir = posixpath.join(prefix, JOURNAL_DIR)
    for path in (*targets, posixpath.join(journal_dir, "journal.json")):
        if not _inside(prefix, path):
            raise UsageError(f"refusing to write {path}: outside {prefix} (nothing was changed)")
    reasons = [(path, unsafe_target(path)) for path in targets]
    reasons += [
        (path, unsafe_target(path, directory=True))
        for path in (posixpath.dirname(journal_dir), journal_dir)
    ]
    for path, reason in reasons:
        if reason:
            raise UsageError(f"refusing to write {path}: {reason} (nothing was changed)")
    for path in (*targets, journal_dir) if changes or plan.packages else ():
        where = _unwritable(path)
        if where is not None:
            raise FixRefusedError(
                f"cannot write {where} as this user: nothing was changed (run as the "
                f"environment's owner, or recreate {prefix} as your own)"
            )
    if not changes and not plan.packages:
        return ApplyResult(notes=tuple(notes), recovered=tuple(recovered))
    journal = Journal.start(prefix, plan.codes)
    corrected, _ = apply_variables(environ, plan.variables)
    commands = []
    failed = False
    for step in plan.packages:
        status, output = run_package_step(journal, prefix, step.manager, step.argv, corrected)
        commands.append((" ".join(step.argv), status, output))
        if status != 0:
            failed = True
            break
    written = []
    if not failed:
        for change in changes:
            if journal.change_file(change.path, change.content, change.why):
                written.append(change.path)
    journal.finish()
    if not written and not commands:
        journal.discard()
        return ApplyResult(notes=(*notes, "already applied"), recovered=tuple(recovered))
    return ApplyResult(
        journal=journal.directory,
        files=tuple(written),
        commands=tuple(commands),
        notes=tuple(notes),
        recovered=tuple(recovered),
        failed=failed,
    )


def undo_last(prefix: str, environ: Mapping[str, str]) -> UndoResult:
    for journal in journals(prefix):
        if journal.state not in ("applying", "applied"):
            continue
        state = "rolled-back" if journal.state == "applying" else "undone"
        files, packages = _undo(journal, environ)
        directory = journal.directory
        journal.discard()
        return UndoResult(
            journal=directory, files=tuple(files), packages=tuple(packages), state=state
        )
    return UndoResult()
