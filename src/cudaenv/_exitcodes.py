"""What each command's exit status means, shown in its ``--help`` (one table, so the help and
the code cannot drift apart silently: tests/test_cli.py runs every command's help)."""

from __future__ import annotations

__all__ = ["EXIT_STATUS", "epilog"]

_COMMON = "2 usage error, unusable world or file (a one-line message); 3 internal error"

EXIT_STATUS = {
    "doctor": "0 a report was produced, whatever it found; 1 a finding at --fail-on or above",
    "which": "0 found (and for --all); 1 the loader would find nothing for NAME",
    "toolkits": "0 listed",
    "archs": "0 read (a corrupt section is reported on its file)",
    "demo": "0 shown or extracted; 1 a finding at --fail-on or above",
    "envs": "0 listed; 1 an environment has a finding at --fail-on or above",
    "fix": "0 planned (or applied); 1 a package step failed while applying",
    "undo": "0 undone, or nothing to undo",
    "env": "0 printed",
    "pip": "pip's own status (the dry run: 0)",
    "run": "the command's own status; 127 not found, 126 not executable",
    "snapshot": "0 written",
    "check": "0 a report was produced; 1 a finding at --fail-on or above",
    "diff": "0 the snapshots agree; 1 they differ",
    "explain": "0 explained",
    "fleet": "0 aggregated; 1 an outlier/failure/finding at --fail-on",
}


def epilog(command: str) -> str:
    own = EXIT_STATUS.get(command, "0 done")
    return f"exit status: {own}; {_COMMON}"
