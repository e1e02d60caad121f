"""``pyvenv.cfg``: the file that makes a directory a virtual environment."""

from __future__ import annotations

__all__ = ["parse_pyvenv_cfg"]


def parse_pyvenv_cfg(text: str) -> dict[str, str]:
    """``key = value`` lines, keys lower-cased, as CPython's ``site.venv()`` reads them."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        key, sep, value = raw.partition("=")
        if not sep:
            continue
        values[key.strip().lower()] = value.strip()
    return values
