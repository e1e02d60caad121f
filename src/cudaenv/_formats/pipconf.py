"""pip configuration files (INI) and pip's boolean spelling."""

from __future__ import annotations

from typing import Optional

__all__ = ["normalize_pip_key", "parse_pip_config", "pip_bool"]


def normalize_pip_key(name: str) -> str:
    """pip's own normalisation of option names: ``--no_cache`` ≡ ``no-cache``."""
    name = name.strip().lower().replace("_", "-")
    return name.removeprefix("--")


def parse_pip_config(text: str) -> dict[str, dict[str, tuple[str, int]]]:
    """section → key → (value, line number) for a pip config file.

    A small INI reader (configparser has no line numbers): ``[section]``, ``key = value`` or
    ``key: value``, ``#``/``;`` comments, indented continuation lines.
    """
    sections: dict[str, dict[str, tuple[str, int]]] = {}
    current: Optional[dict[str, tuple[str, int]]] = None
    last_key: Optional[str] = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if raw[0].isspace() and current is not None and last_key is not None:
            value, line = current[last_key]
            current[last_key] = ((value + "\n" + stripped).strip(), line)
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1].strip().lower(), {})
            last_key = None
            continue
        if current is None:
            continue
        sep_at = min((i for i in (raw.find("="), raw.find(":")) if i >= 0), default=-1)
        if sep_at < 0:
            continue
        last_key = normalize_pip_key(raw[:sep_at])
        current[last_key] = (raw[sep_at + 1 :].strip(), number)
    return sections


_TRUE = {"y", "yes", "t", "true", "on", "1"}
_FALSE = {"n", "no", "f", "false", "off", "0"}


def pip_bool(value: str) -> Optional[bool]:
    """pip's ``strtobool``: ``None`` for a spelling pip would reject."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None
