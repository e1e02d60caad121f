"""Collect every fact about a host into a :class:`~cudaenv.snapshot.Snapshot`."""

from __future__ import annotations

import os
import posixpath
import re
from typing import Optional

from .. import __version__
from .._host import Host, HostProblem
from .._knowledge.envvars import is_recorded
from .._records import record
from ..errors import UsageError
from ..snapshot import (
    ActiveEnv,
    Command,
    CondaSetup,
    Driver,
    Environment,
    Gpu,
    LiveCheck,
    MissingDirectory,
    Problem,
    PythonHome,
    ShellAlias,
    Snapshot,
    Workdir,
)
from .commands import WATCHED_COMMANDS, CommandProbe, read_aliases
from .compilers import host_compiler
from .conda import conda_setup
from .driver import driver_facts, driver_module, gpus
from .environments import EnvironmentReader
from .frameworks import frameworks
from .jupyter import kernelspecs
from .libraries import library_facts
from .pipconfig import pip_config
from .searchpaths import ld_so_conf_dirs, missing_directories
from .sitedirs import site_dirs, user_site
from .target import choose_target_from
from .toolkits import discover_toolkits
from .workdir import workdir

__all__ = ["MachineFacts", "collect", "collect_target", "survey_machine"]


@record
class MachineFacts:
    """What is the same whichever environment is diagnosed: read once by ``doctor --all``."""

    commands: dict[str, Command]
    aliases: tuple[ShellAlias, ...]
    conda: CondaSetup
    pythonhome: Optional[PythonHome]
    gpus: tuple[Gpu, ...]
    live: tuple[LiveCheck, ...]
    hostname: Optional[str]
    environ: dict[str, str]
    active: ActiveEnv
    workdir: Optional[Workdir]
    missing_directories: tuple[MissingDirectory, ...]
    ld_so_conf: tuple[tuple[str, str], ...]
    """(conf file, directory) for each directory ``/etc/ld.so.conf`` lists."""
    driver: Driver
    """The kernel module, WSL and container; the libraries are the target's."""
    environments: dict[str, Environment]
    """The environments read so far (those the commands and conda's files name)."""
    problems: tuple[Problem, ...]


def collect(
    host: Host,
    *,
    python: Optional[str] = None,
    prefix: Optional[str] = None,
    live: bool = False,
    live_timeout: float = 60.0,
    gpu_code: bool = False,
) -> Snapshot:
    """Collect every fact about ``host`` and its target environment.

    ``python`` / ``prefix`` (paths inside the host) choose the target explicitly; without them
    the target is what the shell would use: the active venv or conda env, else ``python`` on
    PATH.  Raises :class:`UsageError` when an explicit target does not exist.  ``live`` (the
    live machine only) adds the driver's and the frameworks' own answers, from child processes.
    The GPU code in the frameworks' libraries is read when the machine has GPUs to compare it
    with, or when ``gpu_code`` asks for it.
    """
    reader = EnvironmentReader(host)
    machine = survey_machine(host, reader, live=live, live_timeout=live_timeout)
    return collect_target(
        host,
        reader,
        machine,
        python=python,
        prefix=prefix,
        live=live,
        live_timeout=live_timeout,
        gpu_code=gpu_code,
    )


def survey_machine(
    host: Host, reader: EnvironmentReader, *, live: bool = False, live_timeout: float = 60.0
) -> MachineFacts:
    """The facts that do not depend on the target: commands, conda's setup, GPUs, the shell."""
    aliases = read_aliases(host)
    probe = CommandProbe(host, reader, aliases)
    commands = {name: probe.lookup(name) for name in WATCHED_COMMANDS}
    commands["nvcc"] = probe.lookup("nvcc", use_aliases=False)
    conda = conda_setup(host, reader, commands)
    pythonhome = _pythonhome(host)
    conf_dirs = tuple(ld_so_conf_dirs(host))
    found_gpus = gpus(host)
    checks: list[LiveCheck] = []
    if live:
        from .live import live_driver, merge_gpus  # noqa: PLC0415  # starts processes: --live only

        if not host.is_live_root:
            raise UsageError("--live asks the running machine: it cannot be used with --root")
        driver_answer = live_driver(host.environ, live_timeout)
        checks.append(driver_answer)
        found_gpus = merge_gpus(found_gpus, driver_answer)
    return MachineFacts(
        commands=commands,
        aliases=tuple(aliases),
        conda=conda,
        pythonhome=pythonhome,
        gpus=found_gpus,
        live=tuple(checks),
        hostname=_hostname(host),
        environ={k: v for k, v in sorted(host.environ.items()) if is_recorded(k)},
        active=_active(host),
        workdir=workdir(host),
        missing_directories=missing_directories(host, conf_dirs),
        ld_so_conf=conf_dirs,
        driver=driver_module(host),
        environments=dict(reader.environments),
        problems=tuple(Problem(p.path, p.error) for p in host.problems),
    )


