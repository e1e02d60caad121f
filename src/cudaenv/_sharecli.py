"""The commands for sharing a diagnosis: ``snapshot``, ``check``, ``diff``, ``explain``."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable, TextIO

from .errors import SnapshotFormatError, UsageError, WorldError

__all__ = ["add_commands", "handlers", "load_snapshot_file"]

EXIT_OK = 0


def add_commands(
    sub: argparse._SubParsersAction[Any],  # argparse's own type
    add_world_options: Callable[[argparse.ArgumentParser], None],
    add_output_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    snapshot = sub.add_parser("snapshot", help="write the facts collected, to diagnose elsewhere")
    add_world_options(snapshot)
    chosen = snapshot.add_mutually_exclusive_group()
    chosen.add_argument("--python", metavar="PATH", help="this interpreter's environment")
    chosen.add_argument("--prefix", metavar="PATH", help="this conda env or venv")
    snapshot.add_argument(
        "-o", "--output", metavar="FILE", help="write here (default: stdout; - is stdout)"
    )
    snapshot.add_argument(
        "--force",
        action="store_true",
        help="with -o: write where a symbolic link points (refused otherwise)",
    )
    snapshot.add_argument(
        "--gpu-code",
        action="store_true",
        help="read the GPU architectures in the frameworks' libraries even without a GPU here",
    )
    snapshot.add_argument(
        "--no-redact",
        action="store_true",
        help="keep home, user and host names and secrets (redacted by default)",
    )

    check = sub.add_parser("check", help="diagnose a snapshot written by `cudaenv snapshot`")
    check.add_argument("file", metavar="FILE", help="the snapshot (- for stdin)")
    add_output_options(check)

    diff = sub.add_parser("diff", help="what differs between two snapshots")
    diff.add_argument("before", metavar="A", help="a snapshot (the machine or env before)")
    diff.add_argument("after", metavar="B", help="another snapshot (after, or elsewhere)")
    diff.add_argument("--format", choices=("text", "json"), default="text")

    explain = sub.add_parser("explain", help="what a finding code means, and when it is raised")
    explain.add_argument(
        "code", metavar="CODE", nargs="?", help="a finding code, e.g. driver-too-old"
    )
    explain.add_argument(
        "--list", action="store_true", help="every finding code, with its area of the reference"
    )


def load_snapshot_file(path: str) -> dict[str, Any]:
    from ._cli import read_json_object

    return read_json_object(
        path,
        path,
        UsageError,
        not_json="not a JSON snapshot",
        not_object="not a cudaenv snapshot (a JSON object is expected)",
        stdin=True,
    )


def _snapshot(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._cli import load_env_file, write_output
    from ._redact import redact_tree, rules_for
    from ._render.json import json_document
    from .api import collect

    if not os.path.isdir(args.root):
        raise WorldError(f"--root {args.root}: no such directory")
    environ = load_env_file(args.env_file) if args.env_file else dict(os.environ)
    snap = collect(
        args.root, environ, python=args.python, prefix=args.prefix, gpu_code=args.gpu_code
    )
    data = snap.to_dict()
    if not args.no_redact:
        rules = rules_for(snap, identity=True)
        data = redact_tree(data, rules)
        data["redacted"] = list(rules.kinds())
    write_output(json_document(data), args.output, stdout, "snapshot", force=args.force)
    return EXIT_OK


def _check(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._cli import _emit
    from ._redact import unredact_paths
    from .api import check
    from .snapshot import Snapshot

    data = load_snapshot_file(args.file)
    redacted = data.get("redacted") or []
    if "home" in redacted:
        data = unredact_paths(data)
    try:
        snapshot = Snapshot.from_dict(data)
    except SnapshotFormatError as exc:
        raise UsageError(f"{args.file}: {exc.message}") from None
    report = check(snapshot)
    return _emit(report, args, stdout)


EXIT_DIFFERENT = 1
"""``diff``: the snapshots differ (as diff(1) exits 1)."""


def _diff(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._diff import diff_snapshots
    from ._render.json import json_document
    from .snapshot import is_snapshot_document

    before = load_snapshot_file(args.before)
    after = load_snapshot_file(args.after)
    for name, data in ((args.before, before), (args.after, after)):
        if not is_snapshot_document(data):
            raise UsageError(f"{name}: not a cudaenv snapshot")
    differences = diff_snapshots(before, after)
    if args.format == "json":
        from ._serial import to_json

        document = {
            "schema": "cudaenv.diff/1",
            "before": args.before,
            "after": args.after,
            "differences": [to_json(d) for d in differences],
        }
        stdout.write(json_document(document))
        return EXIT_DIFFERENT if differences else EXIT_OK
    if not differences:
        stdout.write("No differences.\n")
        return EXIT_OK
    marks = {"added": "+", "removed": "-", "changed": "~"}
    cuda = [d for d in differences if d.cuda]
    count = len(differences)
    stdout.write(f"{count} difference{'' if count == 1 else 's'} ({len(cuda)} about CUDA)\n")
    for d in differences:
        if d.kind == "changed":
            detail = f"{_short(d.before)} → {_short(d.after)}"
        else:
            detail = _short(d.after if d.kind == "added" else d.before)
        stdout.write(f"{marks[d.kind]} {d.path}: {detail}\n")
    return EXIT_DIFFERENT


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def _explain(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._explain import areas, explain

    if args.list:
        width = max(len(code) for code in areas())
        stdout.writelines(f"{code:{width}}  {area}\n" for code, area in areas().items())
        return EXIT_OK
    if not args.code:
        raise UsageError("explain needs a finding CODE (or --list for every code)")
    stdout.write(explain(args.code))
    return EXIT_OK


handlers: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "snapshot": _snapshot,
    "check": _check,
    "diff": _diff,
    "explain": _explain,
}
