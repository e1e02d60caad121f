"""``cudaenv explain CODE``: a finding's documentation, from the reference shipped in the
package (``data/findings.md``, the same text as docs/findings.md)."""

from __future__ import annotations

import difflib
import functools
import re
from importlib import resources

from .errors import UsageError

__all__ = ["areas", "explain", "sections"]


@functools.lru_cache(maxsize=1)  # the packaged reference does not change in a process
def sections() -> dict[str, str]:
    """code → its section of the findings reference (heading included)."""
    text = resources.files("cudaenv").joinpath("data/findings.md").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    parts = re.split(r"^(### `[a-z0-9-]+`)\s*$", text, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2]):
        code = heading[5:-1]
        body = re.split(r"^## ", body, maxsplit=1, flags=re.MULTILINE)[0]
        found[code] = f"{code}\n{'=' * len(code)}\n{body.strip()}\n"
    return found


@functools.lru_cache(maxsize=1)
def areas() -> dict[str, str]:
    """code → the heading of its part of the reference (``Driver and GPU``, ...)."""
    text = resources.files("cudaenv").joinpath("data/findings.md").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for part in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        heading = part.split("\n", 1)[0].strip()
        for code in re.findall(r"^### `([a-z0-9-]+)`", part, flags=re.MULTILINE):
            found[code] = heading
    return found


def explain(code: str) -> str:
    """The reference of ``code`` (any case, surrounding spaces and backquotes ignored), as
    plain text: Markdown's emphasis and code marks dropped."""
    known = sections()
    code = code.strip().strip("`").lower()
    if code in known:
        return _plain(known[code])
    close = difflib.get_close_matches(code, list(known), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else " (cudaenv explain --help)"
    raise UsageError(f"unknown finding code {code!r}{hint}")


def _plain(markdown: str) -> str:
    """Markdown's inline marks out of the way of a terminal reader: **bold**, *italic* and
    `code` keep their words; nothing else in the reference is markup."""
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", markdown)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    return re.sub(r"`([^`\n]+)`", r"\1", text)