def collect_target(
    host: Host,
    reader: EnvironmentReader,
    machine: MachineFacts,
    *,
    python: Optional[str] = None,
    prefix: Optional[str] = None,
    live: bool = False,
    live_timeout: float = 60.0,
    gpu_code: bool = False,
) -> Snapshot:
    """The target's facts on top of ``machine``.

    ``host`` and ``reader`` may be fresh ones (``doctor --all`` starts each environment with
    empty caches): the snapshot is the same as when they are the ones ``machine`` was read
    with, since problems and environments are merged by path.
    """
    commands = dict(machine.commands)
    target = choose_target_from(host, reader, commands, python, prefix)
    env = reader.environment(target.prefix) if target.prefix else None
    version = (env.python_version if env else None) or (
        target.interpreter.version if target.interpreter else None
    )
    user = user_site(host, env, version)
    dirs = site_dirs(host, reader, target, env, user)
    probe = CommandProbe(host, reader, list(machine.aliases))
    kernel_prefixes = [p for p in (target.prefix, _command_prefix(commands.get("jupyter"))) if p]
    kernels = kernelspecs(host, reader, probe, kernel_prefixes)
    nvcc = commands["nvcc"]
    toolkits, choices = discover_toolkits(host, env, dirs, nvcc if nvcc.path else None)
    found_frameworks = frameworks(host, dirs, env, read_gpu_code=gpu_code or bool(machine.gpus))
    checks = list(machine.live)
    if live:
        from .live import FRAMEWORK_SUBJECTS, live_frameworks  # noqa: PLC0415

        names = {f.name for f in found_frameworks}
        subjects = [s for s, dists in FRAMEWORK_SUBJECTS if names & set(dists)]
        python_path = target.interpreter.path if target.interpreter else None
        checks += live_frameworks(python_path, subjects, host.environ, host.cwd, live_timeout)
    libraries = library_facts(
        host, target, env, dirs, toolkits, found_frameworks, machine.ld_so_conf
    )
    compiler = host_compiler(host) if any(t.nvcc for t in toolkits) else None
    pip = pip_config(host, target.prefix)
    driver = driver_facts(host, machine.driver, libraries, env, machine.ld_so_conf)
    environments = {**machine.environments, **reader.environments}
    return Snapshot(
        target=target,
        tool_version=__version__,
        root=host.root,
        hostname=machine.hostname,
        environ=dict(machine.environ),
        home=host.home,
        cwd=host.cwd,
        active=machine.active,
        commands=commands,
        environments=dict(sorted(environments.items())),
        site_dirs=dirs,
        user_site=user,
        conda=machine.conda,
        pip=pip,
        kernels=kernels,
        workdir=machine.workdir,
        aliases=machine.aliases,
        pythonhome=machine.pythonhome,
        frameworks=found_frameworks,
        toolkits=toolkits,
        toolkit_choices=choices,
        host_compiler=compiler,
        libraries=libraries,
        driver=driver,
        gpus=machine.gpus,
        live=tuple(checks),
        missing_directories=machine.missing_directories,
        problems=_merged_problems(machine.problems, host.problems),
    )


def _merged_problems(first: tuple[Problem, ...], more: list[HostProblem]) -> tuple[Problem, ...]:
    merged = {p.path: p for p in first}
    for p in more:
        merged.setdefault(p.path, Problem(p.path, p.error))
    return tuple(merged.values())


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
