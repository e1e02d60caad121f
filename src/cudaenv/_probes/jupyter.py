"""Jupyter kernelspecs, found where ``jupyter kernelspec list`` looks.

Data directories in Jupyter's order: ``JUPYTER_PATH`` entries, the user data dir
(``JUPYTER_DATA_DIR``, else ``$XDG_DATA_HOME/jupyter``, else ``~/.local/share/jupyter``), the
environment's ``share/jupyter``, then ``/usr/local/share/jupyter`` and ``/usr/share/jupyter``.
The first kernelspec of a name wins, as in Jupyter.
"""

from __future__ import annotations

import posixpath
from typing import Optional

from .._formats.jupyter import KernelspecError, parse_kernel_json
from .._host import Host
from ..snapshot import Interpreter, Kernelspec
from .commands import CommandProbe
from .environments import EnvironmentReader

__all__ = ["kernelspecs"]


def _data_dirs(host: Host, env_prefixes: list[str]) -> list[str]:
    dirs = [
        host.normalize(entry)
        for entry in host.env_path_list("JUPYTER_PATH")
        if entry.startswith("/")
    ]
    data_dir = host.env("JUPYTER_DATA_DIR")
    xdg = host.env("XDG_DATA_HOME")
    if data_dir and data_dir.startswith("/"):
        dirs.append(host.normalize(data_dir))
    elif xdg and xdg.startswith("/"):
        dirs.append(posixpath.join(host.normalize(xdg), "jupyter"))
    elif host.home:
        dirs.append(posixpath.join(host.home, ".local", "share", "jupyter"))
    dirs += [posixpath.join(prefix, "share", "jupyter") for prefix in env_prefixes]
    dirs += ["/usr/local/share/jupyter", "/usr/share/jupyter"]
    unique: list[str] = []
    for directory in dirs:
        if directory not in unique:
            unique.append(directory)
    return unique


def kernelspecs(
    host: Host, reader: EnvironmentReader, commands: CommandProbe, env_prefixes: list[str]
) -> tuple[Kernelspec, ...]:
    found: list[Kernelspec] = []
    names: set[str] = set()
    for data_dir in _data_dirs(host, env_prefixes):
        kernels_dir = posixpath.join(data_dir, "kernels")
        for name in host.listdir(kernels_dir):
            spec_path = posixpath.join(kernels_dir, name, "kernel.json")
            if name in names or not host.is_file(spec_path):
                continue
            names.add(name)
            text = host.read_text(spec_path, limit=1 << 20)
            if text is None:
                found.append(Kernelspec(name, spec_path, error="unreadable"))
                continue
            try:
                display, argv = parse_kernel_json(text)
            except KernelspecError as exc:
                found.append(Kernelspec(name, spec_path, error=str(exc)))
                continue
            found.append(
                Kernelspec(
                    name,
                    spec_path,
                    display_name=display,
                    argv=argv,
                    interpreter=_kernel_interpreter(reader, commands, argv[0]),
                )
            )
    return tuple(found)


def _kernel_interpreter(
    reader: EnvironmentReader, commands: CommandProbe, program: str
) -> Optional[Interpreter]:
    if program.startswith("/"):
        if posixpath.basename(program).startswith("python"):
            return reader.interpreter(program)
        return None
    if program.startswith("python"):
        return commands.lookup(program, use_aliases=False).interpreter
    return None
