"""Environments and interpreters described in words, for findings and renderers alike."""

from __future__ import annotations

import posixpath
from typing import Optional

from .snapshot import Environment, Interpreter, Snapshot

__all__ = ["env_label", "env_name", "interp_label"]


def env_name(env: Optional[Environment], prefix: Optional[str] = None) -> str:
    """A short name for titles: ``conda env "ml"``, ``venv /srv/app/.venv``, ``conda base``."""
    if env is None:
        return prefix or "an unknown location"
    if env.kind == "conda-base":
        return "conda base"
    if env.kind in ("conda-env", "pixi") and env.name:
        return f'{"conda" if env.kind == "conda-env" else "pixi"} env "{env.name}"'
    return env_label(env, prefix)


def env_label(env: Optional[Environment], prefix: Optional[str] = None) -> str:
    """``conda env "ml" (/opt/conda/envs/ml)``, ``venv /srv/app/.venv`` ..."""
    if env is None:
        return prefix or "an unknown location"
    where = env.prefix
    if env.kind == "conda-base":
        return f"conda base ({where})"
    if env.kind == "conda-env":
        return f'conda env "{env.name}" ({where})' if env.name else f"conda env {where}"
    if env.kind == "pixi":
        return f'pixi env "{env.name}" ({where})'
    if env.kind == "venv":
        return f"venv {where}"
    if env.kind == "pyenv":
        return f"pyenv Python {posixpath.basename(where)} ({where})"
    if env.kind == "system":
        return f"the system Python ({where})"
    if env.kind == "missing":
        return f"{where} (which does not exist)"
    return where


def interp_label(s: Snapshot, interp: Optional[Interpreter]) -> str:
    if interp is None:
        return "no interpreter"
    if not interp.exists:
        return f"{interp.path}, which does not exist"
    env = s.environments.get(interp.prefix) if interp.prefix else None
    version = f"Python {interp.version}, " if interp.version else ""
    return f"{interp.path} ({version}{env_label(env, interp.prefix)})"
