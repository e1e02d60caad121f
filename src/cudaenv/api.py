"""The library entry points: collect facts, check them, or both."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from ._host import Host

if TYPE_CHECKING:
    from ._probes.loader import LoaderModel
    from .findings import Report
    from .snapshot import Resolution, Snapshot

__all__ = ["check", "collect", "diagnose", "which"]


def _host(root: str, environ: Optional[Mapping[str, str]]) -> Host:
    """The machine under ``root``: a missing or non-directory root is a WorldError here, as
    on the command line, never an empty report."""
    from .errors import WorldError

    if not os.path.isdir(root):
        raise WorldError(f"root {root}: no such directory")
    live_cwd = None
    if os.path.abspath(root) == "/":
        try:
            live_cwd = os.getcwd()
        except OSError:
            live_cwd = None
    return Host(root, os.environ if environ is None else environ, live_cwd=live_cwd)


def collect(
    root: str = "/",
    environ: Optional[Mapping[str, str]] = None,
    *,
    python: Optional[str] = None,
    prefix: Optional[str] = None,
    live: bool = False,
    live_timeout: float = 60.0,
    gpu_code: bool = False,
) -> Snapshot:
    """Facts about the machine under ``root`` with ``environ`` (default: this machine, now).

    ``live`` (only with ``root="/"``) also asks the driver and each installed framework in
    child processes, each stopped after ``live_timeout`` seconds.  ``gpu_code`` reads the GPU
    architectures in the frameworks' libraries even on a machine without GPUs."""
    from ._probes.collect import collect as collect_facts

    return collect_facts(
        _host(root, environ),
        python=python,
        prefix=prefix,
        live=live,
        live_timeout=live_timeout,
        gpu_code=gpu_code,
    )


def check(snapshot: Snapshot) -> Report:
    """Findings for a snapshot, most important first.  Anything but a :class:`Snapshot` (a
    snapshot's JSON as a dict: ``Snapshot.from_dict`` first) is a SnapshotFormatError."""
    from ._checks import run_checks
    from .errors import SnapshotFormatError
    from .findings import Report
    from .snapshot import Snapshot as SnapshotType

    if not isinstance(snapshot, SnapshotType):
        raise SnapshotFormatError(
            f"check() takes a Snapshot, not {type(snapshot).__name__} "
            "(for a snapshot document: check(Snapshot.from_dict(data)))"
        )
    return Report(snapshot, tuple(run_checks(snapshot)))


def diagnose(
    root: str = "/",
    environ: Optional[Mapping[str, str]] = None,
    *,
    python: Optional[str] = None,
    prefix: Optional[str] = None,
    live: bool = False,
    live_timeout: float = 60.0,
    gpu_code: bool = False,
) -> Report:
    return check(
        collect(
            root,
            environ,
            python=python,
            prefix=prefix,
            live=live,
            live_timeout=live_timeout,
            gpu_code=gpu_code,
        )
    )


def which(
    name: str,
    root: str = "/",
    environ: Optional[Mapping[str, str]] = None,
    *,
    from_file: Optional[str] = None,
    every: bool = False,
    python: Optional[str] = None,
    prefix: Optional[str] = None,
) -> dict[str, Any]:
    """The file the glibc loader would open for ``name`` (``docs/loader.md``).

    Loaded by ``from_file`` (an executable runs as the program; a library is dlopen()ed by
    the target interpreter), by default by the target interpreter itself.  ``every`` gives
    the whole dependency tree of ``from_file`` instead, breadth first.
    """
    from ._probes.loader import LoaderModel
    from ._probes.target import choose_target

    host = _host(root, environ)
    target = choose_target(host, python=python, prefix=prefix)
    interp = target.interpreter
    program = interp.resolved if interp is not None and interp.exists else None
    model = LoaderModel(host, main=program)
    start = host.normalize(from_file) if from_file else None
    tree = []
    if start is not None and model.info(start).executable:
        tree = model.start_program(start)
        requester = model.main
    else:
        if program is not None and model.info(program).error is None:
            model.start_program(program)
        requester = model.main
        if start is not None:
            tree = model.dlopen(start, model.main)
            requester = model.object_for(start)
    if every:
        return {"objects": [_tree_entry(r, model) for r in tree]}
    for resolution in tree:
        if resolution.name == name:
            return _resolution(resolution, model)
    return _resolution(model.find(name, requester), model)


def _tree_entry(resolution: Resolution, model: LoaderModel) -> dict[str, Any]:
    entry = {
        "needed_by": resolution.needed_by,
        "name": resolution.name,
        "path": model.as_opened(resolution.path),
        "via": resolution.via,
    }
    if resolution.error:
        entry["error"] = resolution.error
    return entry


def _resolution(resolution: Resolution, model: LoaderModel) -> dict[str, Any]:
    # paths as the loader opens them (spec: "path as seen"): relative entries stay relative
    result = {
        "name": resolution.name,
        "path": model.as_opened(resolution.path),
        "via": resolution.via,
        "needed_by": resolution.needed_by,
        "tried": [
            {"path": model.as_opened(a.path), "via": a.via, "result": a.result}
            for a in resolution.tried
        ],
    }
    if resolution.error:
        result["error"] = resolution.error
    return result
