"""The command line: argument parsing, and the one place where errors become messages.

Exit status: 0 a report was produced; 1 ``--fail-on`` matched a finding; 2 bad usage or an
unusable world; 3 an unexpected internal error (with ``CUDAENV_DEBUG=1`` for its traceback).
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, Optional, TextIO

from . import __version__
from ._envscli import SURVEY_OPTIONS, add_survey_options
from ._worldenv import ENV_FILE_VARIABLE, ROOT_VARIABLE, default_env_file, default_root
from .errors import CudaenvError, UsageError, WorldError

__all__ = ["main"]

EXIT_OK, EXIT_FAIL_ON, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_NOT_FOUND = 1
"""``which``: the loader would find nothing (as which(1) exits 1)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="cudaenv",
        description="Why can't Python find or use CUDA? Answered from the files on disk.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"cudaenv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    doctor = sub.add_parser("doctor", help="diagnose the active environment (or another one)")
    _add_world_options(doctor)
    chosen = doctor.add_mutually_exclusive_group()
    chosen.add_argument("--python", metavar="PATH", help="diagnose this interpreter's environment")
    chosen.add_argument("--prefix", metavar="PATH", help="diagnose this conda env or venv")
    chosen.add_argument(
        "--all",
        action="store_true",
        help="every environment on the machine, one row each (as `cudaenv envs`)",
    )
    doctor.add_argument(
        "--gpu-code",
        action="store_true",
        help="read the GPU architectures in the frameworks' libraries even without a GPU here",
    )
    doctor.add_argument(
        "--live",
        action="store_true",
        help="also ask the driver and each framework (imports them in child processes)",
    )
    doctor.add_argument(
        "--live-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="stop each --live child after this long (default: 60)",
    )
    add_survey_options(doctor)
    _add_output_options(doctor)

    which = sub.add_parser("which", help="which file the loader opens for a library, and why")
    which.add_argument(
        "name",
        nargs="?",
        help="a SONAME or file name, e.g. libcudart.so.12 (not needed with --all)",
    )
    which.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="the object that loads it (default: the interpreter)",
    )
    which.add_argument(
        "--all", action="store_true", help="the whole dependency tree of --from FILE, in load order"
    )
    _add_world_options(which)
    target = which.add_mutually_exclusive_group()
    target.add_argument("--python", metavar="PATH", help="the interpreter that would dlopen it")
    target.add_argument("--prefix", metavar="PATH", help="the environment whose Python loads it")
    which.add_argument("--format", choices=("text", "json"), default="text")

    toolkits = sub.add_parser(
        "toolkits",
        help="every CUDA toolkit found, and which one each consumer (torch, CuPy, XLA) would use",
    )
    _add_world_options(toolkits)
    chosen_tk = toolkits.add_mutually_exclusive_group()
    chosen_tk.add_argument("--python", metavar="PATH", help="the environment of this interpreter")
    chosen_tk.add_argument("--prefix", metavar="PATH", help="this conda env or venv")
    toolkits.add_argument("--format", choices=("text", "json"), default="text")

    archs = sub.add_parser("archs", help="the GPU architectures compiled into ELF files")
    archs.add_argument("files", nargs="+", metavar="FILE")
    archs.add_argument(
        "--root",
        metavar="DIR",
        default="/",
        help="the files are paths inside this directory (default: /)",
    )
    archs.add_argument("--format", choices=("text", "json"), default="text")

    demo = sub.add_parser("demo", help="diagnose a bundled example world, to see cudaenv at work")
    demo.add_argument("name", nargs="?", help="which example (default: the first; see --list)")
    demo.add_argument("--list", action="store_true", help="list the examples and exit")
    demo.add_argument("--extract", metavar="DIR", help="write the example world to DIR and exit")
    _add_output_options(demo)

    from ._envscli import add_commands as add_envs_commands
    from ._fixcli import add_commands
    from ._fleetcli import add_commands as add_fleet_commands
    from ._sharecli import add_commands as add_share_commands

    add_envs_commands(sub, _add_world_options, _add_output_options)
    add_commands(sub, _add_world_options)
    add_share_commands(sub, _add_world_options, _add_output_options)
    add_fleet_commands(sub)
    from ._exitcodes import epilog

    for name, command in sub.choices.items():  # every command's help says its exit codes
        command.epilog = epilog(name)
    return parser


