"""``cudaenv envs`` and ``cudaenv doctor --all``: every environment on the machine at once."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable, Optional, TextIO

from .errors import UsageError, WorldError

__all__ = ["SURVEY_OPTIONS", "add_commands", "add_survey_options", "handlers", "run_survey"]

EXIT_OK, EXIT_FAIL_ON = 0, 1
SURVEY_OPTIONS = ("under", "depth", "details", "jobs")
_PROGRESS_AFTER = 0.3  # seconds: a survey that ends sooner shows no progress bar


def add_survey_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--under",
        action="append",
        metavar="DIR",
        help="look for venvs, uv projects and pixi projects under DIR (repeatable; "
        "default: the current directory)",
    )
    parser.add_argument(
        "--depth",
        type=int,
        metavar="N",
        help="how many directory levels below each --under to search (default: 4)",
    )
    parser.add_argument(
        "--details", action="store_true", help="each environment's full report after the table"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="diagnose in N processes (default: one per CPU, up to 8, when there are many)",
    )


def add_commands(
    sub: argparse._SubParsersAction[Any],  # argparse's own type
    add_world_options: Callable[[argparse.ArgumentParser], None],
    add_output_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    envs = sub.add_parser(
        "envs", help="every Python environment on the machine: can each use the GPU?"
    )
    add_world_options(envs)
    add_survey_options(envs)
    add_output_options(envs)


class _ProgressBar:
    """``[#####.....] 37/111 environments`` on a terminal's stderr, once a survey takes a
    moment; erased when done."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int, _prefix: str) -> None:
        if not self.shown and time.monotonic() - self.started < _PROGRESS_AFTER:
            return
        if done >= total:
            if self.shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
            return
        self.shown = True
        filled = (30 * done) // max(total, 1)
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\rcudaenv: [{bar}] {done}/{total} environments")
        self.stream.flush()


def _renderer(args: argparse.Namespace, color: bool, width: int) -> Optional[Callable[..., Any]]:
    """What fills each environment's details: its report, redacted and rendered as asked."""
    if not args.details or args.format == "github":
        return None
    fmt = args.format
    redact = not args.no_redact

    def render(report: Any) -> object:  # noqa: ANN401  # a Report, imported lazily
        from ._redact import redact_report, rules_for

        if redact:
            rules = rules_for(report.snapshot, identity=fmt == "markdown")
            report = redact_report(report, rules, facts=fmt in ("json", "markdown"))
        if fmt == "json":
            return report.to_dict()
        from ._render import render as render_report

        return render_report(report, fmt, color=color, width=width)

    return render


def run_survey(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._cli import _use_color, load_env_file
    from ._host import Host, SharedReads
    from ._redact import Redaction, identity_rules, redact_text, redact_tree, secret_literals
    from ._render.envs import render_survey, survey_to_dict
    from ._survey import survey
    from ._surveyed import about_the_environment
    from .findings import severity_rank

    root = args.root
    if not os.path.isdir(root):
        raise WorldError(f"--root {root}: no such directory")
    if getattr(args, "live", False) and os.path.abspath(root) != "/":
        raise UsageError("--live asks the running machine: it cannot be used with --root")
    if args.depth is not None and args.depth < 0:
        raise UsageError("--depth must be 0 or more")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    environ = load_env_file(args.env_file) if args.env_file else dict(os.environ)
    live_root = os.path.abspath(root) == "/"
    try:
        live_cwd: Optional[str] = os.getcwd() if live_root else None
    except OSError:
        live_cwd = None
    under = []
    for directory in args.under or []:
        path = os.path.abspath(directory) if live_root else "/" + directory.lstrip("/")
        real = path if live_root else os.path.join(root, path.lstrip("/"))
        if not os.path.isdir(real):
            raise UsageError(f"--under {directory}: no such directory")
        under.append(path)

    def make_host(shared: Optional[SharedReads]) -> Host:
        return Host(root, environ, live_cwd=live_cwd, shared=shared)

    width = 100
    if stdout.isatty():
        import shutil

        width = min(shutil.get_terminal_size((100, 24)).columns, 140)
    color = _use_color(args.color, stdout, os.environ)
    progress = _ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    result = survey(
        make_host,
        under=under,
        depth=args.depth,
        live=getattr(args, "live", False),
        live_timeout=getattr(args, "live_timeout", 60.0),
        progress=progress,
        workers=args.jobs,
        render=_renderer(args, color, width),
    )
    if args.no_redact:
        rules = Redaction(secrets=False)
    elif args.format == "markdown":
        rules = identity_rules(result.home, result.environ, result.hostname)
    else:
        rules = Redaction(secrets=True, literals=secret_literals(result.environ))
    if args.format == "json":
        import json

        stdout.write(json.dumps(redact_tree(survey_to_dict(result), rules), indent=2) + "\n")
    else:
        text = render_survey(result, args.format, color=color, width=width, details=args.details)
        stdout.write(redact_text(text, rules))
    if args.fail_on is not None:
        threshold = severity_rank(args.fail_on)
        for entry in result.entries:
            if entry.error or any(
                severity_rank(f.severity) <= threshold for f in about_the_environment(entry)
            ):
                return EXIT_FAIL_ON
    return EXIT_OK


handlers = {"envs": run_survey}
