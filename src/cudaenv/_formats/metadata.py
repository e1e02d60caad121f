"""Distribution metadata: ``*.dist-info`` directory names and the header block of METADATA."""

from __future__ import annotations

import functools
import re
from typing import Optional

__all__ = ["canonicalize_name", "parse_dist_dirname", "parse_metadata_headers", "requirement_name"]

_NON_ALNUM = re.compile(r"[-_.]+")
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@functools.lru_cache(maxsize=8192)
def canonicalize_name(name: str) -> str:
    """PEP 503 normalisation: ``Nvidia_CUBLAS.cu12`` and ``nvidia-cublas-cu12`` are one name."""
    return _NON_ALNUM.sub("-", name).lower()


def requirement_name(requirement: str) -> Optional[str]:
    """The distribution name at the start of a ``Requires-Dist`` value."""
    match = _REQ_NAME.match(requirement)
    return canonicalize_name(match.group(1)) if match else None


@functools.lru_cache(maxsize=8192)  # the same names recur in every environment
def parse_dist_dirname(dirname: str) -> Optional[tuple[str, str]]:
    """``torch-2.1.0.dist-info`` → (``torch``, ``2.1.0``); egg-info names too."""
    for suffix in (".dist-info", ".egg-info"):
        if dirname.endswith(suffix):
            stem = dirname[: -len(suffix)]
            break
    else:
        return None
    name, sep, rest = stem.partition("-")
    if not name:
        return None
    if not sep:
        return name, ""
    version = rest.split("-", 1)[0]  # egg-info: name-version-py3.X
    return name, version


def parse_metadata_headers(text: str) -> dict[str, list[str]]:
    """The RFC 822 header block of METADATA / PKG-INFO: field name → values, in order.

    Only the header block is read (the body holds the long description).  Continuation
    lines (starting with whitespace) extend the previous value.
    """
    fields: dict[str, list[str]] = {}
    last: Optional[list[str]] = None
    for line in text.splitlines():
        if not line.strip():
            break
        if line[0] in " \t" and last is not None:
            last[-1] = last[-1] + " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            last = None
            continue
        last = fields.setdefault(key.strip().lower(), [])
        last.append(value.strip())
    return fields
