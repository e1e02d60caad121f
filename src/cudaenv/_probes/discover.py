"""Every Python environment on a machine, from the places each tool keeps its own.

* the environment ``doctor`` alone would diagnose (the active one, else ``python`` on PATH);
* conda and mamba: the installations and environments conda itself knows of (``conda.py``:
  ``environments.txt``, ``envs_dirs``, ``envs/``; package caches are not environments);
* pixi: ``.pixi/envs/*`` of the projects under the given directories (default: the current one)
  and their parents;
* venvs (uv projects among them) under the given directories, a few levels deep;
* pyenv's ``versions/*``; pipx's and uv's tool environments;
* the interpreters Jupyter kernels start.

Only names and markers are read (``pyvenv.cfg``, ``conda-meta/`` existing): what each
environment holds is read later, by the diagnosis of that environment alone.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Optional

from .._host import Host
from .._records import record
from ..snapshot import CondaSetup
from .commands import CommandProbe
from .environments import EnvironmentReader
from .jupyter import kernelspecs

__all__ = ["DEFAULT_DEPTH", "FoundEnvironment", "discover_environments"]

DEFAULT_DEPTH = 4
"""How many directory levels below each given directory are searched for environments."""

# Directories that never hold an environment worth a walk, and can be huge.
_SKIPPED = frozenset(
    {"node_modules", "__pycache__", "site-packages", "dist-packages", ".git", ".hg", ".svn"}
)
_PSEUDO_FILESYSTEMS = frozenset({"proc", "sys", "dev", "run"})
"""Directories under / that the kernel fills: `envs --under /` never walks them."""
# Hidden directories that commonly hold environments; other hidden ones are not walked.
_HIDDEN_KEPT = frozenset({".venv", ".env", ".pixi", ".conda", ".direnv", ".tox", ".nox"})


@record
class FoundEnvironment:
    prefix: str
    sources: tuple[str, ...]
    """How it was found, first way first: ``active (VIRTUAL_ENV)``, ``conda (environments.txt)``,
    ``pixi project /p``, ``venv under /p``, ``uv project /p``, ``pyenv``, ``pipx``, ``uv tool``,
    ``jupyter kernel "name"``."""
    exists: bool = True


class _Found:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.order: list[str] = []
        self.sources: dict[str, list[str]] = {}
        self.exists: dict[str, bool] = {}

    def add(self, prefix: str, source: str) -> None:
        exists = self.host.is_dir(prefix)
        key = (self.host.resolve(prefix) or prefix) if exists else prefix
        if key not in self.sources:
            self.order.append(key)
            self.sources[key] = []
            self.exists[key] = exists
        if source not in self.sources[key]:
            self.sources[key].append(source)

    def result(self) -> list[FoundEnvironment]:
        return [
            FoundEnvironment(prefix, tuple(self.sources[prefix]), self.exists[prefix])
            for prefix in self.order
        ]


def discover_environments(
    host: Host,
    reader: EnvironmentReader,
    probe: CommandProbe,
    conda: CondaSetup,
    *,
    default_prefix: Optional[str],
    default_source: str,
    under: Sequence[str],
    depth: int = DEFAULT_DEPTH,
) -> list[FoundEnvironment]:
    """Every environment, each once (by its real path), in the order above."""
    found = _Found(host)
    if default_prefix is not None:
        found.add(default_prefix, f"active ({default_source})")
    for entry in conda.envs:
        found.add(entry.prefix, f"conda ({_conda_source(entry.source)})")
    for directory in under:
        _pixi_in_parents(host, found, directory)
        _walk(host, found, directory, depth)
    _pyenv_versions(host, reader, found)
    _tool_environments(host, found)
    for kernel in kernelspecs(host, reader, probe, []):
        interp = kernel.interpreter
        if interp is not None and interp.prefix is not None:
            found.add(interp.prefix, f'jupyter kernel "{kernel.name}"')
    return found.result()


def _conda_source(source: str) -> str:
    if source.endswith("environments.txt"):
        return "environments.txt"
    return source


def _is_venv(host: Host, path: str) -> bool:
    return host.is_file(posixpath.join(path, "pyvenv.cfg"))


def _is_conda_prefix(host: Host, path: str) -> bool:
    return host.is_dir(posixpath.join(path, "conda-meta"))


def _pixi_envs(host: Host, found: _Found, project: str) -> None:
    envs = posixpath.join(project, ".pixi", "envs")
    for name in host.subdirs(envs):
        prefix = posixpath.join(envs, name)
        if _is_conda_prefix(host, prefix):
            found.add(prefix, f"pixi project {project}")


def _pixi_in_parents(host: Host, found: _Found, directory: str) -> None:
    """The pixi project a directory lies in, as ``pixi run`` would find it from there."""
    current = directory
    while True:
        if host.is_dir(posixpath.join(current, ".pixi", "envs")):
            _pixi_envs(host, found, current)
            return
        if current == "/":
            return
        current = posixpath.dirname(current)


def _walk(host: Host, found: _Found, top: str, depth: int) -> None:
    pending = [(top, 0)]
    while pending:
        directory, level = pending.pop()
        if _is_venv(host, directory):
            found.add(directory, _venv_source(host, directory))
            continue  # an environment's own directories hold no further environments
        if _is_conda_prefix(host, directory):
            found.add(directory, f"conda prefix under {top}")
            continue
        names = host.subdirs(directory)
        if ".pixi" in names:
            _pixi_envs(host, found, directory)
        if level >= depth:
            continue
        for name in reversed(names):
            if name in _SKIPPED or name == ".pixi":
                continue
            if directory == "/" and name in _PSEUDO_FILESYSTEMS:
                continue  # the kernel's views, never environments (and /proc is endless)
            if name.startswith(".") and name not in _HIDDEN_KEPT:
                continue
            pending.append((posixpath.join(directory, name), level + 1))


def _venv_source(host: Host, prefix: str) -> str:
    project = posixpath.dirname(prefix)
    text = host.read_text(posixpath.join(prefix, "pyvenv.cfg"), limit=65536) or ""
    made_by_uv = any(line.split("=", 1)[0].strip() == "uv" for line in text.splitlines())
    if made_by_uv and host.is_file(posixpath.join(project, "pyproject.toml")):
        return f"uv project {project}"
    return f"venv under {project}"


def _pyenv_versions(host: Host, reader: EnvironmentReader, found: _Found) -> None:
    root = reader.pyenv_root()
    if root is None:
        return
    versions = posixpath.join(root, "versions")
    for name in host.subdirs(versions):
        found.add(posixpath.join(versions, name), "pyenv")


def _data_home(host: Host) -> Optional[str]:
    xdg = host.env("XDG_DATA_HOME")
    if xdg and xdg.startswith("/"):
        return host.normalize(xdg)
    home = host.home
    return posixpath.join(home, ".local", "share") if home else None


def _tool_environments(host: Host, found: _Found) -> None:
    data = _data_home(host)
    pipx_home = host.env("PIPX_HOME")
    pipx_dirs = [host.normalize(pipx_home)] if pipx_home and pipx_home.startswith("/") else []
    if data:
        pipx_dirs.append(posixpath.join(data, "pipx"))
    if host.home:
        pipx_dirs.append(posixpath.join(host.home, ".local", "pipx"))  # pipx before 1.3
    uv_dir = host.env("UV_TOOL_DIR")
    uv_dirs = [host.normalize(uv_dir)] if uv_dir and uv_dir.startswith("/") else []
    if data:
        uv_dirs.append(posixpath.join(data, "uv", "tools"))
    for pipx in pipx_dirs:
        venvs = posixpath.join(pipx, "venvs")
        for name in host.subdirs(venvs):
            if _is_venv(host, posixpath.join(venvs, name)):
                found.add(posixpath.join(venvs, name), "pipx")
    for tools in uv_dirs:
        for name in host.subdirs(tools):
            if _is_venv(host, posixpath.join(tools, name)):
                found.add(posixpath.join(tools, name), "uv tool")
