"""The commands that change things: ``fix`` (a plan; ``--apply``), ``undo``, ``env``, ``run``.

Kept apart from ``_cli.py`` so that ``cudaenv doctor`` never imports them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import posixpath
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional, TextIO

from .errors import UsageError, WorldError

if TYPE_CHECKING:
    from ._fix.plan import Plan
    from .findings import Report

    Changes = list[tuple[str, str | None, str | None]]

__all__ = ["add_commands", "handlers"]

EXIT_OK, EXIT_FAILED = 0, 1


def _shell_default(environ: Mapping[str, str]) -> str:
    name = posixpath.basename(environ.get("SHELL", "bash"))
    return name if name in ("bash", "zsh", "fish") else "bash"


def _target_options(parser: argparse.ArgumentParser, verb: str) -> None:
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--python", metavar="PATH", help=f"{verb} this interpreter's environment")
    chosen.add_argument("--prefix", metavar="PATH", help=f"{verb} this conda env or venv")


def add_commands(
    sub: argparse._SubParsersAction[Any],  # argparse's own type
    add_world_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    fix = sub.add_parser("fix", help="the plan that fixes what doctor finds; --apply applies it")
    add_world_options(fix)
    _target_options(fix, "fix")
    fix.add_argument("--apply", action="store_true", help="apply the plan (asks first)")
    fix.add_argument("--yes", "-y", action="store_true", help="apply without asking")
    fix.add_argument(
        "--force", action="store_true", help="also change a shared environment (conda base)"
    )
    fix.add_argument(
        "--info", action="store_true", help="also act on info findings (worth knowing only)"
    )
    fix.add_argument(
        "--shell",
        choices=("bash", "zsh", "fish", "powershell"),
        help="the syntax of printed commands (default: from $SHELL)",
    )
    fix.add_argument("--format", choices=("text", "json"), default="text")
    fix.add_argument(
        "--no-redact", action="store_true", help="show secrets (tokens, URL credentials)"
    )

    undo = sub.add_parser("undo", help="take back the last `cudaenv fix --apply`")
    _target_options(undo, "undo in")

    env = sub.add_parser("env", help="print the variables the fix plan sets, to eval in a shell")
    _target_options(env, "for")
    env.add_argument("--shell", choices=("bash", "zsh", "fish", "powershell"))

    pip = sub.add_parser(
        "pip",
        help="the target environment's pip, with CUDA variants that fit this driver and GPU",
    )
    add_world_options(pip)
    _target_options(pip, "use the pip of")
    pip.add_argument(
        "--dry-run", action="store_true", help="print the pip command(s) instead of running them"
    )
    pip.add_argument("args", nargs=argparse.REMAINDER, metavar="PIP-ARGS")

    run = sub.add_parser("run", help="run a command in the corrected environment")
    _target_options(run, "run in")
    run.add_argument("--quiet", "-q", action="store_true", help="do not print what changed")
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ...")


def _diagnose(args: argparse.Namespace, root: str = "/") -> tuple[Report, dict[str, str]]:
    from .api import diagnose

    environ = dict(os.environ)
    if getattr(args, "env_file", None):
        from ._cli import load_env_file

        environ = load_env_file(args.env_file)
    if not os.path.isdir(root):
        raise WorldError(f"--root {root}: no such directory")
    return diagnose(root, environ, python=args.python, prefix=args.prefix), environ


def _fix(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._fix.plan import build_plan
    from ._fix.render import plan_json, plan_text
    from ._redact import Redaction, redact_text, redact_tree, secret_literals

    root = getattr(args, "root", "/") or "/"
    live = os.path.abspath(root) == "/"
    if args.apply and not live:
        raise UsageError("--apply changes the running machine: it cannot be used with --root")
    if (args.yes or args.force) and not args.apply:
        raise UsageError("--yes and --force go with --apply")
    report, environ = _diagnose(args, root)
    plan = build_plan(report, force=args.force, info=args.info)
    shell = args.shell or _shell_default(environ)
    rules = Redaction(secrets=not args.no_redact, literals=secret_literals(environ))
    if args.format == "json" and not args.apply:
        document = redact_tree(plan_json(plan, environ, files=live), rules)
        stdout.write(json.dumps(document, indent=2) + "\n")
        return EXIT_OK
    if args.format == "json":  # --apply: what was done, as JSON (prompts go to stderr)
        done: dict[str, Any] = {
            "schema": "cudaenv.apply/1",
            "plan": plan_json(plan, environ, files=live),
        }
        status = _apply(plan, environ, args, io.StringIO(), done)
        stdout.write(json.dumps(redact_tree(done, rules), indent=2) + "\n")
        return status
    stdout.write(
        redact_text(plan_text(plan, environ, shell, applying=args.apply, files=live), rules)
    )
    if not args.apply:
        return EXIT_OK
    return _apply(plan, environ, args, stdout)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError("--apply asks before changing anything: add --yes to run unattended")
    sys.stderr.write(question + " [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _apply(
    plan: Plan,
    environ: dict[str, str],
    args: argparse.Namespace,
    stdout: TextIO,
    done: Optional[dict[str, Any]] = None,
) -> int:
    """Apply the plan, saying what was done on ``stdout`` and, when given, into ``done``."""
    from ._fix.apply import apply_plan
    from ._fix.environ import apply_variables

    record: dict[str, Any] = done if done is not None else {}
    record["applied"] = False
    if not (plan.packages or plan.settings or plan.variables):
        stdout.write("\nNothing cudaenv can apply itself.\n")
        return EXIT_OK
    if not args.yes and not _confirm(f"\nApply this plan to {plan.env_label}?"):
        stdout.write("Nothing changed.\n")
        return EXIT_OK
    result = apply_plan(plan, environ, force=args.force)
    record.update(
        applied=True,
        recovered=list(result.recovered),
        commands=[{"command": c, "status": st, "output": out} for c, st, out in result.commands],
        files=list(result.files),
        notes=list(result.notes),
        journal=result.journal,
        failed=result.failed,
    )
    stdout.write("\n")
    stdout.writelines(
        f"an interrupted apply was rolled back: {line}\n" for line in result.recovered
    )
    for command, status, output in result.commands:
        stdout.write(f"{'ran' if status == 0 else 'FAILED'}: {command}\n")
        if status != 0 and output:
            stdout.write("  " + output.replace("\n", "\n  ") + "\n")
    stdout.writelines(f"wrote: {path}\n" for path in result.files)
    stdout.writelines(f"note: {note}\n" for note in result.notes)
    if result.journal:
        stdout.write(f"journal: {result.journal} (cudaenv undo takes it all back)\n")
    # The diagnosis again, as the environment will be once activated.
    from .api import diagnose

    corrected, _ = apply_variables(environ, plan.variables)
    after = diagnose("/", corrected, python=args.python, prefix=args.prefix)
    remaining = {f.code for f in after.findings}
    fixed = [c for c in plan.codes if c not in remaining]
    still = [c for c in plan.codes if c in remaining]
    record.update(fixed=fixed, still_reported=still)
    stdout.write("\nAfter the fix (as the environment is once activated):\n")
    stdout.write(f"  fixed: {', '.join(fixed) or 'nothing'}\n")
    if still:
        stdout.write(f"  still reported: {', '.join(still)}\n")
    return EXIT_FAILED if result.failed else EXIT_OK


def _prefix_of(args: argparse.Namespace) -> str:
    from ._host import Host
    from ._probes.target import choose_target

    target = choose_target(Host("/", os.environ), python=args.python, prefix=args.prefix)
    if target.prefix is None:
        raise UsageError("no environment to undo in: activate it, or pass --prefix/--python")
    return target.prefix


def _undo(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._fix.apply import undo_last

    prefix = _prefix_of(args)
    result = undo_last(prefix, dict(os.environ))
    if result.state == "nothing":
        stdout.write(f"Nothing to undo in {prefix}.\n")
        return EXIT_OK
    verb = "rolled back an interrupted apply" if result.state == "rolled-back" else "undone"
    stdout.write(f"{verb}: {result.journal}\n")
    stdout.writelines(line + "\n" for line in result.files)
    stdout.writelines(f"packages: {line}\n" for line in result.packages)
    return EXIT_OK


def _corrections(
    args: argparse.Namespace, diagnosed: tuple[Report, dict[str, str]] | None = None
) -> tuple[dict[str, str], Changes]:
    from ._fix.environ import apply_variables
    from ._fix.plan import build_plan

    report, environ = diagnosed or _diagnose(args)
    plan = build_plan(report)
    corrected, changed = apply_variables(environ, plan.variables)
    python = report.snapshot.target.interpreter
    prefix = report.snapshot.target.prefix
    if prefix and python is not None and python.path and posixpath.dirname(python.path):
        env_bin = posixpath.dirname(python.path)
        path = corrected.get("PATH", "")
        if path.split(":")[0] != env_bin:
            corrected["PATH"] = f"{env_bin}:{path}" if path else env_bin
            changed.insert(0, ("PATH", path or None, corrected["PATH"]))
    return corrected, changed


def _env(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._fix.shells import variable_lines

    _, changed = _corrections(args)
    shell = args.shell or _shell_default(os.environ)
    for name, _, value in changed:
        stdout.writelines(line + "\n" for line in variable_lines(shell, name, value))
    return EXIT_OK


def _run(args: argparse.Namespace, _stdout: TextIO) -> int:
    from ._fix.execute import run_command

    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("run needs a command: cudaenv run -- CMD ...")
    corrected, changed = _corrections(args)
    if not args.quiet:
        from ._redact import Redaction, redact_text, secret_literals

        # what it prints is redacted as `fix` and `env` redact (a PIP_TARGET with a token)
        rules = Redaction(secrets=True, literals=secret_literals(dict(os.environ)))
        for name, before, after in changed:
            was = "unset" if before is None else before
            now = "unset" if after is None else after
            line = f"cudaenv run: {name}: {was} → {now}\n"
            sys.stderr.write(redact_text(line, rules))
    return run_command(argv, corrected)


def _pip(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._fix.execute import run_command
    from ._fix.pipplan import plan_pip
    from ._fix.shells import command_line

    extra = list(args.args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    dry = args.dry_run or "--dry-run" in extra
    extra = [a for a in extra if a != "--dry-run"]
    if not extra:
        raise UsageError("pip needs pip's arguments: cudaenv pip install PACKAGE ...")
    root = args.root or "/"
    if os.path.abspath(root) != "/" and not dry:
        raise UsageError(
            "with --root, cudaenv pip can only --dry-run: the world is not this machine"
        )
    diagnosed = _diagnose(args, root)
    report, environ = diagnosed
    if report.snapshot.target.interpreter is None:
        raise UsageError("no target interpreter: activate an environment, or pass --python")
    commands = plan_pip(report.snapshot, extra)
    shell = _shell_default(environ)
    for command in commands:
        for note in command.notes:
            sys.stderr.write(f"cudaenv pip: {note}\n")
        if dry:
            assignments = "".join(f"{k}={v} " for k, v in command.environment)
            stdout.write(assignments + command_line(shell, command.argv) + "\n")
    if dry:
        return EXIT_OK
    corrected, _ = _corrections(args, diagnosed)
    for command in commands:
        status = run_command(command.argv, {**corrected, **dict(command.environment)})
        if status != 0:
            return status
    return EXIT_OK


handlers: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "pip": _pip,
    "fix": _fix,
    "undo": _undo,
    "env": _env,
    "run": _run,
}
