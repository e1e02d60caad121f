"""``cudaenv fleet``: one diagnosis across many nodes (snapshot files, or a Dask cluster)."""

from __future__ import annotations

import argparse
import os
from typing import Any, Callable, Optional, TextIO

from .errors import UsageError

__all__ = ["add_commands", "handlers"]

EXIT_OK, EXIT_FAIL_ON = 0, 1


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:  # argparse's own type
    fleet = sub.add_parser(
        "fleet", help="one diagnosis across many nodes: groups by CUDA stack, the odd ones out"
    )
    source = fleet.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="a directory of snapshot files (each node: cudaenv snapshot -o DIR/$(hostname).json)",
    )
    source.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler (tcp://host:8786): each worker's host is collected once",
    )
    source.add_argument(
        "--scheduler-file", metavar="FILE", help="the Dask scheduler named by this file"
    )
    target = fleet.add_mutually_exclusive_group()
    target.add_argument("--prefix", metavar="PATH", help="with --scheduler: this env on every node")
    target.add_argument(
        "--python",
        metavar="PATH",
        help="with --scheduler: this interpreter's env on every node (default: the workers' own)",
    )
    fleet.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=60.0,
        help="with --scheduler: a node that has not answered by then is listed as failed",
    )
    fleet.add_argument(
        "--format",
        choices=("text", "json", "markdown", "html"),
        default="text",
        help="html: one self-contained page to open and sort (no network), best with -o",
    )
    fleet.add_argument(
        "-o", "--output", metavar="FILE", help="write here (default: stdout; - is stdout)"
    )
    fleet.add_argument(
        "--force",
        action="store_true",
        help="with -o: write where a symbolic link points (refused otherwise)",
    )
    fleet.add_argument(
        "--fail-on",
        choices=("outlier", "failed", "error", "warning"),
        help="exit 1 when there is an outlier, a failed node, or a finding this severe",
    )


def _node_name(data: dict[str, Any], filename: str) -> str:
    hostname = data.get("hostname")
    if isinstance(hostname, str) and hostname and hostname != "<host>":
        return hostname
    return filename.rsplit(".", 1)[0]  # a redacted snapshot: the file is named for its node


def read_snapshot_dir(directory: str) -> tuple[list[Any], list[tuple[str, str]]]:
    """The snapshots in a directory (``*.json``), and the files that are not snapshots."""
    from ._fleet import NodeInput
    from ._sharecli import load_snapshot_file
    from .snapshot import is_snapshot_document

    if not os.path.isdir(directory):
        raise UsageError(f"--from {directory}: no such directory")
    nodes, failed = [], []
    seen: set[str] = set()
    for filename in sorted(os.listdir(directory)):
        if not filename.endswith(".json"):
            continue
        path = os.path.join(directory, filename)
        kind = _not_regular(path)
        if kind is not None:  # opening a FIFO to read waits for a writer: never open one
            failed.append((filename.rsplit(".", 1)[0], f"{filename}: {kind}, not a file"))
            continue
        try:
            data = load_snapshot_file(path)
        except UsageError as exc:
            failed.append((filename.rsplit(".", 1)[0], exc.message))
            continue
        if not is_snapshot_document(data):
            failed.append((filename.rsplit(".", 1)[0], f"{filename}: not a cudaenv snapshot"))
            continue
        name = _node_name(data, filename)
        if name in seen:  # two files from one host: keep the first, say so
            failed.append((f"{name} ({filename})", "a second snapshot of this node"))
            continue
        seen.add(name)
        nodes.append(NodeInput(name, data))
    return nodes, failed


def _not_regular(path: str) -> Optional[str]:
    """What ``path`` is when it is not a regular file (after links): a FIFO, a device ..."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return exc.strerror or "unreadable"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def _gather(args: argparse.Namespace) -> tuple[list[Any], list[tuple[str, str]]]:
    if args.source is not None:
        if args.prefix or args.python:
            raise UsageError("--prefix and --python go with --scheduler (snapshots say their env)")
        nodes, failed = read_snapshot_dir(args.source)
        if not nodes and not failed:
            raise UsageError(f"--from {args.source}: no snapshot files (*.json) there")
        return nodes, failed
    from ._fleetdask import gather_from_dask

    if not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    target = None
    if args.prefix:
        target = ["--prefix", args.prefix]
    elif args.python:
        target = ["--python", args.python]
    address = args.scheduler or _scheduler_address(args.scheduler_file)
    return gather_from_dask(address, target, args.timeout)


def _scheduler_address(path: str) -> str:
    """The address in a Dask scheduler file (Dask's own reader waits for a missing file)."""
    from ._cli import read_json_object

    label = f"--scheduler-file {path}"
    data = read_json_object(
        path, label, UsageError, not_json="not JSON", not_object="not a Dask scheduler file"
    )
    address = data.get("address")
    if not isinstance(address, str) or not address:
        raise UsageError(f"{label}: no scheduler address in it")
    return address


def _fleet(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._cli import write_output
    from ._fleet import aggregate, fleet_to_dict
    from ._redact import Redaction, redact_text, redact_tree
    from ._render.fleet import render_fleet_markdown, render_fleet_text
    from ._render.json import json_document

    nodes, failed = _gather(args)
    fleet = aggregate(nodes, failed)
    rules = Redaction(secrets=True)  # also shows a redacted home as ~ again
    if args.format == "json":
        document = redact_tree(fleet_to_dict(fleet), rules)
        text = json_document(document)
    elif args.format == "html":
        from ._render.fleet import fleet_summary
        from ._render.fleet_html import render_fleet_html

        document = redact_tree(fleet_to_dict(fleet), rules)
        text = render_fleet_html(document, fleet_summary(fleet))
    elif args.format == "markdown":
        text = redact_text(render_fleet_markdown(fleet), rules)
    else:
        text = redact_text(render_fleet_text(fleet), rules)
    write_output(text, args.output, stdout, "fleet report", force=args.force)
    gate = args.fail_on
    if gate == "outlier" and fleet.outliers:
        return EXIT_FAIL_ON
    if gate == "failed" and fleet.failed:
        return EXIT_FAIL_ON
    severities = {"error": ("error",), "warning": ("error", "warning")}.get(gate or "", ())
    if any(v["severity"] in severities for v in fleet.findings.values()):
        return EXIT_FAIL_ON
    return EXIT_OK


handlers: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {"fleet": _fleet}
