"""Opening files that someone else's machine holds: regular files only, never blocking.

Shared by the probes (through ``Host``) and the fixer, which reads the files it is about to
change.  A FIFO or device node where a file belongs would block a reader or feed it forever;
one swapped in after a ``stat`` is caught by ``fstat`` on the open descriptor.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

__all__ = ["open_regular"]

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


def open_regular(path: str) -> BinaryIO:
    """``path`` opened for reading if it is a regular file; ``OSError`` otherwise."""
    if "\0" in path:  # os.open would raise ValueError: no file has such a name
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
    fd = os.open(path, _FLAGS)
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        os.close(fd)
        raise
    if not regular:
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", path)
    return os.fdopen(fd, "rb")
