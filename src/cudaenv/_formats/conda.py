"""conda's own files: conda-meta record names, ``environments.txt`` and ``.condarc`` envs_dirs."""

from __future__ import annotations

import re
from typing import Optional

__all__ = ["parse_conda_meta_filename", "parse_condarc_list", "parse_environments_txt"]


def parse_conda_meta_filename(filename: str) -> Optional[tuple[str, str, str]]:
    """``pytorch-2.1.0-py3.11_cuda12.1_cudnn8_0.json`` → (name, version, build).

    Names may contain ``-``; versions and build strings never do, so the last two dashes split.
    """
    if not filename.endswith(".json"):
        return None
    stem = filename[:-5]
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None
    name, version, build = parts
    return name, version, build


def parse_environments_txt(text: str) -> list[str]:
    """One prefix per line; blank lines and comments are skipped, as conda does."""
    prefixes = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            prefixes.append(line)
    return prefixes


_FLOW = re.compile(r"^\[(.*)\]$")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def parse_condarc_list(text: str, key: str) -> list[str]:
    """The string items of one top-level list key of a ``.condarc`` (a YAML subset).

    Handles the two shapes conda documents: a block list (``key:`` then ``- item`` lines) and
    a flow list (``key: [a, b]``).  Anything richer is ignored rather than guessed.
    """
    items: list[str] = []
    in_block = False
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if in_block:
            if stripped.startswith("-"):
                item = stripped[1:].strip()
                if item:
                    items.append(_unquote(item))
                continue
            in_block = False
        if line[0].isspace():
            continue
        name, sep, value = stripped.partition(":")
        if sep and name.strip() == key:
            value = value.strip()
            flow = _FLOW.match(value)
            if flow:
                items.extend(_unquote(v) for v in flow.group(1).split(",") if v.strip())
            elif not value:
                in_block = True
    return items