def _add_world_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        metavar="DIR",
        default=default_root(os.environ),
        help=f"diagnose the machine whose files are under DIR (default: ${ROOT_VARIABLE} or /)",
    )
    parser.add_argument(
        "--env-file",
        metavar="FILE",
        default=default_env_file(os.environ),
        help=f"the shell's environment as a JSON object (default: ${ENV_FILE_VARIABLE} or this)",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown", "github"),
        default="text",
        help="markdown: for an issue (home, user and host redacted); github: CI annotations",
    )
    parser.add_argument(
        "--no-redact",
        action="store_true",
        help="keep secrets (tokens, credentials in URLs) and, in markdown, home/user/host names",
    )
    parser.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        help="exit 1 when a finding is at least this severe",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in text output (auto: on a terminal, unless NO_COLOR)",
    )


def read_json_object(
    path: str,
    label: str,
    error: type[CudaenvError],
    *,
    not_json: str,
    not_object: str,
    stdin: bool = False,
) -> dict[str, Any]:
    """A JSON object from a file (with ``stdin``, ``-`` reads standard input); each way it
    can fail is one line of ``error`` that starts with ``label``."""
    try:
        if stdin and path == "-":
            data = json.load(sys.stdin)
        else:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
    except FileNotFoundError:
        raise error(f"{label}: no such file") from None
    except IsADirectoryError:
        raise error(f"{label}: is a directory") from None
    except OSError as exc:
        raise error(f"{label}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{label}: {not_json} ({exc})") from None
    except RecursionError:  # [[[[... nested beyond what the parser follows
        raise error(f"{label}: {not_json} (nested too deeply)") from None
    if not isinstance(data, dict):
        raise error(f"{label}: {not_object}")
    return data


def write_output(
    text: str, output: Optional[str], stdout: TextIO, what: str, *, force: bool = False
) -> None:
    """``text`` to ``output`` (never renamed over what is not a regular file: _output.py),
    saying so on stderr; to ``stdout`` without one or for ``-``."""
    if not output:
        stdout.write(text)
        return
    from ._output import write_text

    if write_text(text, output, stdout, force=force):
        sys.stderr.write(f"cudaenv: {what} written to {output}\n")


def load_env_file(path: str) -> dict[str, str]:
    """An env file: a JSON object of string to string (``env.json`` of a world)."""
    data = read_json_object(
        path,
        f"--env-file {path}",
        WorldError,
        not_json="not valid JSON",
        not_object="expected a JSON object of strings",
    )
    for key, value in data.items():
        if not isinstance(value, str):
            raise WorldError(
                f"--env-file {path}: the value of {key!r} is {type(value).__name__}, not a string"
            )
    return data


def _text_width(stream: TextIO, environ: Mapping[str, str]) -> int:
    """The terminal's columns (COLUMNS first, as shells set it), 100 when not a terminal;
    never wider than 120 nor narrower than 40."""
    columns = environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(min(int(columns), 120), 40)
    if stream.isatty():
        import shutil

        return max(min(shutil.get_terminal_size((100, 24)).columns, 120), 40)
    return 100


