"""A plan for a person (text, in the syntax of their shell) and for programs (JSON)."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from .._serial import to_json
from .environ import apply_variables
from .persist import file_changes
from .plan import Plan
from .shells import command_line, variable_lines

__all__ = ["plan_json", "plan_text"]


def _codes(codes: tuple[str, ...]) -> str:
    return f"[{', '.join(codes)}]"


def _where(plan: Plan) -> str:
    if plan.persistence == "conda":
        return "etc/conda/activate.d (conda restores the old values on deactivate)"
    if plan.persistence == "venv":
        return "etc/cudaenv, called from bin/activate (deactivate restores the old values)"
    return "nowhere: this environment has no activation (use `cudaenv run` or `cudaenv env`)"


def plan_text(
    plan: Plan, environ: Mapping[str, str], shell: str, *, applying: bool, files: bool = True
) -> str:
    """``files``: name the files an apply would write (only on the live machine)."""
    lines = [f"cudaenv fix — {plan.env_label}"]
    if plan.empty:
        lines += ["", "Nothing to fix."]
        return "\n".join(lines) + "\n"
    lines.append("")
    if not applying:
        lines.append(
            "Plan (dry run: nothing is changed; `cudaenv fix --apply` applies it, "
            "`cudaenv undo` takes it back)"
        )
    else:
        lines.append("Plan")
    number = 0
    for step in plan.packages:
        number += 1
        lines.append(f" {number}. {command_line(shell, step.argv)}  {_codes(step.codes)}")
        for why in step.why:
            lines.append(f"      why: {why}")
    for setting in plan.settings:
        number += 1
        lines.append(
            f" {number}. set `{setting.key} = {setting.value}` in {setting.path}  "
            f"{_codes(setting.codes)}"
        )
    if plan.variables:
        number += 1
        lines.append(f" {number}. variables of this environment, kept in {_where(plan)}:")
        _, changed = apply_variables(environ, plan.variables)
        after = {name: value for name, _, value in changed}
        for change in plan.variables:
            if change.mode == "path":
                parts = []
                if change.prepend:
                    parts.append("first " + ", ".join(change.prepend))
                if change.drop:
                    parts.append("without " + ", ".join(change.drop))
                text = f"{change.name}: " + "; ".join(parts)
            elif change.mode == "set":
                text = f"{change.name}={change.value}"
            else:
                text = f"unset {change.name}"
            lines.append(f"      {text}  {_codes(change.codes)}")
            if change.name in after and change.mode == "path":
                lines.append(f"        now: {after[change.name] or '(unset)'}")
    if files and plan.persistence and plan.variables and plan.prefix:
        written, _ = file_changes(plan)
        if written:
            lines.append("      files: " + ", ".join(_short(plan.prefix, f.path) for f in written))
    if plan.variables:
        _, changed = apply_variables(environ, plan.variables)
        if changed:
            lines += ["", f"For this shell, now ({shell}):"]
            for name, _, value in changed:
                lines += ["  " + line for line in variable_lines(shell, name, value)]
    if plan.manual:
        lines += ["", "Needs you (cudaenv does not do these):"]
        for manual in plan.manual:
            lines.append(f"  - {manual.text}  {_codes(manual.codes)}")
    if plan.conflicts:
        lines += ["", "Left out (another finding asks for something else):"]
        lines += [f"  - {c}" for c in plan.conflicts]
    if plan.protected and (plan.packages or plan.settings or plan.variables):
        lines += [
            "",
            (
                f"{plan.env_label} is shared by everything on the machine: --apply changes it only "
                "with --force."
            ),
        ]
    return "\n".join(lines) + "\n"


def _short(prefix: str, path: str) -> str:
    return posixpath.relpath(path, prefix) if path.startswith(prefix + "/") else path


def plan_json(plan: Plan, environ: Mapping[str, str], *, files: bool = True) -> dict[str, Any]:
    written, notes = file_changes(plan) if plan.prefix and files else ([], [])
    _, changed = apply_variables(environ, plan.variables)
    data: dict[str, Any] = to_json(plan)
    data["schema"] = "cudaenv.plan/1"
    data["files"] = [{"path": f.path, "remove": f.content is None, "why": f.why} for f in written]
    data["notes"] = notes
    data["environment"] = [
        {"name": name, "before": before, "after": after} for name, before, after in changed
    ]
    return data
