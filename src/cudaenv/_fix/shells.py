"""Variables and commands in each shell's syntax, and the activation scripts that persist a
plan's variables (POSIX sh for bash/zsh, fish).

Activation saves each variable's value (or that it was unset) before changing it, and
deactivation restores exactly that — guarded, so a deactivation without a matching activation
touches nothing.  Path variables are rebuilt entry by entry with parameter expansion only,
which bash, zsh (no word splitting needed) and dash all run the same way.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from .plan import VariableChange

__all__ = [
    "SHELLS",
    "activation_scripts",
    "command_line",
    "quote",
    "variable_lines",
]

SHELLS = ("bash", "zsh", "fish", "powershell")
UNSET_MARK = "__cudaenv_unset__"
HEADER = (
    "# Written by `cudaenv fix --apply`: variables this environment needs.\n"
    "# `cudaenv undo` removes it; edits here are lost on the next apply.\n"
)


_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def quote(shell: str, value: str) -> str:
    if shell == "fish":
        if _SAFE.fullmatch(value):
            return value
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if shell == "powershell":
        return "'" + value.replace("'", "''") + "'"
    return shlex.quote(value)


def command_line(shell: str, argv: Sequence[str]) -> str:
    words = [quote(shell, a) if a else "''" for a in argv]
    if shell == "powershell":
        return "& " + " ".join(words)
    return " ".join(words)


def variable_lines(shell: str, name: str, value: str | None) -> list[str]:
    """Set (or unset, for None) one variable in the current shell."""
    if shell == "fish":
        return [f"set -e {name}"] if value is None else [f"set -gx {name} {quote(shell, value)}"]
    if shell == "powershell":
        if value is None:
            return [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue"]
        return [f"$env:{name} = {quote(shell, value)}"]
    return [f"unset {name}"] if value is None else [f"export {name}={quote(shell, value)}"]


# -- POSIX sh (bash, zsh) ---------------------------------------------------------------------


def _sh_path(change: VariableChange) -> list[str]:
    name = change.name
    skip = ":".join((*change.drop, *change.prepend))
    lines = ["_cudaenv_new=''"]
    for entry in change.prepend:
        lines.append(f'_cudaenv_new="${{_cudaenv_new:+$_cudaenv_new:}}"{quote("sh", entry)}')
    lines += [
        f"_cudaenv_skip={quote('sh', skip)}",
        f'_cudaenv_rest="${{{name}-}}"',
        'while [ -n "$_cudaenv_rest" ]; do',
        '    _cudaenv_entry="${_cudaenv_rest%%:*}"',
        '    case "$_cudaenv_rest" in',
        '        *:*) _cudaenv_rest="${_cudaenv_rest#*:}" ;;',
        "        *) _cudaenv_rest='' ;;",
        "    esac",
        '    case ":$_cudaenv_skip:" in',
        '        *":$_cudaenv_entry:"*) ;;',
        (
            '        *) [ -n "$_cudaenv_entry" ] && '
            '_cudaenv_new="${_cudaenv_new:+$_cudaenv_new:}$_cudaenv_entry" ;;'
        ),
        "    esac",
        "done",
        f'if [ -n "$_cudaenv_new" ]; then export {name}="$_cudaenv_new"; else unset {name}; fi',
        "unset _cudaenv_new _cudaenv_rest _cudaenv_entry _cudaenv_skip",
    ]
    return lines


def _sh_activate(changes: Sequence[VariableChange], codes: Sequence[str]) -> str:
    lines = [HEADER.rstrip("\n"), f"# Fixes: {', '.join(codes)}", ""]
    lines.append('if [ -z "${_CUDAENV_ACTIVE-}" ]; then')
    lines.append("_CUDAENV_ACTIVE=1")
    for change in changes:
        name = change.name
        saved = f"_CUDAENV_OLD_{name}"
        lines.append(
            f'if [ -n "${{{name}+x}}" ]; then {saved}="${name}"; else {saved}={UNSET_MARK}; fi'
        )
        if change.mode == "set":
            lines.append(f"export {name}={quote('sh', change.value or '')}")
        elif change.mode == "unset":
            lines.append(f"unset {name}")
        else:
            lines += _sh_path(change)
    lines.append("fi")
    return "\n".join(lines) + "\n"


def _sh_deactivate(changes: Sequence[VariableChange], codes: Sequence[str]) -> str:
    lines = [HEADER.rstrip("\n"), f"# Fixes: {', '.join(codes)}", ""]
    lines.append('if [ -n "${_CUDAENV_ACTIVE-}" ]; then')
    for change in changes:
        name = change.name
        saved = f"_CUDAENV_OLD_{name}"
        lines.append(
            f'if [ "${{{saved}-{UNSET_MARK}}}" = {UNSET_MARK} ]; then unset {name}; '
            f'else export {name}="${saved}"; fi'
        )
        lines.append(f"unset {saved}")
    lines.append("unset _CUDAENV_ACTIVE")
    lines.append("fi")
    return "\n".join(lines) + "\n"


# -- fish -------------------------------------------------------------------------------------


def _fish_activate(changes: Sequence[VariableChange], codes: Sequence[str]) -> str:
    lines = [HEADER.rstrip("\n"), f"# Fixes: {', '.join(codes)}", ""]
    lines.append("if not set -q _CUDAENV_ACTIVE")
    lines.append("    set -g _CUDAENV_ACTIVE 1")
    for change in changes:
        name = change.name
        saved = f"_CUDAENV_OLD_{name}"
        lines.append(
            f"    if set -q {name}; set -g {saved} ${name}; else; set -g {saved} {UNSET_MARK}; end"
        )
        if change.mode == "set":
            lines.append(f"    set -gx {name} {quote('fish', change.value or '')}")
        elif change.mode == "unset":
            lines.append(f"    set -e {name}")
        else:
            prepend = " ".join(quote("fish", e) for e in change.prepend)
            skip = " ".join(quote("fish", e) for e in (*change.drop, *change.prepend))
            lines += [
                f"    set -l _cudaenv_new {prepend}".rstrip(),
                f"    set -l _cudaenv_skip {skip}".rstrip(),
                f'    for _cudaenv_entry in (string split : -- "${name}")',
                (
                    '        if test -n "$_cudaenv_entry"; and not contains -- $_cudaenv_entry '
                    "$_cudaenv_skip"
                ),
                "            set -a _cudaenv_new $_cudaenv_entry",
                "        end",
                "    end",
                "    if test (count $_cudaenv_new) -gt 0",
                f"        set -gx {name} (string join : -- $_cudaenv_new)",
                "    else",
                f"        set -e {name}",
                "    end",
            ]
    lines.append("end")
    return "\n".join(lines) + "\n"


def _fish_deactivate(changes: Sequence[VariableChange], codes: Sequence[str]) -> str:
    lines = [HEADER.rstrip("\n"), f"# Fixes: {', '.join(codes)}", ""]
    lines.append("if set -q _CUDAENV_ACTIVE")
    for change in changes:
        name = change.name
        saved = f"_CUDAENV_OLD_{name}"
        lines += [
            f'    if test "${saved}" = {UNSET_MARK}',
            f"        set -e {name}",
            "    else",
            f"        set -gx {name} ${saved}",
            "    end",
            f"    set -e {saved}",
        ]
    lines.append("    set -e _CUDAENV_ACTIVE")
    lines.append("end")
    return "\n".join(lines) + "\n"


def activation_scripts(changes: Sequence[VariableChange], codes: Sequence[str]) -> dict[str, str]:
    """{"activate.sh", "deactivate.sh", "activate.fish", "deactivate.fish"} → contents."""
    return {
        "activate.sh": _sh_activate(changes, codes),
        "deactivate.sh": _sh_deactivate(changes, codes),
        "activate.fish": _fish_activate(changes, codes),
        "deactivate.fish": _fish_deactivate(changes, codes),
    }