def _use_color(choice: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return stream.isatty() and environ.get("TERM") != "dumb"


def _emit(report: object, args: argparse.Namespace, stdout: TextIO) -> int:
    from ._render import render
    from .findings import Report, severity_rank

    assert isinstance(report, Report)  # narrows the lazily imported type
    if not getattr(args, "no_redact", False):
        from ._redact import redact_report, rules_for

        identity = args.format == "markdown"
        rules = rules_for(report.snapshot, identity=identity)
        report = redact_report(report, rules, facts=args.format in ("json", "markdown"))
    width = _text_width(stdout, os.environ)
    color = _use_color(args.color, stdout, os.environ)
    stdout.write(render(report, args.format, color=color, width=width))
    if args.fail_on is not None:
        threshold = severity_rank(args.fail_on)
        if any(severity_rank(f.severity) <= threshold for f in report.findings):
            return EXIT_FAIL_ON
    return EXIT_OK


def _doctor(args: argparse.Namespace, stdout: TextIO) -> int:
    from .api import diagnose

    if args.all:
        from ._envscli import run_survey

        if args.gpu_code:
            raise UsageError("--gpu-code diagnoses one environment: it cannot go with --all")
        return run_survey(args, stdout)
    given = [name for name in SURVEY_OPTIONS if getattr(args, name) not in (None, False)]
    if given:
        raise UsageError(f"--{given[0]} goes with --all (or `cudaenv envs`)")
    root = args.root
    if not os.path.isdir(root):
        raise WorldError(f"--root {root}: no such directory")
    if args.live and os.path.abspath(root) != "/":
        raise UsageError("--live asks the running machine: it cannot be used with --root")
    if args.live_timeout <= 0:
        raise UsageError("--live-timeout must be a positive number of seconds")
    environ = load_env_file(args.env_file) if args.env_file else dict(os.environ)
    report = diagnose(
        root,
        environ,
        python=args.python,
        prefix=args.prefix,
        live=args.live,
        live_timeout=args.live_timeout,
        gpu_code=args.gpu_code,
    )
    return _emit(report, args, stdout)


def _which(args: argparse.Namespace, stdout: TextIO) -> int:
    from .api import which

    if args.all and not args.from_file:
        raise UsageError("--all needs --from FILE (the object whose dependency tree to show)")
    if not args.all and not (args.name or "").strip():
        raise UsageError("which needs a library NAME (or --from FILE --all for the whole tree)")
    if not os.path.isdir(args.root):
        raise WorldError(f"--root {args.root}: no such directory")
    environ = load_env_file(args.env_file) if args.env_file else dict(os.environ)
    if args.from_file:
        args.from_file = _from_path(args.from_file, args.root, environ)
    answer = which(
        args.name or "",
        args.root,
        environ,
        from_file=args.from_file,
        every=args.all,
        python=args.python,
        prefix=args.prefix,
    )
    # like which(1): 1 when the loader would find nothing for the name asked about
    status = EXIT_NOT_FOUND if not args.all and answer.get("path") is None else EXIT_OK
    if args.format == "json":
        stdout.write(json.dumps({"schema": "cudaenv.which/1", **answer}, indent=2) + "\n")
        return status
    from ._render.loader import render_which

    stdout.write(render_which(answer))
    return status


def _from_path(given: str, root: str, environ: Mapping[str, str]) -> str:
    """``--from``: a relative path is relative to the working directory (the shell's; in a
    world, its PWD), and it must be an ELF file."""
    live = os.path.abspath(root) == "/"
    if not given.startswith("/"):
        base = os.getcwd() if live else environ.get("PWD", "/")
        given = os.path.normpath(os.path.join(base, given))
    real = given if live else os.path.join(root, given.lstrip("/"))
    if not os.path.lexists(real):
        raise UsageError(f"--from {given}: no such file")
    if not live and os.path.islink(real):
        return given  # a link in a world names a world path: the loader model follows it
    try:
        with open(real, "rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise UsageError(f"--from {given}: {exc.strerror}") from None
    from ._formats.elffile import ELF_MAGIC

    if magic != ELF_MAGIC:
        raise UsageError(f"--from {given}: not an ELF file (a program or shared library)")
    return given


def _toolkits(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._serial import to_json
    from .api import collect

    if not os.path.isdir(args.root):
        raise WorldError(f"--root {args.root}: no such directory")
    environ = load_env_file(args.env_file) if args.env_file else dict(os.environ)
    snap = collect(args.root, environ, python=args.python, prefix=args.prefix)
    if args.format == "json":
        document = {
            "schema": "cudaenv.toolkits/1",
            "toolkits": to_json(snap.toolkits),
            "choices": to_json(snap.toolkit_choices),
        }
        stdout.write(json.dumps(document, indent=2) + "\n")
        return EXIT_OK
    from ._render.toolkits import render_toolkits

    stdout.write(render_toolkits(snap))
    return EXIT_OK


def _archs(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._host import Host
    from ._probes.archs import gpu_code
    from ._serial import to_json

    if not os.path.isdir(args.root):
        raise WorldError(f"--root {args.root}: no such directory")
    host = Host(args.root, {})
    results = []
    for name in args.files:
        # inside a root, paths are the world's own: a relative one is taken from its /
        path = os.path.abspath(name) if args.root == "/" else "/" + name.lstrip("/")
        if not host.is_file(path):
            raise UsageError(f"{name}: no such file")
        results.append(gpu_code(host, path))
    if args.format == "json":
        files = [
            {k: v for k, v in to_json(r).items() if k != "error" or v is not None} for r in results
        ]
        document = {"schema": "cudaenv.archs/1", "files": files}
        stdout.write(json.dumps(document, indent=2) + "\n")
        return EXIT_OK
    for result in results:
        stdout.write(f"{result.path}\n")
        if result.error:
            stdout.write(f"  error: {result.error}\n")
        stdout.write(f"  SASS: {' '.join(result.sass) or 'none'}\n")
        stdout.write(f"  PTX:  {' '.join(result.ptx) or 'none'}")
        stdout.write(f" (PTX ISA {result.ptx_isa})\n" if result.ptx_isa else "\n")
        stdout.write(f"  {result.entries} entries, {result.compressed} compressed\n")
    return EXIT_OK


def _demo(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._demos import DEMOS, materialize

    if args.list:
        stdout.writelines(f"{name:24} {demo.title}\n" for name, demo in DEMOS.items())
        return EXIT_OK
    name = args.name or next(iter(DEMOS))
    demo = DEMOS.get(name)
    if demo is None:
        raise UsageError(f"no demo named {name!r}; choose from: {', '.join(DEMOS)}")
    if args.extract:
        target = args.extract
        if os.path.lexists(target) and not os.path.isdir(target):
            raise UsageError(f"--extract {target}: exists and is not a directory")
        if os.path.isdir(target) and os.listdir(target):
            raise UsageError(f"--extract {target}: not empty (give a new or empty directory)")
        parent = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(parent):
            raise UsageError(f"--extract {target}: no such directory {parent}")
        try:
            root, env_file = materialize(demo, target)
        except OSError as exc:
            raise UsageError(f"--extract {target}: {exc.strerror}") from None
        stdout.write(
            f"wrote {root} and {env_file}\n"
            f"diagnose it with: cudaenv doctor --root {root} --env-file {env_file}\n"
        )
        return EXIT_OK
    import tempfile

    from .api import diagnose

    with tempfile.TemporaryDirectory(prefix="cudaenv-demo-") as tmp:
        root, _ = materialize(demo, tmp)
        report = diagnose(root, demo.env)
    if args.format == "text":
        stdout.write(f"Demo “{demo.name}”: {demo.title}\n{demo.story}\n\n")
    status = _emit(report, args, stdout)
    if args.format == "text":
        others = [n for n in DEMOS if n != name]
        stdout.write(f"\nOther demos: {', '.join(others)} (cudaenv demo NAME).\n")
    return status


def _tolerant_streams() -> None:
    """A file name that is not UTF-8 goes out as the bytes it was (on a UTF-8 stream) or
    escaped (on any other), never as an encoding error: it is a fact to report."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            utf8 = codecs.lookup(stream.encoding).name == "utf-8"
            stream.reconfigure(errors="surrogateescape" if utf8 else "backslashreplace")


def main(argv: Optional[Sequence[str]] = None, stdout: Optional[TextIO] = None) -> int:
    if stdout is None:
        _tolerant_streams()
    out = stdout or sys.stdout
    parser = _build_parser()
    from ._envscli import handlers as envs_handlers
    from ._fixcli import handlers
    from ._fleetcli import handlers as fleet_handlers
    from ._sharecli import handlers as share_handlers

    commands = {
        "doctor": _doctor,
        "which": _which,
        "toolkits": _toolkits,
        "archs": _archs,
        "demo": _demo,
        **envs_handlers,
        **handlers,
        **share_handlers,
        **fleet_handlers,
    }
    try:
        args = parser.parse_args(argv)
        command = commands.get(args.command)
        if command is None:
            parser.print_help(out)
            return EXIT_USAGE
        return command(args, out)
    except CudaenvError as exc:
        sys.stderr.write(f"cudaenv: error: {exc.message}\n")
        return exc.exit_status
    except KeyboardInterrupt:
        sys.stderr.write("cudaenv: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`cudaenv doctor | head`): not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("CUDAENV_DEBUG"):
            raise
        sys.stderr.write(
            f"cudaenv: internal error: {type(exc).__name__}: {exc} "
            "(rerun with CUDAENV_DEBUG=1 for details, and please report it)\n"
        )
        return EXIT_INTERNAL
