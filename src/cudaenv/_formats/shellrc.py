"""``alias`` lines of shell start-up files (bash, zsh)."""

from __future__ import annotations

import re
import shlex

__all__ = ["parse_aliases"]

_ALIAS = re.compile(r"^\s*alias\s+(.+)$")
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


def parse_aliases(text: str) -> list[tuple[str, str, int]]:
    """(name, value, line number) for every ``alias name=value`` definition, in file order."""
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _ALIAS.match(raw)
        if not match:
            continue
        try:
            words = shlex.split(match.group(1), comments=True)
        except ValueError:
            continue
        for word in words:
            name, sep, value = word.partition("=")
            if sep and _NAME.match(name):
                found.append((name, value, number))
    return found
