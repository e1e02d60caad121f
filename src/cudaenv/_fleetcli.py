"""``cudaenv fleet``: one diagnosis across many nodes (``--from DIR`` of snapshot files)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable, TextIO

from .errors import UsageError

__all__ = ["add_commands", "handlers"]

EXIT_OK, EXIT_FAIL_ON = 0, 1


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:  # argparse's own type
    fleet = sub.add_parser(
        "fleet", help="one diagnosis across many nodes: groups by CUDA stack, the odd ones out"
    )
    fleet.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        required=True,
        help="a directory of snapshot files (each node: cudaenv snapshot -o DIR/$(hostname).json)",
    )
    fleet.add_argument("--format", choices=("text", "json", "markdown"), default="text")
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
    from ._redact import unredact_paths
    from ._sharecli import load_snapshot_file

    if not os.path.isdir(directory):
        raise UsageError(f"--from {directory}: no such directory")
    nodes, failed = [], []
    seen: set[str] = set()
    for filename in sorted(os.listdir(directory)):
        if not filename.endswith(".json"):
            continue
        path = os.path.join(directory, filename)
        try:
            data = load_snapshot_file(path)
        except UsageError as exc:
            failed.append((filename.rsplit(".", 1)[0], exc.message))
            continue
        if not str(data.get("schema", "")).startswith("cudaenv.snapshot/"):
            failed.append((filename.rsplit(".", 1)[0], f"{filename}: not a cudaenv snapshot"))
            continue
        if "home" in (data.get("redacted") or []):
            data = unredact_paths(data)
        name = _node_name(data, filename)
        if name in seen:  # two files from one host: keep the first, say so
            failed.append((f"{name} ({filename})", "a second snapshot of this node"))
            continue
        seen.add(name)
        nodes.append(NodeInput(name, data))
    return nodes, failed


def _fleet(args: argparse.Namespace, stdout: TextIO) -> int:
    from ._fleet import aggregate, fleet_to_dict
    from ._render.fleet import render_fleet_markdown, render_fleet_text

    nodes, failed = read_snapshot_dir(args.source)
    if not nodes and not failed:
        raise UsageError(f"--from {args.source}: no snapshot files (*.json) there")
    from ._redact import Redaction, redact_text, redact_tree

    fleet = aggregate(nodes, failed)
    rules = Redaction(secrets=True)  # also shows a redacted home as ~ again
    if args.format == "json":
        document = redact_tree(fleet_to_dict(fleet), rules)
        stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    elif args.format == "markdown":
        stdout.write(redact_text(render_fleet_markdown(fleet), rules))
    else:
        stdout.write(redact_text(render_fleet_text(fleet), rules))
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
