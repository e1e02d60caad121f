"""Jupyter kernels that carry an environment's name but run something else."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from ..findings import Finding
from ..snapshot import Environment, Kernelspec, Snapshot
from ._common import env_label, finding, interp_label, quote

__all__ = ["kernel_other_interpreter"]

_WORDS = re.compile(r"[a-z0-9]+")
_GENERIC = frozenset({"python", "python3", "py", "kernel", "ipykernel", "conda", "env", "venv"})


def _tokens(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def _env_names(env: Environment) -> list[list[str]]:
    names = {env.name or "", posixpath.basename(env.prefix)}
    if posixpath.basename(env.prefix) in (".venv", "venv", "env", ".env"):
        names.add(posixpath.basename(posixpath.dirname(env.prefix)))
    result = []
    for name in names:
        tokens = _tokens(name)
        if tokens and not set(tokens) <= _GENERIC:
            result.append(tokens)
    return result


def _named_for(kernel: Kernelspec, names: list[list[str]]) -> bool:
    for text in (kernel.name, kernel.display_name or ""):
        tokens = [t for t in _tokens(text) if t not in _GENERIC]
        for name in names:
            if tokens == name:
                return True
            width = len(name)
            if any(tokens[i : i + width] == name for i in range(len(tokens) - width + 1)) and (
                len(tokens) <= width + 1
            ):
                return True
    return False


def kernel_other_interpreter(s: Snapshot) -> Iterator[Finding]:
    env = s.target_env
    if env is None or env.python is None:
        return
    names = _env_names(env)
    if not names:
        return
    for kernel in s.kernels:
        interp = kernel.interpreter
        if interp is None or not _named_for(kernel, names):
            continue
        if interp.exists and interp.prefix == env.prefix:
            continue
        runs = interp_label(s, interp)
        label = kernel.display_name or kernel.name
        yield finding(
            "kernel-other-interpreter",
            f'The Jupyter kernel "{label}" does not run {env_label(env)}',
            f'The kernelspec "{kernel.name}" is named for this environment, but its argv '
            f"starts {runs}. Notebooks using it import from there, not from the environment "
            "you install into.",
            [
                f"{kernel.path}: argv[0] = {kernel.argv[0] if kernel.argv else '?'}",
                f"environment python: {env.python}",
            ],
            [
                f"{quote(env.python)} -m pip install ipykernel",
                (
                    f"{quote(env.python)} -m ipykernel install --user --name {quote(kernel.name)} "
                    f'--display-name "{label}"    # rewrites the kernelspec to this Python'
                ),
            ],
            severity="error" if not interp.exists else None,
        )
