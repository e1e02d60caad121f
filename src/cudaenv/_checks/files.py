"""Files that exist but could not be read or parsed."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding
from ..snapshot import Snapshot
from ._common import finding

__all__ = ["unreadable_file"]


def unreadable_file(s: Snapshot) -> Iterator[Finding]:
    items = [(p.path, p.error) for p in s.problems]
    items += [(k.path, k.error) for k in s.kernels if k.error]
    if not items:
        return
    yield finding(
        "unreadable-file",
        f"{len(items)} file(s) could not be read or understood",
        "cudaenv skipped these files, so the diagnosis may miss what they hold; the tools "
        "that need them (Python, pip, conda, Jupyter) are likely to stumble on them too.",
        [f"{path}: {error}" for path, error in items],
        [f"ls -l {items[0][0]}    # check permissions and contents"],
    )
