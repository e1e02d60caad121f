"""The exception contract: every error cudaenv raises on purpose derives from CudaenvError.

Only the CLI turns these into messages and exit codes (see ``_cli.py``); library code raises.
"""

from __future__ import annotations

__all__ = [
    "CommandNotRunError",
    "CudaenvError",
    "FixRefusedError",
    "SnapshotFormatError",
    "UsageError",
    "WorldError",
]


class CudaenvError(Exception):
    """Base of every error cudaenv raises deliberately."""

    exit_status = 2
    """The status the command line exits with (usage and world errors: 2)."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


class UsageError(CudaenvError):
    """The command line asks for something impossible (exit status 2)."""


class WorldError(CudaenvError):
    """The machine or world to diagnose is unusable: a missing root, a malformed env file."""


class SnapshotFormatError(CudaenvError, ValueError):
    """A snapshot document does not match the snapshot schema cudaenv understands."""


class CommandNotRunError(CudaenvError):
    """A command given to ``cudaenv run``/``pip`` could not be started: the shell's statuses,
    127 (not found) and 126 (found, not executable)."""

    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.exit_status = exit_status


class FixRefusedError(CudaenvError):
    """``fix --apply`` will not change the environment (it may not write there, a target is
    not a file of its own ...): nothing was changed (exit status 2)."""
