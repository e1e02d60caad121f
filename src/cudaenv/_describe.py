"""Environments and interpreters described in words, for findings and renderers alike."""

from __future__ import annotations

import posixpath
from typing import Optional

from .snapshot import Environment, Interpreter, LiveCheck, Snapshot

__all__ = ["env_label", "env_name", "gpu_warning", "interp_label", "live_summary"]


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


def gpu_warning(check: LiveCheck) -> Optional[str]:
    """The first warning a framework gave about CUDA, the driver or the GPU."""
    for warning in check.answer.get("warnings") or []:
        if any(word in str(warning) for word in ("CUDA", "cuda", "driver", "GPU", "NVIDIA")):
            return str(warning)
    return None


def live_summary(check: LiveCheck) -> str:
    """One line: what the child answered."""
    a = check.answer
    if check.subject == "driver":
        if check.error and not a.get("cuda_version"):
            return f"driver: {check.error}"
        devices = ", ".join(
            f"{d.get('name')} ({d.get('capability')})" for d in a.get("devices") or []
        )
        text = f"driver: CUDA {a.get('cuda_version', '?')}"
        if a.get("driver_version"):
            text += f", NVML driver {a['driver_version']}"
        if check.error:
            text += f"; {check.error}"
        return text + (f"; {devices}" if devices else "")
    if check.error:
        return f"{check.subject}: {check.error} ({check.seconds:.1f} s)"
    text = f"{check.subject} {a.get('version', '?')}: GPU "
    text += "available" if a.get("available") else "NOT available"
    if a.get("kernel") and a.get("kernel") != "ok":
        text += f"; a kernel failed: {a['kernel']}"
    elif a.get("kernel") == "ok":
        text += ", a kernel ran"
    if a.get("arch_list"):
        text += f"; built for {' '.join(a['arch_list'])}"
    warning = gpu_warning(check)
    if warning and not a.get("available"):
        text += f"; it warned: {warning}"
    return text + f" ({check.seconds:.1f} s)"
