"""Asking the real glibc loader which files it tried, in order, and which one it opened.

``LD_DEBUG=libs`` prints a ``find library=NAME`` block per search with one ``trying
file=PATH`` line per attempt; the last attempt of a successful search is the file opened.
(Its "search path=... (RPATH from file X)" labels are not used: glibc keeps one record per
directory, labelled by whichever list named it first, so the label can name the wrong rule.)
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


@dataclass
class RealSearch:
    tried: list[str] = field(default_factory=list)
    opened: Optional[str] = None


def real_searches(program: Path, env: dict[str, str], cwd: Path) -> dict[str, RealSearch]:
    """name → what the real loader tried and opened, running ``program`` (the tests' own)."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LD_DEBUG": "libs", **env}
    result = subprocess.run(
        [str(program)],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    searches: dict[str, RealSearch] = {}
    current: Optional[RealSearch] = None
    for line in result.stderr.splitlines():
        body = re.sub(r"^\s*\d+:\s*", "", line)
        if body.startswith("find library="):
            current = searches.setdefault(
                body[len("find library=") :].split(" ", 1)[0], RealSearch()
            )
        elif body.startswith("trying file=") and current is not None:
            path = body[len("trying file=") :]
            current.tried.append(os.path.normpath(os.path.join(cwd, path)))
        elif not body.strip() and current is not None:
            current.opened = current.tried[-1] if current.tried else None
            current = None
    failed = re.findall(
        r"error while loading shared libraries: ([^:]+): cannot open", result.stderr
    )
    for name in failed:
        searches.setdefault(name, RealSearch()).opened = None
    return searches


def existing_dir_attempts(paths: list[str]) -> list[str]:
    """Attempts in directories that exist: glibc drops missing directories after one try."""
    return [p for p in paths if os.path.isdir(os.path.dirname(p))]
