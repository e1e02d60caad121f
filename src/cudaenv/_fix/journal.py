"""Every change an apply makes, written down before it is made, so that undo — or recovery
after the apply was killed at any instant — restores each file byte for byte.

A journal is a directory inside the environment, ``<prefix>/.cudaenv/journal/<id>/``:
``journal.json`` (replaced atomically after every step) and ``files/<n>``, the original of
each file step ``n`` changed.  The protocol for one file:

1. copy the original into ``files/<n>`` (atomically) and record the step as *planned*;
2. write the new content to a temporary file beside the target, fsync, rename over it;
3. record the step as *done*.

A crash between any two instructions leaves the target either old or new — never half
written — and the journal knowing enough to restore the old: undo restores (or removes) every
planned or done step, newest first, and sweeps temporary files.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import shutil
import stat
import time
from collections.abc import Iterator
from typing import Any, Optional

from .._safeio import open_regular

__all__ = ["JOURNAL_DIR", "Journal", "atomic_write", "journals"]

JOURNAL_DIR = posixpath.join(".cudaenv", "journal")
_TMP_SUFFIX = ".cudaenv-tmp"
_crash_counter = [0]


def _crash_point() -> None:
    """Tests kill the apply at the N-th point (CUDAENV_TEST_CRASH_AT=N)."""
    limit = os.environ.get("CUDAENV_TEST_CRASH_AT")
    if not limit:
        return
    _crash_counter[0] += 1
    if _crash_counter[0] >= int(limit):
        os._exit(137)


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


MAX_EDITED_BYTES = 16 << 20
"""Larger than any activation script or .pth file: not a file cudaenv would edit."""

_KINDS = (
    (stat.S_ISREG, "a file"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def unsafe_target(path: str, *, directory: bool = False) -> Optional[str]:
    """Why cudaenv must not write ``path`` (None when it may): only absent paths and regular
    files of a plausible size (with ``directory``: directories) are written into, never what
    a link points at."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc.strerror or "unreadable"
    if directory and stat.S_ISDIR(st.st_mode):
        return None
    if not directory and stat.S_ISREG(st.st_mode):
        if st.st_size > MAX_EDITED_BYTES:
            return f"it is {st.st_size} bytes, not a file cudaenv edits"
        return None
    kind = next((kind for test, kind in _KINDS if test(st.st_mode)), "something else")
    where = f" to {os.readlink(path)}" if stat.S_ISLNK(st.st_mode) else ""
    return f"it is {kind}{where}, not a {'directory' if directory else 'regular file'}"


