"""Writing a report or snapshot where ``-o FILE`` says, without harming what is there.

* ``-`` is standard output.
* A regular file (or a new name in an existing directory) is replaced atomically: a
  temporary file beside it, then a rename; the new file gets the mode the umask gives.
* Anything else that exists is never renamed over: a FIFO, a character device or a socket is
  written through by opening it (``/dev/stdout``, a named pipe with a reader); a directory is
  refused; a symbolic link is refused unless ``force`` (then what it points to is written).
* A missing parent directory is an error: no directories are made.

Every failure is an :class:`OutputError` with one line to show (a full disk, a closed pipe,
a FIFO nobody reads).
"""

from __future__ import annotations

import errno
import os
import stat
from typing import TextIO

from ._fix.journal import atomic_write
from .errors import CudaenvError

__all__ = ["OutputError", "write_text"]


class OutputError(CudaenvError):
    """The output could not be written where it was asked to go (exit status 2)."""


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EPIPE:
        return "the reader closed the pipe"
    if exc.errno == errno.ENXIO:
        return "a FIFO with no reader"
    return exc.strerror or str(exc)


def _write_through(path: str, data: bytes) -> None:
    """Open what is there and write into it: a FIFO, a device, a socket."""
    # O_NONBLOCK: a FIFO nobody reads fails at once (ENXIO) instead of hanging
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def _replace(path: str, data: bytes) -> None:
    """Atomically, as ``fix --apply`` writes (a temporary beside it, fsync, rename), with the
    mode the umask gives a new file."""
    umask = os.umask(0)
    os.umask(umask)
    atomic_write(os.path.abspath(path), data, mode=0o666 & ~umask)


def write_text(text: str, output: str, stdout: TextIO, *, force: bool = False) -> bool:
    """Write ``text`` to ``output``; True when a file was written (not standard output)."""
    if output == "-":
        stdout.write(text)
        return False
    data = text.encode()
    try:
        info = os.lstat(output)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"{output}: {_reason(exc)}") from None
    try:
        if info is not None and stat.S_ISLNK(info.st_mode):
            if not force:
                raise OutputError(
                    f"{output} is a symbolic link: not written (--force writes where it points)"
                )
            target = os.path.realpath(output)
            return write_text(text, target, stdout, force=False)
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{output} is a directory")
        if info is not None and not stat.S_ISREG(info.st_mode):
            _write_through(output, data)
            return True
        parent = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(parent):
            raise OutputError(f"{output}: no such directory {parent}")
        _replace(output, data)
    except OSError as exc:
        raise OutputError(f"{output}: {_reason(exc)}") from None
    return True
