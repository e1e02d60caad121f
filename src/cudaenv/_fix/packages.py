"""Package commands under the journal: pip with a byte-for-byte way back, conda by revision.

Before a pip command, every file of every installed distribution (its RECORD) is hard-linked
into the journal — cheap, on the same filesystem, and the old bytes survive whatever pip
deletes.  Afterwards the distributions are listed again; undo removes the files of those that
appeared or changed and links the old ones back.  A conda command records the environment's
revision (``conda-meta/history``) and is undone with ``conda install --revision``.
"""

from __future__ import annotations

import csv
import os
import posixpath
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

from .journal import Journal

__all__ = ["run_package_step", "undo_package_step"]


def _site_dirs(prefix: str) -> list[str]:
    lib = posixpath.join(prefix, "lib")
    try:
        names = sorted(os.listdir(lib))
    except OSError:
        return []
    found = []
    for name in names:
        site = posixpath.join(lib, name, "site-packages")
        if name.startswith("python") and os.path.isdir(site):
            found.append(site)
    return found


def _distributions(prefix: str) -> dict[str, list[str]]:
    """dist-info directory (relative to the prefix) → the files its RECORD lists (relative)."""
    found: dict[str, list[str]] = {}
    for site in _site_dirs(prefix):
        for name in sorted(os.listdir(site)):
            if not name.endswith(".dist-info"):
                continue
            files = [posixpath.join(site, name, "RECORD")]
            try:
                with open(posixpath.join(site, name, "RECORD"), encoding="utf-8") as handle:
                    for row in csv.reader(handle):
                        if row and row[0]:
                            files.append(posixpath.normpath(posixpath.join(site, row[0])))
            except OSError:
                pass
            found[posixpath.relpath(posixpath.join(site, name), prefix)] = [
                posixpath.relpath(f, prefix) for f in dict.fromkeys(files)
            ]
    return found


def _link_tree(prefix: str, files: list[str], backup: str) -> None:
    for relative in files:
        source = posixpath.join(prefix, relative)
        if not os.path.isfile(source) or os.path.islink(source):
            continue
        target = posixpath.join(backup, relative)
        if os.path.lexists(target):
            continue  # two distributions list one file (they overwrote each other)
        os.makedirs(posixpath.dirname(target), exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def _conda_revision(prefix: str) -> int:
    try:
        with open(posixpath.join(prefix, "conda-meta", "history"), encoding="utf-8") as handle:
            return sum(1 for line in handle if line.startswith("==>")) - 1
    except OSError:
        return -1


def run_package_step(
    journal: Journal,
    prefix: str,
    manager: str,
    argv: tuple[str, ...],
    environ: Mapping[str, str],
) -> tuple[int, str]:
    """Run one package command; (exit status, the last lines of its output)."""
    step: dict[str, Any] = {"op": manager, "argv": list(argv), "state": "planned"}
    if manager in ("pip", "python"):
        before = _distributions(prefix)
        backup = posixpath.join(journal.directory, f"pkgs-{len(journal.steps) + 1}")
        _link_tree(prefix, [f for files in before.values() for f in files], backup)
        step["before"] = before
        step["backup"] = backup
    else:
        step["revision"] = _conda_revision(prefix)
    journal.record(step)
    try:
        done = subprocess.run(
            list(argv),
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        step["state"] = "failed"
        step["status"] = 127
        journal.save()
        return 127, f"{argv[0]}: {exc.strerror or 'cannot run'}"
    if manager in ("pip", "python"):
        step["after"] = _distributions(prefix)
    step["state"] = "done" if done.returncode == 0 else "failed"
    step["status"] = done.returncode
    journal.save()
    output = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, "\n".join(output[-8:])


def undo_package_step(step: dict[str, Any], prefix: str, environ: Mapping[str, str]) -> str:
    """Put the environment's distributions back as they were before the step."""
    if step.get("op") == "conda":
        revision = step.get("revision", -1)
        if revision < 0:
            return "conda: no revision recorded; nothing undone"
        argv = [step["argv"][0], "install", "-y", "-p", prefix, "--revision", str(revision)]
        done = subprocess.run(argv, env=dict(environ), capture_output=True, text=True, check=False)
        return f"conda install --revision {revision}: exit {done.returncode}"
    before: dict[str, list[str]] = step.get("before", {})
    after: dict[str, list[str]] = step.get("after") or _distributions(prefix)
    backup = step["backup"]
    kept = frozenset(f for files in before.values() for f in files)
    removed = 0
    for dist, files in after.items():
        if before.get(dist) == files:
            continue
        for relative in files:
            path = posixpath.join(prefix, relative)
            if (os.path.isfile(path) or os.path.islink(path)) and relative not in kept:
                os.remove(path)
                removed += 1
    restored = 0
    for dist, files in before.items():
        if after.get(dist) == files:
            continue
        for relative in files:
            saved = posixpath.join(backup, relative)
            if not os.path.isfile(saved):
                continue
            target = posixpath.join(prefix, relative)
            os.makedirs(posixpath.dirname(target), exist_ok=True)
            if os.path.lexists(target):
                os.remove(target)
            try:
                os.link(saved, target)
            except OSError:
                shutil.copy2(saved, target)
            restored += 1
    _prune_empty_dirs(prefix, after, before)
    return f"pip: {removed} files removed, {restored} restored"


def _prune_empty_dirs(
    prefix: str, after: dict[str, list[str]], before: dict[str, list[str]]
) -> None:
    """Directories left empty by removing distributions that were not there before."""
    kept = {posixpath.dirname(f) for files in before.values() for f in files}
    candidates = {
        posixpath.dirname(f) for dist, files in after.items() if dist not in before for f in files
    }
    for directory in sorted(candidates, key=len, reverse=True):
        path = posixpath.join(prefix, directory)
        while directory and directory not in kept and path.startswith(prefix + "/"):
            try:
                os.rmdir(path)
            except OSError:
                break
            directory = posixpath.dirname(directory)
            path = posixpath.join(prefix, directory)
