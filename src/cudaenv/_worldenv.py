"""The world a cudaenv command diagnoses when none is named: ``CUDAENV_ROOT`` and
``CUDAENV_ENV_FILE`` (a container that sees its host at /host, a fleet's Dask worker), else
this machine.  Standard library only: a Dask worker imports it through ``_fleetnode``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

__all__ = ["ENV_FILE_VARIABLE", "ROOT_VARIABLE", "default_env_file", "default_root"]

ROOT_VARIABLE, ENV_FILE_VARIABLE = "CUDAENV_ROOT", "CUDAENV_ENV_FILE"


def default_root(environ: Mapping[str, str]) -> str:
    return environ.get(ROOT_VARIABLE) or "/"


def default_env_file(environ: Mapping[str, str]) -> Optional[str]:
    return environ.get(ENV_FILE_VARIABLE) or None
