"""Every environment on the machine, each diagnosed as if alone (``doctor --all``, ``envs``).

The facts that do not depend on the environment (commands, conda's setup, GPUs, the shell) are
read once; each environment is then read with a fresh host and reader, so its snapshot — and so
its findings — are exactly those of ``cudaenv doctor --prefix PREFIX`` (tests check this over a
synthetic machine of 100 conda envs).  Only parsed immutable files (the ld.so cache, ELF
headers) are shared between environments, keyed by their identity on disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Callable, Optional

from . import __version__
from ._checks import run_checks
from ._host import Host, SharedReads
from ._probes.collect import collect_target, survey_machine
from ._probes.commands import CommandProbe
from ._probes.discover import DEFAULT_DEPTH, discover_environments
from ._probes.environments import EnvironmentReader
from ._probes.target import choose_target_from
from ._records import record
from .errors import CudaenvError
from .findings import Report
from .snapshot import Problem

__all__ = ["READINESS", "Survey", "SurveyEntry", "readiness", "survey"]

READINESS = {
    "ready": "a CUDA build of a framework, and no error in the way",
    "blocked": "a CUDA build of a framework, stopped by an error (the worst finding)",
    "cpu-only": "frameworks, none built for CUDA",
    "no-framework": "no GPU framework installed",
    "no-python": "no Python interpreter of its own",
    "missing": "the directory does not exist",
    "unreadable": "the diagnosis failed (see the error)",
}
"""What each GPU readiness verdict means, most hopeful first."""


@record
class SurveyEntry:
    prefix: str
    sources: tuple[str, ...]
    report: Optional[Report] = None
    """The environment's own diagnosis; None when the prefix does not exist or failed."""
    error: Optional[str] = None


@record
class Survey:
    entries: tuple[SurveyEntry, ...]
    hostname: Optional[str]
    home: Optional[str]
    environ: dict[str, str]
    tool_version: str
    root: str
    problems: tuple[Problem, ...] = ()
    """Files the discovery itself could not read."""


Progress = Callable[[int, int, str], None]


def survey(
    make_host: Callable[[Optional[SharedReads]], Host],
    *,
    under: Sequence[str] = (),
    depth: Optional[int] = None,
    live: bool = False,
    live_timeout: float = 60.0,
    progress: Optional[Progress] = None,
) -> Survey:
    """Discover every environment and diagnose each.

    ``make_host(shared)`` gives a fresh :class:`Host` of the machine reading through
    ``shared`` (each environment is read with its own host, as a lone run would); ``under``
    are the directories searched for venvs and pixi projects (default: the current one);
    ``progress(done, total, prefix)`` is called before each environment.
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
    entries = []
    for index, env in enumerate(found):
        if progress is not None:
            progress(index, len(found), env.prefix)
        if not env.exists:
            entries.append(SurveyEntry(env.prefix, env.sources))
            continue
        own_host = make_host(shared)
        try:
            snapshot = collect_target(
                own_host,
                EnvironmentReader(own_host),
                machine,
                prefix=env.prefix,
                live=live,
                live_timeout=live_timeout,
            )
        except CudaenvError as exc:
            entries.append(SurveyEntry(env.prefix, env.sources, error=exc.message))
            continue
        report = Report(snapshot, tuple(run_checks(snapshot)))
        entries.append(SurveyEntry(env.prefix, env.sources, report))
    if progress is not None:
        progress(len(found), len(found), "")
    machine_problems = {p.path for p in machine.problems}
    return Survey(
        entries=tuple(entries),
        hostname=machine.hostname,
        home=host.home,
        environ=machine.environ,
        tool_version=__version__,
        root=host.root,
        problems=tuple(
            Problem(p.path, p.error) for p in host.problems if p.path not in machine_problems
        ),
    )


def readiness(entry: SurveyEntry) -> str:
    """One of :data:`READINESS`: can this environment use the GPU, in a word."""
    report = entry.report
    if report is None:
        return "unreadable" if entry.error else "missing"
    snap = report.snapshot
    env = snap.target_env
    if (env is None or env.python is None) and (
        snap.target.interpreter is None or not snap.target.interpreter.exists
    ):
        return "no-python"
    if not snap.frameworks:
        return "no-framework"
    if not any(f.cuda or f.variant == "cuda" for f in snap.frameworks):
        return "cpu-only"
    if any(f.severity == "error" for f in report.findings):
        return "blocked"
    return "ready"


def counts(entries: Sequence[SurveyEntry]) -> Mapping[str, int]:
    """How many environments have each verdict."""
    result = dict.fromkeys(READINESS, 0)
    for entry in entries:
        result[readiness(entry)] += 1
    return result
