"""One diagnosis across many nodes: snapshots grouped by CUDA stack, the outliers and why.

Pure: snapshot documents (and, when the node sent them, its findings) in, the aggregate out.
A node's *stack* is what decides whether CUDA code behaves the same there: the driver, the
GPUs, the toolkit each consumer would use, the frameworks and the CUDA they were built for,
and the CUDA libraries the loader picks (file and version).  Nodes with equal stacks form a
group; the largest group is the majority, and every other node is an outlier, shown with
what differs from the majority (its stack, then the recorded variables that explain it, such
as an LD_LIBRARY_PATH a module system set) and its findings.

Fleets are mostly identical machines, so documents that are equal but for the host name are
checked once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Optional

from ._diff import diff_snapshots
from ._records import field, record

__all__ = [
    "FLEET_SCHEMA",
    "Fleet",
    "NodeInput",
    "aggregate",
    "cuda_stack",
    "fleet_to_dict",
    "ranked_findings",
]

FLEET_SCHEMA = "cudaenv.fleet/1"
_NODE_IDENTITY = ("hostname",)  # differs on every node by design


@record
class NodeInput:
    """What one node sent: its name, its snapshot document, its findings when computed there."""

    name: str
    snapshot: dict[str, Any]
    findings: Optional[list[dict[str, Any]]] = None


@record
class Outlier:
    node: str
    group: int
    """Index of the node's group in ``Fleet.groups``."""
    differs: tuple[str, ...]
    findings: tuple[dict[str, Any], ...]


@record
class Group:
    nodes: tuple[str, ...]
    stack: dict[str, Any]


@record
class Fleet:
    groups: tuple[Group, ...]
    """Largest first (ties: by the first node's name); the first is the majority."""
    outliers: tuple[Outlier, ...]
    failed: tuple[tuple[str, str], ...]
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)
    """code → severity, title and the nodes that have it."""

    @property
    def nodes(self) -> int:
        return sum(len(g.nodes) for g in self.groups) + len(self.failed)


def _library_picks(libraries: dict[str, Any]) -> list[dict[str, Any]]:
    """The CUDA libraries of the modelled process: the file the loader picks for each name."""
    picks: dict[str, dict[str, Any]] = {}
    loaded = [*libraries.get("preload", []), *libraries.get("opened_by_name", [])]
    for tree in libraries.get("trees", []):
        loaded += tree.get("objects", [])
    for lib in loaded:
        name = lib.get("name")
        if lib.get("cuda") and name not in picks:
            picks[name] = {
                "name": name,
                "path": lib.get("path"),
                "version": lib.get("version"),
                "error": lib.get("error"),
            }
    return [picks[name] for name in sorted(picks)]


