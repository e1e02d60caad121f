"""What in the working directory could be imported ahead of an installed framework.

``python -c``, ``python -m`` and the interactive prompt put the working directory first on
``sys.path`` (a script puts its own directory there).  Only names of CUDA frameworks are
looked at: a regular package directory (with ``__init__``), a bare directory (a namespace
portion, which does not hide a regular package), a ``.py`` module or an extension module.
"""

from __future__ import annotations

import posixpath
from typing import Optional

from .._host import Host
from .._knowledge.frameworks import FRAMEWORK_IMPORT_NAMES
from ..snapshot import ModuleEntry, Workdir

__all__ = ["workdir"]

_WATCHED = frozenset(FRAMEWORK_IMPORT_NAMES)


def _module_name(filename: str) -> Optional[tuple[str, str]]:
    if filename.endswith((".py", ".pyc")):
        return filename.rsplit(".", 1)[0], "module"
    if filename.endswith(".so"):
        return filename.split(".", 1)[0], "extension"
    return None


def workdir(host: Host) -> Optional[Workdir]:
    cwd = host.cwd
    if cwd is None or not host.is_dir(cwd):
        return None
    entries = []
    for name in host.listdir(cwd):
        path = posixpath.join(cwd, name)
        if name in _WATCHED and host.is_dir(path):
            has_init = any(
                host.is_file(posixpath.join(path, init)) for init in ("__init__.py", "__init__.pyc")
            )
            entries.append(ModuleEntry(name, path, "package" if has_init else "namespace"))
            continue
        module = _module_name(name)
        if module and module[0] in _WATCHED and host.is_file(path):
            entries.append(ModuleEntry(module[0], path, module[1]))
    return Workdir(cwd, tuple(entries), _cuda_build(host, cwd))


_CUDA_BUILD_MARKERS = (b"CUDAExtension", b"CUDA_HOME", b"nvcc")


def _cuda_build(host: Host, cwd: str) -> Optional[str]:
    """``setup.py`` of a CUDA extension (apex, flash-attn, a torch extension): it names
    torch's ``CUDAExtension``, CUDA_HOME or nvcc.  Only its head is read."""
    path = posixpath.join(cwd, "setup.py")
    head = host.read_bytes(path, limit=1 << 16)
    if head and any(marker in head for marker in _CUDA_BUILD_MARKERS):
        return path
    return None