def atomic_write(path: str, data: bytes, mode: Optional[int] = None) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old file or the new, never a
    part: write a temporary file beside it, fsync, rename."""
    directory = posixpath.dirname(path)
    os.makedirs(directory, exist_ok=True)
    temporary = path + _TMP_SUFFIX
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)  # a leftover of a crash; a link there is removed, never followed
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        _crash_point()
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if mode is not None:
        os.chmod(temporary, mode)
    _crash_point()
    os.replace(temporary, path)
    _fsync_dir(directory)


class Journal:
    """One apply's record of changes."""

    def __init__(self, directory: str, data: dict[str, Any]) -> None:
        self.directory = directory
        self.data = data

    # -- creating and loading ---------------------------------------------------------------

    @classmethod
    def start(cls, prefix: str, codes: tuple[str, ...]) -> Journal:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        directory = posixpath.join(prefix, JOURNAL_DIR, f"{stamp}-{os.getpid()}")
        os.makedirs(posixpath.join(directory, "files"), exist_ok=True)
        journal = cls(
            directory,
            {
                "schema": "cudaenv.journal/1",
                "prefix": prefix,
                "started": stamp,
                "state": "applying",
                "codes": list(codes),
                "steps": [],
            },
        )
        journal.save()
        return journal

    @classmethod
    def load(cls, directory: str) -> Journal:
        with open(posixpath.join(directory, "journal.json"), encoding="utf-8") as handle:
            return cls(directory, json.load(handle))

    def save(self) -> None:
        text = json.dumps(self.data, indent=2, sort_keys=True) + "\n"
        atomic_write(posixpath.join(self.directory, "journal.json"), text.encode())

    @property
    def state(self) -> str:
        return str(self.data.get("state"))

    @property
    def steps(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = self.data["steps"]
        return steps

    # -- changing files -----------------------------------------------------------------------

    def change_file(self, path: str, content: Optional[bytes], why: str) -> bool:
        """Write (or with None remove) ``path``; False when it already is that way."""
        current = None
        if os.path.lexists(path):  # checked by safe_target before: a regular file
            with open_regular(path) as handle:
                current = handle.read()
        if current == content:
            return False
        number = len(self.steps) + 1
        created = []
        parent = posixpath.dirname(path)
        while not os.path.isdir(parent):
            created.append(parent)
            parent = posixpath.dirname(parent)
        step: dict[str, Any] = {
            "n": number,
            "op": "file",
            "path": path,
            "why": why,
            "existed": current is not None,
            "created_dirs": created,
            "state": "planned",
        }
        if current is not None:
            backup = posixpath.join(self.directory, "files", str(number))
            mode = os.stat(path).st_mode & 0o7777
            atomic_write(backup, current)
            step["backup"] = backup
            step["mode"] = mode
        self.steps.append(step)
        self.save()
        _crash_point()
        if content is None:
            os.remove(path)
            _fsync_dir(posixpath.dirname(path))
        else:
            atomic_write(path, content, step.get("mode", 0o644))
        _crash_point()
        step["state"] = "done"
        self.save()
        return True

    def record(self, step: dict[str, Any]) -> dict[str, Any]:
        """Add a non-file step (a package command) and save; the caller updates its state."""
        step["n"] = len(self.steps) + 1
        self.steps.append(step)
        self.save()
        return step

    def finish(self) -> None:
        self.data["state"] = "applied"
        self.data["finished"] = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self.save()

    # -- undoing ------------------------------------------------------------------------------

    def undo_files(self) -> list[str]:
        """Restore every file step, newest first: ``restored: PATH`` or ``removed: PATH``."""
        touched = []
        for step in reversed(self.steps):
            if step.get("op") != "file" or step.get("state") == "undone":
                continue
            path = step["path"]
            if os.path.lexists(path + _TMP_SUFFIX):
                os.remove(path + _TMP_SUFFIX)
            if step["existed"]:
                with open(step["backup"], "rb") as handle:
                    original = handle.read()
                atomic_write(path, original, step.get("mode"))
            elif os.path.lexists(path):
                os.remove(path)
            for directory in step.get("created_dirs", []):  # deepest first
                with contextlib.suppress(OSError):
                    os.rmdir(directory)
            step["state"] = "undone"
            self.save()
            touched.append(f"{'restored' if step['existed'] else 'removed'}: {path}")
        return touched

    def discard(self) -> None:
        """Remove this journal (after a complete undo, or when the apply changed nothing), and
        the journal directories it leaves empty: the environment is as it was."""
        shutil.rmtree(self.directory, ignore_errors=True)
        for directory in (
            posixpath.join(self.data["prefix"], JOURNAL_DIR),
            posixpath.join(self.data["prefix"], ".cudaenv"),
        ):
            with contextlib.suppress(OSError):
                os.rmdir(directory)


def journals(prefix: str) -> Iterator[Journal]:
    """The environment's journals, newest first."""
    base = posixpath.join(prefix, JOURNAL_DIR)
    try:
        names = sorted(os.listdir(base), reverse=True)
    except OSError:
        return
    for name in names:
        directory = posixpath.join(base, name)
        try:
            yield Journal.load(directory)
        except (OSError, ValueError):
            # An apply killed before it recorded its first step changed nothing else: its
            # journal directory is all there is to take back.
            if not os.path.exists(posixpath.join(directory, "journal.json")):
                Journal(directory, {"prefix": prefix}).discard()
