"""Jupyter ``kernel.json`` files."""

from __future__ import annotations

import json
from typing import Optional

__all__ = ["KernelspecError", "parse_kernel_json"]


class KernelspecError(ValueError):
    """The text is not a kernelspec Jupyter could use."""


def parse_kernel_json(text: str) -> tuple[Optional[str], tuple[str, ...]]:
    """(display_name, argv) of a kernelspec."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise KernelspecError(f"not valid JSON: {exc}") from exc
    except RecursionError:  # [[[[... nested beyond what the parser follows
        raise KernelspecError("not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise KernelspecError("not a JSON object")
    argv = data.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise KernelspecError("argv is not a non-empty list of strings")
    display = data.get("display_name")
    return (display if isinstance(display, str) else None), tuple(argv)
