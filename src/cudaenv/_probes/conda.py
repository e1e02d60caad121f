"""conda installations and the environments they know of, from conda's own files.

Sources, in the order conda itself consults them: the shell's conda variables
(``CONDA_EXE``, ``CONDA_PREFIX`` and the ``CONDA_PREFIX_n`` stack), ``.condarc`` files
(``envs_dirs``), ``~/.conda/environments.txt`` and the ``envs/`` directories.  Environment
contents are not read here: listing names is enough to know what exists.
"""

from __future__ import annotations

import posixpath
import re
from typing import Optional

from .._formats.conda import parse_condarc_list, parse_environments_txt
from .._host import Host
from ..snapshot import Command, CondaEnvEntry, CondaSetup
from .environments import EnvironmentReader

__all__ = ["conda_setup", "condarc_paths"]

_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _expand(host: Host, value: str) -> Optional[str]:
    if value.startswith("~"):
        home = host.home
        if home is None:
            return None
        value = home + value[1:]
    value = _VAR.sub(lambda m: host.env(m.group(1)) or "", value)
    return host.normalize(value) if value.startswith("/") else None


def condarc_paths(host: Host, roots: list[str]) -> list[str]:
    """Where conda looks for configuration (conda's ``SEARCH_PATH``), lowest precedence first."""
    paths = [
        "/etc/conda/.condarc",
        "/etc/conda/condarc",
        "/var/lib/conda/.condarc",
        "/var/lib/conda/condarc",
    ]
    for root in roots:
        paths += [posixpath.join(root, ".condarc"), posixpath.join(root, "condarc")]
    xdg = host.env("XDG_CONFIG_HOME")
    home = host.home
    config_home = (
        xdg if xdg and xdg.startswith("/") else (posixpath.join(home, ".config") if home else None)
    )
    if config_home:
        paths += [
            posixpath.join(config_home, "conda", ".condarc"),
            posixpath.join(config_home, "conda", "condarc"),
        ]
    if home:
        paths += [
            posixpath.join(home, ".conda", ".condarc"),
            posixpath.join(home, ".conda", "condarc"),
            posixpath.join(home, ".condarc"),
        ]
    active = host.env("CONDA_PREFIX")
    if active and active.startswith("/"):
        paths.append(posixpath.join(host.normalize(active), ".condarc"))
    condarc = host.env("CONDARC")
    if condarc and condarc.startswith("/"):
        paths.append(host.normalize(condarc))
    return paths


def conda_setup(host: Host, reader: EnvironmentReader, commands: dict[str, Command]) -> CondaSetup:
    roots: list[str] = []

    def add_root(path: Optional[str]) -> None:
        if path and path not in roots and reader.environment(path).kind == "conda-base":
            roots.append(path)

    for name in ("CONDA_EXE", "CONDA_PYTHON_EXE"):
        value = host.env(name)
        if value and value.startswith("/"):
            add_root(host.resolve(posixpath.dirname(posixpath.dirname(value))))
    mamba_root = host.env("MAMBA_ROOT_PREFIX")
    if mamba_root and mamba_root.startswith("/"):
        add_root(host.resolve(mamba_root))
    conda_cmd = commands.get("conda")
    if conda_cmd and conda_cmd.resolved:
        add_root(posixpath.dirname(posixpath.dirname(conda_cmd.resolved)))
        if conda_cmd.interpreter and conda_cmd.interpreter.prefix:
            add_root(conda_cmd.interpreter.prefix)
    for key in sorted(k for k in host.environ if re.fullmatch(r"CONDA_PREFIX(_\d+)?", k)):
        value = host.environ[key]
        if value.startswith("/"):
            add_root(host.resolve(value))

    condarc_files = [p for p in condarc_paths(host, roots) if host.is_file(p)]
    envs_dirs: list[str] = []
    for path in condarc_files:
        text = host.read_text(path, limit=1 << 20) or ""
        for item in parse_condarc_list(text, "envs_dirs") + parse_condarc_list(text, "envs_path"):
            expanded = _expand(host, item)
            if expanded and expanded not in envs_dirs:
                envs_dirs.append(expanded)
    for root in roots:
        default = posixpath.join(root, "envs")
        if default not in envs_dirs:
            envs_dirs.append(default)
    if host.home:
        user_envs = posixpath.join(host.home, ".conda", "envs")
        if user_envs not in envs_dirs:
            envs_dirs.append(user_envs)

    envs: list[CondaEnvEntry] = []
    seen: set[str] = set()

    def add_env(prefix: str, source: str) -> None:
        resolved = host.resolve(prefix) or prefix
        if resolved in seen:
            return
        seen.add(resolved)
        # Only "is it a conda env at all" matters here; classify() would list every conda-meta/.
        if host.is_dir(resolved) and (
            not host.is_dir(posixpath.join(resolved, "conda-meta"))
            or host.is_file(posixpath.join(resolved, "pyvenv.cfg"))
        ):
            return
        name: Optional[str] = None
        if resolved in roots:
            name = "base"
        elif posixpath.dirname(resolved) in envs_dirs:
            name = posixpath.basename(resolved)
        envs.append(CondaEnvEntry(resolved, name, source))

    for root in roots:
        add_env(root, "installation")
    for envs_dir in envs_dirs:
        for entry in host.listdir(envs_dir):
            candidate = posixpath.join(envs_dir, entry)
            if host.is_dir(posixpath.join(candidate, "conda-meta")):
                add_env(candidate, f"envs_dirs ({envs_dir})")
    if host.home:
        registry = posixpath.join(host.home, ".conda", "environments.txt")
        registry_text = host.read_text(registry, limit=1 << 20)
        for prefix in parse_environments_txt(registry_text or ""):
            if prefix.startswith("/"):
                add_env(host.normalize(prefix), registry)
    return CondaSetup(
        roots=tuple(roots),
        envs_dirs=tuple(envs_dirs),
        envs=tuple(envs),
        condarc_files=tuple(condarc_files),
    )
