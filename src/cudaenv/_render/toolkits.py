"""``cudaenv toolkits`` as text: each toolkit found, then each consumer's choice."""

from __future__ import annotations

from ..snapshot import Snapshot, Toolkit

__all__ = ["render_toolkits"]


def _has(value: object, yes: str, no: str) -> str:
    return yes if value else no


def _toolkit_lines(toolkit: Toolkit) -> list[str]:
    version = toolkit.version or "version unknown"
    head = f"{toolkit.root}  [{toolkit.source}, CUDA {version}]"
    if not toolkit.exists:
        return [f"{toolkit.root}  [named by {', '.join(toolkit.named_by)}; does not exist]"]
    lines = [head, f"    named by: {', '.join(toolkit.named_by)}"]
    if toolkit.version_from:
        lines.append(f"    version from: {toolkit.version_from}")
    headers = toolkit.include_dir or toolkit.targets_include
    if toolkit.nvcc_toolkit:
        lines.append(f"    nvcc belongs to {toolkit.nvcc_toolkit} (CUDA {toolkit.nvcc_version})")
    lines.append(
        f"    nvcc: {toolkit.nvcc or 'none'} · headers: {headers or 'none'} · "
        f"ptxas: {_has(toolkit.ptxas, 'yes', 'no')} · libdevice: "
        f"{_has(toolkit.libdevice, 'yes', 'no')}"
    )
    if toolkit.libraries:
        lines.append(f"    libraries: {', '.join(toolkit.libraries)}")
    if toolkit.stubs:
        lines.append(f"    driver stubs (link time only): {', '.join(toolkit.stubs)}")
    return lines


def render_toolkits(snapshot: Snapshot) -> str:
    lines: list[str] = []
    if not snapshot.toolkits:
        lines.append("No CUDA toolkit found.")
    for toolkit in snapshot.toolkits:
        lines += [*_toolkit_lines(toolkit), ""]
    lines.append("Which toolkit each consumer would use:")
    for choice in snapshot.toolkit_choices:
        lines.append(f"    {choice.consumer:<6} {choice.root or 'none'}  ({choice.rule})")
    return "\n".join(lines) + "\n"
