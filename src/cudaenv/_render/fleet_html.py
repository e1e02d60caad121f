"""The fleet view as one self-contained HTML file: inline style and script, no network.

Rendered from the fleet document (``cudaenv.fleet/1``, already redacted), so the page shows
exactly what ``--format json`` gives.  The tables are plain HTML, readable without
JavaScript; the script adds sorting (click a column heading) and a filter over the nodes.
A Content-Security-Policy forbids every fetch, so opening the file never reaches a network.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from ._words import SEVERITY_MARK
from .fleet import stack_parts

__all__ = ["render_fleet_html"]

_RANK = {"failed": 4, "error": 3, "warning": 2, "info": 1, "": 0}
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

_FILTER = (
    '<input id="filter" type="search" placeholder="Filter nodes (name, driver, finding…)"'
    ' aria-label="Filter nodes">'
)

_STYLE = """
:root { color-scheme: light dark; --line: #8884; --muted: #777; --error: #c62828;
  --warning: #b26a00; --info: #1565c0; --ok: #2e7d32; --band: #8881; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
  max-width: 90rem; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 2rem 0 .5rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
.cards { display: flex; gap: .75rem; flex-wrap: wrap; margin: 1rem 0; }
.card { border: 1px solid var(--line); border-radius: .5rem; padding: .5rem 1rem; min-width: 7rem; }
.card b { display: block; font-size: 1.5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left;
  vertical-align: top; }
tbody tr:nth-child(even) { background: var(--band); }
th { white-space: nowrap; }
tr.outlier-node td:first-child { box-shadow: inset 3px 0 var(--warning); }
tr.failed-node td:first-child { box-shadow: inset 3px 0 var(--error); }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button::after { content: " \\2195"; color: var(--muted); }
th[aria-sort=ascending] button::after { content: " \\2191"; color: inherit; }
th[aria-sort=descending] button::after { content: " \\2193"; color: inherit; }
th button:focus-visible { outline: 2px solid var(--info); }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { overflow-x: auto; padding: .5rem; border: 1px solid var(--line); border-radius: .25rem; }
.error { color: var(--error); } .warning { color: var(--warning); } .info { color: var(--info); }
.failed { color: var(--error); font-weight: 600; } .majority { color: var(--ok); }
.outlier { color: var(--warning); font-weight: 600; }
.differs { font-weight: 600; text-decoration: underline dotted var(--warning); }
#filter { font: inherit; padding: .3rem .5rem; width: 20rem; max-width: 100%; margin: 0 0 .5rem; }
details { margin: .5rem 0; } summary { cursor: pointer; }
"""

_SCRIPT = """
"use strict";
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
const keyOf = (row, column) => {
  const cell = row.cells[column];
  return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
};
for (const table of document.querySelectorAll("table.sortable")) {
  const headings = Array.from(table.tHead.rows[0].cells);
  headings.forEach((heading, column) => {
    heading.querySelector("button").addEventListener("click", () => {
      const ascending = heading.getAttribute("aria-sort") !== "ascending";
      for (const other of headings) other.removeAttribute("aria-sort");
      heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const x = keyOf(a, column), y = keyOf(b, column);
        const numeric = x !== "" && y !== "" && !isNaN(x) && !isNaN(y);
        const order = numeric ? Number(x) - Number(y) : collator.compare(x, y);
        return ascending ? order : -order;
      });
      for (const row of rows) body.appendChild(row);
    });
  });
}
const filter = document.getElementById("filter");
filter.addEventListener("input", () => {
  const wanted = filter.value.trim().toLowerCase();
  for (const row of document.getElementById("nodes").tBodies[0].rows) {
    row.hidden = wanted !== "" && !row.textContent.toLowerCase().includes(wanted);
  }
});
"""


def _cell(text: str, *, sort: Any = None, css: str = "") -> str:  # noqa: ANN401 - str or int
    attributes = f' data-sort="{escape(str(sort))}"' if sort is not None else ""
    attributes += f' class="{css}"' if css else ""
    return f"<td{attributes}>{escape(text)}</td>"


def _table(table_id: str, headings: list[str], rows: list[str]) -> str:
    head = "".join(f"<th><button type=button>{escape(h)}</button></th>" for h in headings)
    return (
        f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _node_findings(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    by_node: dict[str, list[dict[str, Any]]] = {}
    for finding in document["findings"]:
        for node in finding["nodes"]:
            by_node.setdefault(node, []).append(finding)
    return by_node


def _node_rows(document: dict[str, Any]) -> list[str]:
    findings_of = _node_findings(document)
    groups = document["groups"]
    majority = stack_parts(groups[0]["stack"]) if groups else ("", "", "")
    rows = []
    for index, group in enumerate(groups):
        parts = stack_parts(group["stack"])
        driver, gpus, frameworks = (
            _cell(part.removeprefix("GPUs: "), css="differs" if part != usual else "")
            for part, usual in zip(parts, majority)
        )
        status = "majority" if index == 0 else "outlier"
        for node in group["nodes"]:
            found = [f for f in findings_of.get(node, []) if f["severity"] != "info"]
            worst = max((f["severity"] for f in found), key=_RANK.__getitem__, default="")
            codes = ", ".join(f"{SEVERITY_MARK[f['severity']]} {f['code']}" for f in found)
            rows.append(
                f'<tr class="{status}-node">'
                + _cell(node)
                + _cell(str(index + 1), sort=index + 1)
                + _cell(status, sort=1 if index else 0, css=status)
                + driver
                + gpus
                + frameworks
                + _cell(worst or "—", sort=_RANK[worst], css=worst)
                + _cell(codes or "none", sort=len(found))
                + "</tr>"
            )
    for failed in document["failed"]:
        rows.append(
            '<tr class="failed-node">'
            + _cell(failed["node"])
            + _cell("—", sort=len(document["groups"]) + 1)
            + _cell("failed", sort=2, css="failed")
            + _cell("")
            + _cell("")
            + _cell("")
            + _cell("failed", sort=_RANK["failed"], css="failed")
            + _cell(failed["error"], sort=-1)
            + "</tr>"
        )
    return rows


def _outliers(document: dict[str, Any]) -> str:
    parts = []
    for outlier in document["outliers"]:
        found = "".join(
            f'<li class="{f["severity"]}">{escape(SEVERITY_MARK[f["severity"]])} '
            f"<code>{escape(f['code'])}</code>: {escape(f['title'])}</li>"
            for f in outlier["findings"]
            if f["severity"] != "info"
        )
        differs = "\n".join(outlier["differs"]) or "(nothing recorded differs)"
        parts.append(
            f"<details open><summary><b>{escape(outlier['node'])}</b> (group "
            f"{outlier['group'] + 1})</summary><pre>{escape(differs)}</pre>"
            f"<ul>{found}</ul></details>"
        )
    return "".join(parts)


def render_fleet_html(document: dict[str, Any], summary: str) -> str:
    """One HTML file for the fleet document; ``summary`` is the one-line count of nodes."""
    groups = document["groups"]
    group_rows = [
        "<tr>"
        + _cell(str(index + 1), sort=index + 1)
        + _cell(str(len(group["nodes"])), sort=len(group["nodes"]))
        + "".join(_cell(part.removeprefix("GPUs: ")) for part in stack_parts(group["stack"]))
        + _cell(", ".join(group["nodes"]))
        + "</tr>"
        for index, group in enumerate(groups)
    ]
    diagnosed = document["nodes"] - len(document["failed"])
    finding_rows = [
        "<tr>"
        + _cell(f"{len(f['nodes'])}/{diagnosed}", sort=len(f["nodes"]))
        + _cell(f["severity"], sort=_RANK[f["severity"]], css=f["severity"])
        + _cell(f["code"])
        + _cell(f["title"])
        + _cell(", ".join(f["nodes"]))
        + "</tr>"
        for f in document["findings"]
    ]
    cards = [
        ("nodes", document["nodes"]),
        ("alike (majority)", len(groups[0]["nodes"]) if groups else 0),
        ("groups", len(groups)),
        ("outliers", len(document["outliers"])),
        ("failed", len(document["failed"])),
    ]
    body = [
        f"<h1>cudaenv fleet</h1><p class=meta>{escape(summary)}</p>",
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{n}</b>{escape(label)}</div>' for label, n in cards)
        + "</div>",
        "<h2>Nodes</h2>",
        _FILTER,
        _table(
            "nodes",
            ["Node", "Group", "Status", "Driver", "GPUs", "Frameworks", "Worst", "Findings"],
            _node_rows(document),
        ),
        "<h2>Groups (largest first)</h2>",
        _table("groups", ["Group", "Nodes", "Driver", "GPUs", "Frameworks", "Members"], group_rows),
    ]
    if document["outliers"]:
        body += ["<h2>Outliers: what differs from the majority</h2>", _outliers(document)]
    if finding_rows:
        body += [
            "<h2>Findings across nodes</h2>",
            _table("findings", ["Nodes", "Severity", "Code", "Finding", "Where"], finding_rows),
        ]
    data = json.dumps(document, ensure_ascii=True).replace("<", "\\u003c")  # never ends the tag
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>cudaenv fleet — {escape(summary)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}"
        f'<script type="application/json" id="fleet-document">{data}</script>'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
