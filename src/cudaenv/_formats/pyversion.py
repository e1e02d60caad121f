"""Python versions as they appear in file names: ``python3.12``, ``lib/python3.11``."""

from __future__ import annotations

import re
from typing import Optional

__all__ = ["version_from_executable_name", "version_in_path", "version_tuple"]

_EXE = re.compile(r"^python(\d+)\.(\d+)t?$")
_LIB = re.compile(r"/lib(?:64)?/python(\d+)\.(\d+)t?(?:/|$)")


def version_from_executable_name(name: str) -> Optional[str]:
    match = _EXE.match(name)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def version_in_path(path: str) -> Optional[str]:
    """The ``X.Y`` of a ``lib/pythonX.Y`` component, e.g. in a site-packages path."""
    match = _LIB.search(path)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group(0)))
    return tuple(parts)
