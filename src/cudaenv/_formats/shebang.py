"""``#!`` lines of console scripts, including pip's ``/bin/sh`` trampoline for long paths."""

from __future__ import annotations

import re
import shlex
from typing import Optional

from .._records import record

__all__ = ["Shebang", "parse_shebang"]

# pip/distlib write this second line when the interpreter path is too long or has spaces:
#   #!/bin/sh
#   '''exec' "/very/long/path/bin/python3.12" "$0" "$@"
_TRAMPOLINE = re.compile(r"""^'''exec'\s+(?:"([^"]+)"|(\S+))\s+"\$0"\s+"\$@"\s*$""")


@record
class Shebang:
    line: str
    """The first line, as written."""
    interpreter: str
    """The program named by the line (or by the trampoline)."""
    env_lookup: Optional[str] = None
    """For ``#!/usr/bin/env NAME``: NAME, which the kernel finds on PATH at run time."""


def parse_shebang(text: str) -> Optional[Shebang]:
    """The interpreter a script runs under, or ``None`` when the text has no ``#!`` line."""
    if not text.startswith("#!"):
        return None
    lines = text.split("\n", 2)
    first = lines[0].rstrip("\r")
    body = first[2:].strip()
    if not body:
        return None
    program, _, rest = body.partition(" ")
    if program.endswith("/sh") and len(lines) > 1:
        match = _TRAMPOLINE.match(lines[1].rstrip("\r"))
        if match:
            return Shebang(first, match.group(1) or match.group(2))
    if program.endswith("/env"):
        try:
            words = shlex.split(rest)
        except ValueError:
            words = rest.split()
        for word in words:
            if word.startswith("-") or "=" in word:
                continue  # env's own options (-S, -i) and VAR=value assignments
            return Shebang(first, program, env_lookup=word)
        return Shebang(first, program)
    return Shebang(first, program)
