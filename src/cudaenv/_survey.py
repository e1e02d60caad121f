"""Every environment on the machine, each diagnosed as if alone (``doctor --all``, ``envs``).

The facts that do not depend on the environment (commands, conda's setup, GPUs, the shell, the
driver module) are read once; each environment is then read with a fresh host and reader, so
its snapshot — and so its findings — are exactly those of ``cudaenv doctor --prefix PREFIX``
(tests check this over a synthetic machine of 100 conda envs).  Between environments only
what cannot differ is shared: directory listings and parsed files, keyed by their identity on
disk (conda hard-links a package's files into every environment, so one METADATA is parsed
once).  Environments are diagnosed in forked worker processes when there are enough of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable, Optional

from . import __version__
from ._checks import run_checks
from ._host import Host, SharedReads
from ._probes.collect import MachineFacts, collect_target, survey_machine
from ._probes.commands import CommandProbe
from ._probes.discover import DEFAULT_DEPTH, FoundEnvironment, discover_environments
from ._probes.environments import EnvironmentReader
from ._probes.target import choose_target_from
from ._surveyed import Survey, SurveyEntry, summarize
from ._workers import available_cpus, run_tasks
from .errors import CudaenvError
from .findings import Report
from .snapshot import Problem

__all__ = ["default_workers", "survey"]

Progress = Callable[[int, int, str], None]
Render = Callable[[Report], object]
_MIN_PER_WORKER = 8  # fewer environments than this per process: forking costs more than it saves


def default_workers(count: int) -> int:
    """Processes for ``count`` environments: one per CPU, each with a fair share of work."""
    return max(1, min(available_cpus(), 8, count // _MIN_PER_WORKER))


def survey(
    make_host: Callable[[Optional[SharedReads]], Host],
    *,
    under: Sequence[str] = (),
    depth: Optional[int] = None,
    live: bool = False,
    live_timeout: float = 60.0,
    progress: Optional[Progress] = None,
    workers: Optional[int] = None,
    render: Optional[Render] = None,
    keep_reports: bool = False,
) -> Survey:
    """Discover every environment and diagnose each.

    ``make_host(shared)`` gives a fresh :class:`Host` of the machine reading through
    ``shared`` (each environment is read with its own host, as a lone run would); ``under``
    are the directories searched for venvs and pixi projects (default: the current one);
    ``progress(done, total, prefix)`` is called as environments finish; ``workers`` processes
    diagnose them (default: :func:`default_workers`; reports are kept only with one);
    ``render`` fills each entry's ``details``.
    """
    shared = SharedReads()
    host = make_host(shared)
    reader = EnvironmentReader(host)
    machine = survey_machine(host, reader, live=live, live_timeout=live_timeout)
    default = choose_target_from(host, reader, machine.commands, None, None)
    dirs = [host.normalize(d) for d in under] or ([host.cwd] if host.cwd else [])
    found = discover_environments(
        host,
        reader,
        CommandProbe(host, reader, list(machine.aliases)),
        machine.conda,
        default_prefix=default.prefix,
        default_source=default.chosen_by,
        under=dirs,
        depth=DEFAULT_DEPTH if depth is None else depth,
    )
    machine_problems = {p.path for p in machine.problems}
    discovery_problems = tuple(
        Problem(p.path, p.error) for p in host.problems if p.path not in machine_problems
    )
    if keep_reports:
        workers = 1
    elif workers is None:
        workers = default_workers(len(found))

    def task(index: int) -> SurveyEntry:
        env = found[index]
        return _diagnose(
            env,
            make_host(shared),
            machine,
            index == 0 and default.prefix is not None,
            live=live,
            live_timeout=live_timeout,
            render=render,
            keep_report=keep_reports,
        )

    entries: list[Optional[SurveyEntry]] = [None] * len(found)
    finished = 0

    def done(index: int, entry: Optional[SurveyEntry], error: Optional[str]) -> None:
        nonlocal finished
        if entry is None:
            env = found[index]
            entry = SurveyEntry(env.prefix, env.sources, error=error or "no result")
        entries[index] = entry
        finished += 1
        if progress is not None:
            progress(finished, len(found), entry.prefix)

    if progress is not None:
        progress(0, len(found), "")
    run_tasks(task, len(found), workers, done)
    return Survey(
        entries=tuple(e for e in entries if e is not None),
        hostname=machine.hostname,
        home=host.home,
        environ=machine.environ,
        tool_version=__version__,
        root=host.root,
        driver=machine.driver,
        gpus=machine.gpus,
        problems=discovery_problems,
    )


def _diagnose(
    env: FoundEnvironment,
    host: Host,
    machine: MachineFacts,
    active: bool,
    *,
    live: bool,
    live_timeout: float,
    render: Optional[Render],
    keep_report: bool,
) -> SurveyEntry:
    if not env.exists:
        return SurveyEntry(env.prefix, env.sources, active)
    try:
        snapshot = collect_target(
            host,
            EnvironmentReader(host),
            machine,
            prefix=env.prefix,
            live=live,
            live_timeout=live_timeout,
        )
    except CudaenvError as exc:
        return SurveyEntry(env.prefix, env.sources, active, error=exc.message)
    report = Report(snapshot, tuple(run_checks(snapshot)))
    return SurveyEntry(
        env.prefix,
        env.sources,
        active,
        summary=summarize(report),
        findings=report.findings,
        details=render(report) if render is not None else None,
        report=report if keep_report else None,
    )