def cuda_stack(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The facts that decide how CUDA code behaves on a node, as a plain JSON value."""
    driver = snapshot.get("driver") or {}
    libcuda = driver.get("libcuda") or {}
    toolkits = {t.get("root"): t for t in snapshot.get("toolkits", [])}
    return {
        "driver": {
            "loaded": driver.get("loaded", False),
            "version": driver.get("version"),
            "cuda": driver.get("cuda"),
            "libcuda": libcuda.get("real") or libcuda.get("path"),
        },
        "gpus": sorted(
            f"{g.get('model') or '?'} ({g.get('capability') or '?'})"
            for g in snapshot.get("gpus", [])
        ),
        "toolkits": {
            c["consumer"]: (
                f"{c['root']} ({(toolkits.get(c['root']) or {}).get('version') or '?'})"
                if c.get("root")
                else None
            )
            for c in snapshot.get("toolkit_choices", [])
        },
        "frameworks": [
            {k: f.get(k) for k in ("name", "version", "cuda", "variant")}
            for f in snapshot.get("frameworks", [])
        ],
        "libraries": _library_picks(snapshot.get("libraries") or {}),
    }


def _without_identity(snapshot: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in snapshot.items() if k not in _NODE_IDENTITY}, sort_keys=True
    )


def _comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with its home and user name as placeholders (``/~``, ``<user>``).

    Snapshots come redacted (``cudaenv snapshot``) or not (``--no-redact``, a Dask worker),
    and users differ from node to node; neither is a difference in the CUDA stack.  Secrets
    stay: the checks may need them, and what is shown is redacted as a whole."""
    from ._redact import identity_rules, redact_tree, unredact_paths  # noqa: PLC0415

    redacted = list(snapshot.get("redacted") or [])
    if "home" not in redacted:
        environ = snapshot.get("environ") or {}
        rules = identity_rules(snapshot.get("home"), environ, None, secrets=False)
        if rules.identity:
            snapshot = redact_tree(snapshot, rules)
            snapshot["redacted"] = sorted({*redacted, *rules.kinds()})
    comparable: dict[str, Any] = unredact_paths(snapshot)
    return comparable


def _findings_of(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    from ._checks import run_checks  # noqa: PLC0415 - only when a node sent no findings
    from .snapshot import Snapshot  # noqa: PLC0415

    return [f.to_dict() for f in run_checks(Snapshot.from_dict(snapshot))]


def _explaining(
    majority: dict[str, Any],
    majority_stack: dict[str, Any],
    node: dict[str, Any],
    stack: dict[str, Any],
) -> list[str]:
    """What differs: the stack, then the recorded variables (the usual why)."""
    lines = [_line(d) for d in diff_snapshots(majority_stack, stack)]
    variables = diff_snapshots(
        {"environ": majority.get("environ", {})}, {"environ": node.get("environ", {})}
    )
    return lines + [_line(d) for d in variables]


def _short(value: Any) -> str:  # noqa: ANN401 - any JSON value
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def _line(d: Any) -> str:  # noqa: ANN401 - a Difference
    if d.kind == "added":
        return f"+ {d.path}: {_short(d.after)}"
    if d.kind == "removed":
        return f"- {d.path}: {_short(d.before)}"
    return f"~ {d.path}: {_short(d.before)} → {_short(d.after)}"


def aggregate(nodes: Iterable[NodeInput], failed: Iterable[tuple[str, str]] = ()) -> Fleet:
    """Group the nodes by CUDA stack; the majority, the outliers and the findings' counts."""
    # Per distinct document (equal but for the host name): its comparable form, findings, stack
    forms: dict[str, dict[str, Any]] = {}
    checked: dict[str, list[dict[str, Any]]] = {}
    stacks: dict[str, tuple[str, dict[str, Any]]] = {}  # document key → (stack key, stack)
    by_stack: dict[str, list[NodeInput]] = {}
    form_of: dict[str, dict[str, Any]] = {}  # node name → its comparable form
    findings_of: dict[str, list[dict[str, Any]]] = {}
    broken = list(failed)
    for node in nodes:
        key = _without_identity(node.snapshot)
        if key not in forms:
            forms[key] = _comparable(node.snapshot)
        form = form_of[node.name] = forms[key]
        if node.findings is not None:
            findings = node.findings
        elif key in checked:
            findings = checked[key]
        else:
            try:
                findings = checked[key] = _findings_of(form)
            except ValueError as exc:  # a snapshot this version cannot read
                broken.append((node.name, str(exc)))
                continue
        findings_of[node.name] = findings
        if key not in stacks:
            stack = cuda_stack(form)
            stacks[key] = (json.dumps(stack, sort_keys=True), stack)
        by_stack.setdefault(stacks[key][0], []).append(node)
    ordered = sorted(
        by_stack.items(), key=lambda item: (-len(item[1]), min(n.name for n in item[1]))
    )
    stack_of = dict(stacks.values())  # stack key → stack
    groups = tuple(
        Group(tuple(sorted(n.name for n in members)), stack_of[stack_key])
        for stack_key, members in ordered
    )
    outliers: list[Outlier] = []
    if ordered:
        majority = form_of[min(n.name for n in ordered[0][1])]
        majority_stack = groups[0].stack
        for index, (_, members) in enumerate(ordered[1:], start=1):
            for node in sorted(members, key=lambda n: n.name):
                form = form_of[node.name]
                differs = _explaining(majority, majority_stack, form, groups[index].stack)
                outliers.append(
                    Outlier(node.name, index, tuple(differs), tuple(findings_of[node.name]))
                )
    counts: dict[str, dict[str, Any]] = {}
    for name in sorted(findings_of):
        for f in findings_of[name]:
            entry = counts.setdefault(
                f["code"], {"severity": f["severity"], "title": f["title"], "nodes": []}
            )
            if name not in entry["nodes"]:
                entry["nodes"].append(name)
    return Fleet(groups, tuple(outliers), tuple(sorted(broken)), counts)


def ranked_findings(fleet: Fleet) -> list[tuple[str, dict[str, Any]]]:
    """(code, its severity, title and nodes), those on the most nodes first."""
    return sorted(fleet.findings.items(), key=lambda item: (-len(item[1]["nodes"]), item[0]))


def fleet_to_dict(fleet: Fleet) -> dict[str, Any]:
    """The fleet document (``cudaenv.fleet/1``, as ``spec/worlds.md`` gives it)."""
    return {
        "schema": FLEET_SCHEMA,
        "nodes": fleet.nodes,
        "groups": [{"nodes": list(g.nodes), "stack": g.stack} for g in fleet.groups],
        "outliers": [
            {
                "node": o.node,
                "group": o.group,
                "differs": list(o.differs),
                "findings": list(o.findings),
            }
            for o in fleet.outliers
        ],
        "failed": [{"node": node, "error": error} for node, error in fleet.failed],
        "findings": [
            {"code": code, "severity": v["severity"], "title": v["title"], "nodes": v["nodes"]}
            for code, v in ranked_findings(fleet)
        ],
    }
