"""The environment to diagnose: an explicit ``--python``/``--prefix``, else the activated venv
or conda env, else the ``python`` the shell would run."""

from __future__ import annotations

import os
import posixpath
import re
from typing import Optional

from .._formats.elffile import ELF_MAGIC
from .._host import Host
from ..errors import UsageError
from ..snapshot import Command, Environment, Target
from .commands import CommandProbe, read_aliases
from .conda import conda_setup
from .environments import EnvironmentReader

__all__ = ["choose_target", "choose_target_from"]


def choose_target(
    host: Host, *, python: Optional[str] = None, prefix: Optional[str] = None
) -> Target:
    """The target alone, as :func:`collect` chooses it, looking up only ``python``/``python3``."""
    reader = EnvironmentReader(host)
    probe = CommandProbe(host, reader, read_aliases(host, ("python", "python3")))
    commands = {name: probe.lookup(name) for name in ("python", "python3")}
    return choose_target_from(host, reader, commands, python, prefix)


def choose_target_from(
    host: Host,
    reader: EnvironmentReader,
    commands: dict[str, Command],
    python: Optional[str],
    prefix: Optional[str],
) -> Target:
    if python is not None and re.fullmatch(r"\d+(\.\d+)?", python):
        # a version, as uv's --python takes it: that pythonX.Y on PATH
        hits = host.which(f"python{python}", host.env_path_list("PATH"))
        if not hits:
            raise UsageError(f"--python {python}: no python{python} on PATH")
        python = hits[0]
    if prefix is not None and "/" not in prefix:
        prefix = _conda_env_named(host, reader, commands, prefix)
    if python is not None:
        path = _world_path(host, python)
        if not host.exists(path) and not host.is_link(path):
            raise UsageError(f"--python {python}: no such file")
        if host.is_dir(path):
            raise UsageError(f"--python {python}: a directory (give its interpreter, or --prefix)")
        # a pyenv shim runs what pyenv selects, as `python` on PATH does
        shim = CommandProbe(host, reader, []).resolve_shim(path)
        interpreter = reader.interpreter(shim or path)
        if not interpreter.version and not _looks_like_python(host, path):
            raise UsageError(f"--python {python}: not a Python interpreter")
        return Target("--python", interpreter.prefix, interpreter, python)
    if prefix is not None:
        path = _world_path(host, prefix)
        if not host.is_dir(path):
            raise UsageError(f"--prefix {prefix}: no such directory")
        resolved = host.resolve(path) or path
        return _env_target(reader, resolved, "--prefix", prefix)
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        value = host.env(variable)
        if value and value.startswith("/"):
            path = host.normalize(value)
            if host.is_dir(path):
                return _env_target(reader, host.resolve(path) or path, variable, None)
    for name in ("python", "python3"):
        command = commands.get(name)
        if command is not None and command.interpreter is not None:
            interp = command.interpreter
            return Target("PATH", interp.prefix, interp, None)
    return Target("none")


def _env_target(
    reader: EnvironmentReader, prefix: str, chosen_by: str, requested: Optional[str]
) -> Target:
    env: Environment = reader.environment(prefix)
    interpreter = reader.interpreter(env.python) if env.python else None
    return Target(chosen_by, prefix, interpreter, requested)


def _conda_env_named(
    host: Host, reader: EnvironmentReader, commands: dict[str, Command], name: str
) -> str:
    """``--prefix NAME``: the conda environment of that name (as ``conda -n NAME``)."""
    setup = conda_setup(host, reader, commands)
    for entry in setup.envs:
        if entry.name == name or posixpath.basename(entry.prefix.rstrip("/")) == name:
            return entry.prefix
    known = sorted({e.name or posixpath.basename(e.prefix) for e in setup.envs})
    listing = f"; conda knows: {', '.join(known)}" if known else ""
    raise UsageError(f"--prefix {name}: no conda environment of that name{listing}")


def _looks_like_python(host: Host, path: str) -> bool:
    """An interpreter whose version its files do not tell is still accepted when it is named
    like one (python, python3.12, pypy3) or is an ELF program; a text file is not."""
    name = posixpath.basename(host.resolve(path) or path)
    if name.startswith(("python", "pypy")):
        return True
    head = host.read_bytes(path, limit=4)
    return head == ELF_MAGIC


def _world_path(host: Host, path: str) -> str:
    if path.startswith("/"):
        return host.normalize(path)
    base = host.cwd if not host.is_live_root else os.getcwd()
    return host.normalize(posixpath.join(base or "/", path))
