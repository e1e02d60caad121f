"""Loader answers (``cudaenv which``) as text."""

from __future__ import annotations

from typing import Any

__all__ = ["render_which"]

_RULE = {
    "rpath": "DT_RPATH",
    "runpath": "DT_RUNPATH",
    "ld_library_path": "LD_LIBRARY_PATH",
    "cache": "/etc/ld.so.cache",
    "default": "a default directory",
    "loaded": "already loaded (reused)",
    "path": "the path as given",
}


def _resolution(answer: dict[str, Any]) -> list[str]:
    name = answer["name"]
    if answer.get("error"):
        head = f"{name}: the loader stops: {answer['error']}"
    elif answer["path"] is None:
        head = f"{name}: not found"
    else:
        head = f"{name} → {answer['path']}  (via {_RULE.get(answer['via'], answer['via'])})"
    lines = [head]
    if answer.get("needed_by"):
        lines.append(f"  needed by {answer['needed_by']}")
    tried = answer.get("tried", [])
    if tried:
        lines.append("  tried, in order:")
        width = max(len(t["via"]) for t in tried)
        lines += [f"    {t['via']:<{width}}  {t['result']:<13} {t['path']}" for t in tried]
    return lines


def render_which(answer: dict[str, Any]) -> str:
    if "objects" in answer:
        lines = []
        for entry in answer["objects"]:
            where = entry["path"] or "not found"
            via = f" ({entry['via']})" if entry["via"] else ""
            error = f"  ✗ {entry['error']}" if entry.get("error") else ""
            lines.append(f"{entry['name']} → {where}{via}   ← {entry['needed_by']}{error}")
        return "\n".join(lines) + "\n"
    return "\n".join(_resolution(answer)) + "\n"
