"""Running a command for the user (``cudaenv run``): their command, the corrected environment,
its exit status passed through."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

from ..errors import CommandNotRunError

__all__ = ["run_command"]


def run_command(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    try:
        done = subprocess.run(list(argv), env=dict(environ), check=False)
    except FileNotFoundError:
        raise CommandNotRunError(f"{argv[0]}: command not found", 127) from None
    except PermissionError:
        raise CommandNotRunError(f"{argv[0]}: permission denied", 126) from None
    return done.returncode
