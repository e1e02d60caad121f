"""A plan's variables applied to an environment mapping: what activation (or ``cudaenv run``)
makes of the variables the shell has now."""

from __future__ import annotations

from collections.abc import Mapping

from .plan import VariableChange

__all__ = ["apply_variables", "path_value"]


def path_value(current: str | None, change: VariableChange) -> str | None:
    """``prepend`` first, then the current entries minus ``drop`` (and minus duplicates of
    what was prepended); None when nothing is left."""
    entries = list(change.prepend)
    for entry in (current or "").split(":"):
        if entry and entry not in change.drop and entry not in entries:
            entries.append(entry)
    return ":".join(entries) or None


def apply_variables(
    environ: Mapping[str, str], changes: tuple[VariableChange, ...]
) -> tuple[dict[str, str], list[tuple[str, str | None, str | None]]]:
    """(the new mapping, [(name, before, after)] for every variable that changed)."""
    result = dict(environ)
    changed = []
    for change in changes:
        before = result.get(change.name)
        if change.mode == "set":
            after: str | None = change.value
        elif change.mode == "unset":
            after = None
        else:
            after = path_value(before, change)
        if after is None:
            result.pop(change.name, None)
        else:
            result[change.name] = after
        if before != after:
            changed.append((change.name, before, after))
    return result, changed
