"""Files that exist but could not be read or parsed."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding
from ..snapshot import Snapshot
from ._common import finding

__all__ = ["unreadable_file"]


def _broken_libraries(s: Snapshot) -> list[tuple[str, str]]:
    """Libraries the modelled process would open that are not readable ELF files (cut short
    by a full disk or an interrupted copy): the real loader stops there too."""
    objects = [*s.libraries.preload, *s.libraries.opened_by_name]
    for tree in s.libraries.trees:
        objects += tree.objects
    broken = []
    for obj in objects:
        if not obj.error or obj.error == "missing":
            continue
        path, error = obj.path, obj.error
        if path is None:  # the loader's message names the file: "PATH: what is wrong"
            path, _, error = (
                error.partition(": ") if error.startswith("/") else (obj.name, "", error)
            )
        broken.append((path, error.removeprefix(f"{path}: ")))
    return broken


def unreadable_file(s: Snapshot) -> Iterator[Finding]:
    items = [(p.path, p.error) for p in s.problems]
    items += [(k.path, k.error) for k in s.kernels if k.error]
    items += _broken_libraries(s)
    if s.libraries.cache_error:
        items.append(("/etc/ld.so.cache", s.libraries.cache_error))
    items += [(c.path, c.error) for f in s.frameworks for c in f.gpu_code if c.error]
    first: dict[str, str] = {}
    for path, error in items:  # one line per file: its first error
        first.setdefault(path, error)
    # a directory that cannot be read is one entry, not every path looked for inside it
    denied = {path for path, error in first.items() if "Permission denied" in error}
    items = [
        (path, error)
        for path, error in first.items()
        if not any(path.startswith(d + "/") for d in denied if d != path)
    ]
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
