"""The host compiler nvcc would run, and its version, from names and files (never run).

nvcc runs ``gcc`` from PATH unless told otherwise: ``-ccbin``/``--compiler-bindir`` in
NVCC_PREPEND_FLAGS or NVCC_APPEND_FLAGS (conda's cuda-nvcc activation sets ``-ccbin=$CXX``),
or NVCC_CCBIN.  The version comes from the file the command resolves to (``gcc`` → ``gcc-12``,
``clang-17``, ``/usr/lib/llvm-17/bin/clang``, ``gcc-toolset-13``), from conda's
``gcc_impl``/``gxx_impl`` records for conda compilers, or from the only
``/usr/lib/gcc/<triple>/<N>`` directory.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Optional

from .._formats.conda import parse_conda_meta_filename
from .._host import Host
from ..snapshot import HostCompiler

__all__ = ["host_compiler"]

_CCBIN = re.compile(r"^(?:-ccbin|--compiler-bindir)(?:=(.*))?$")
_VERSIONED = re.compile(r"(?:^|-)(gcc|g\+\+|cc|c\+\+|clang|clang\+\+)-(\d+)(?:\.\d+)*$")
_KIND = re.compile(r"(?:^|-)(gcc|g\+\+|cc|c\+\+|clang|clang\+\+)$")


def _from_flags(host: Host) -> tuple[Optional[str], Optional[str], bool]:
    """(ccbin, variable that set it, -allow-unsupported-compiler given)."""
    chosen = None
    source = None
    allow = False
    for variable in ("NVCC_PREPEND_FLAGS", "NVCC_APPEND_FLAGS"):
        value = host.env(variable)
        if not value:
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            words = value.split()
        for index, word in enumerate(words):
            if word in ("-allow-unsupported-compiler", "--allow-unsupported-compiler"):
                allow = True
            match = _CCBIN.match(word)
            if match:
                given = match.group(1)
                if given is None and index + 1 < len(words):
                    given = words[index + 1]
                if given:
                    chosen, source = given, f"{variable} -ccbin"
    return chosen, source, allow


def _kind(name: str) -> Optional[str]:
    match = _VERSIONED.search(name) or _KIND.search(name)
    if match is None:
        return None
    return "clang" if match.group(1).startswith("clang") else "gcc"


def _conda_version(host: Host, path: str) -> Optional[tuple[int, str]]:
    prefix = posixpath.dirname(posixpath.dirname(path))
    meta = posixpath.join(prefix, "conda-meta")
    for filename in host.listdir(meta):
        parsed = parse_conda_meta_filename(filename)
        if parsed and parsed[0] in ("gxx_impl_linux-64", "gcc_impl_linux-64", "clangxx"):
            major = parsed[1].split(".", 1)[0]
            if major.isdigit():
                return int(major), f"conda-meta {parsed[0]}-{parsed[1]}"
    return None


def _version(host: Host, path: str, real: str) -> tuple[Optional[int], Optional[str]]:
    for candidate in (real, path):
        match = _VERSIONED.search(posixpath.basename(candidate))
        if match:
            return int(match.group(2)), f"file name {posixpath.basename(candidate)}"
    for pattern in (r"/llvm-(\d+)/", r"/gcc-toolset-(\d+)/", r"/devtoolset-(\d+)/"):
        match = re.search(pattern, real)
        if match:
            return int(match.group(1)), f"directory {match.group(0).strip('/')}"
    if "-conda" in posixpath.basename(real) or host.is_dir(
        posixpath.join(posixpath.dirname(posixpath.dirname(path)), "conda-meta")
    ):
        found = _conda_version(host, path)
        if found:
            return found
    if _kind(posixpath.basename(real)) == "gcc":
        majors = set()
        for base in ("/usr/lib/gcc", "/usr/lib64/gcc"):
            for triple in host.listdir(base):
                majors |= {n for n in host.listdir(posixpath.join(base, triple)) if n.isdigit()}
        if len(majors) == 1:
            only = majors.pop()
            return int(only), f"the only GCC installed (/usr/lib/gcc/*/{only})"
    return None, None


def host_compiler(host: Host) -> Optional[HostCompiler]:
    chosen, source, allow = _from_flags(host)
    if chosen is None and host.env("NVCC_CCBIN"):
        chosen, source = host.env("NVCC_CCBIN"), "NVCC_CCBIN"
    command = chosen or "gcc"
    source = source or "nvcc's default: gcc on PATH"
    path: Optional[str] = None
    if command.startswith("/"):
        given = host.normalize(command)
        if host.is_dir(given):  # -ccbin may name the directory holding gcc
            given = posixpath.join(given, "gcc")
        path = given if host.is_file(given) else None
    else:
        found = host.which(command, host.env_path_list("PATH"))
        path = found[0] if found else None
    if path is None:
        return HostCompiler(command=command, chosen_by=source, allow_unsupported=allow)
    real = host.resolve(path) or path
    version, version_from = _version(host, path, real)
    return HostCompiler(
        command=command,
        chosen_by=source,
        path=path,
        real=real,
        kind=_kind(posixpath.basename(real)) or _kind(posixpath.basename(path)),
        version=version,
        version_from=version_from,
        allow_unsupported=allow,
    )
