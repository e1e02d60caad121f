"""Collect every fact about a host into a :class:`~cudaenv.snapshot.Snapshot`."""

from __future__ import annotations

import os
import posixpath
import re
from typing import Optional

from .. import __version__
from .._host import Host
from .._knowledge.envvars import is_recorded
from ..errors import UsageError
from ..snapshot import (
    ActiveEnv,
    Command,
    LiveCheck,
    Problem,
    PythonHome,
    Snapshot,
)
from .commands import WATCHED_COMMANDS, CommandProbe, read_aliases
from .compilers import host_compiler
from .conda import conda_setup
from .driver import driver_facts, gpus
from .environments import EnvironmentReader
from .frameworks import frameworks
from .jupyter import kernelspecs
from .libraries import library_facts
from .pipconfig import pip_config
from .searchpaths import missing_directories
from .sitedirs import site_dirs, user_site
from .target import choose_target_from
from .toolkits import discover_toolkits
from .workdir import workdir

__all__ = ["collect"]


def collect(
    host: Host,
    *,
    python: Optional[str] = None,
    prefix: Optional[str] = None,
    live: bool = False,
    live_timeout: float = 60.0,
) -> Snapshot:
    """Collect every fact about ``host`` and its target environment.

    ``python`` / ``prefix`` (paths inside the host) choose the target explicitly; without them
    the target is what the shell would use: the active venv or conda env, else ``python`` on
    PATH.  Raises :class:`UsageError` when an explicit target does not exist.  ``live`` (the
    live machine only) adds the driver's and the frameworks' own answers, from child processes.
    """
    reader = EnvironmentReader(host)
    aliases = read_aliases(host)
    probe = CommandProbe(host, reader, aliases)
    commands = {name: probe.lookup(name) for name in WATCHED_COMMANDS}
    target = choose_target_from(host, reader, commands, python, prefix)
    env = reader.environment(target.prefix) if target.prefix else None
    version = (env.python_version if env else None) or (
        target.interpreter.version if target.interpreter else None
    )
    user = user_site(host, env, version)
    dirs = site_dirs(host, reader, target, env, user)
    conda = conda_setup(host, reader, commands)
    kernel_prefixes = [p for p in (target.prefix, _command_prefix(commands.get("jupyter"))) if p]
    kernels = kernelspecs(host, reader, probe, kernel_prefixes)
    pythonhome = _pythonhome(host)
    nvcc = probe.lookup("nvcc", use_aliases=False)
    commands["nvcc"] = nvcc
    toolkits, choices = discover_toolkits(host, env, dirs, nvcc if nvcc.path else None)
    found_gpus = gpus(host)
    checks: list[LiveCheck] = []
    if live:
        from .live import live_driver, merge_gpus  # noqa: PLC0415  # starts processes: --live only

        if not host.is_live_root:
            raise UsageError("--live asks the running machine: it cannot be used with --root")
        driver_answer = live_driver(host.environ, live_timeout)
        checks.append(driver_answer)
        found_gpus = merge_gpus(found_gpus, driver_answer)
    found_frameworks = frameworks(host, dirs, env, read_gpu_code=bool(found_gpus))
    if live:
        from .live import FRAMEWORK_SUBJECTS, live_frameworks  # noqa: PLC0415

        names = {f.name for f in found_frameworks}
        subjects = [s for s, dists in FRAMEWORK_SUBJECTS if names & set(dists)]
        python_path = target.interpreter.path if target.interpreter else None
        checks += live_frameworks(python_path, subjects, host.environ, host.cwd, live_timeout)
    libraries = library_facts(host, target, env, dirs, toolkits, found_frameworks)
    return Snapshot(
        target=target,
        tool_version=__version__,
        root=host.root,
        hostname=_hostname(host),
        environ={k: v for k, v in sorted(host.environ.items()) if is_recorded(k)},
        home=host.home,
        cwd=host.cwd,
        active=_active(host),
        commands=commands,
        environments=dict(sorted(reader.environments.items())),
        site_dirs=dirs,
        user_site=user,
        conda=conda,
        pip=pip_config(host, target.prefix),
        kernels=kernels,
        workdir=workdir(host),
        aliases=tuple(aliases),
        pythonhome=pythonhome,
        frameworks=found_frameworks,
        toolkits=toolkits,
        toolkit_choices=choices,
        host_compiler=host_compiler(host) if any(t.nvcc for t in toolkits) else None,
        libraries=libraries,
        driver=driver_facts(host, libraries, env),
        gpus=found_gpus,
        live=tuple(checks),
        missing_directories=missing_directories(host),
        problems=tuple(Problem(p.path, p.error) for p in host.problems),
    )


def _command_prefix(command: Optional[Command]) -> Optional[str]:
    if command is None or command.interpreter is None:
        return None
    return command.interpreter.prefix


def _active(host: Host) -> ActiveEnv:
    def path_var(name: str) -> Optional[str]:
        value = host.env(name)
        return host.normalize(value) if value and value.startswith("/") else None

    stack_keys = sorted(
        (k for k in host.environ if re.fullmatch(r"CONDA_PREFIX_\d+", k)),
        key=lambda k: int(k.rsplit("_", 1)[1]),
    )
    return ActiveEnv(
        conda_prefix=path_var("CONDA_PREFIX"),
        conda_default_env=host.env("CONDA_DEFAULT_ENV"),
        conda_shlvl=host.env("CONDA_SHLVL"),
        conda_stack=tuple(v for k in stack_keys if (v := path_var(k))),
        virtual_env=path_var("VIRTUAL_ENV"),
    )


def _pythonhome(host: Host) -> Optional[PythonHome]:
    value = host.env("PYTHONHOME")
    if not value:
        return None
    first = value.split(":", 1)[0]
    prefix = host.normalize(first) if first.startswith("/") else first
    versions = []
    if prefix.startswith("/"):
        for name in host.listdir(posixpath.join(prefix, "lib")):
            match = re.fullmatch(r"python(\d+\.\d+)t?", name)
            if match and host.is_file(posixpath.join(prefix, "lib", name, "os.py")):
                versions.append(match.group(1))
    return PythonHome(value, prefix, host.is_dir(prefix), tuple(versions))


def _hostname(host: Host) -> Optional[str]:
    text = host.read_text("/etc/hostname", limit=256)
    if text and text.strip():
        return text.strip().splitlines()[0]
    if host.is_live_root:
        return os.uname().nodename
    return None
