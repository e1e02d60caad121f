"""Entries of search paths that name no directory: PATH, LD_LIBRARY_PATH, the CUDA_HOME-like
variables, and the directories ``/etc/ld.so.conf`` (with its includes) lists."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Sequence

from .._formats.ldso import parse_ld_so_conf
from .._host import Host
from ..snapshot import MissingDirectory

__all__ = ["ld_so_conf_dirs", "missing_directories"]

_LIST_VARIABLES = ("PATH", "LD_LIBRARY_PATH")
# Entries every distribution ships whether or not they exist: not worth a word.
# NVIDIA's CUDA images set /usr/local/nvidia/{bin,lib,lib64} (for nvidia-docker v1, in PATH,
# LD_LIBRARY_PATH and ld.so.conf.d/nvidia.conf), which today's runtime never creates.
_DEFAULTS = re.compile(
    r"^/(usr/(local/)?)?(s?bin|games)$|^/snap/bin$|^/usr/local/lib(/[a-z0-9_]+-linux-gnu[a-z]*)?$"
    r"|^/usr/local/nvidia/(bin|lib|lib64)$"
)
_IMAGE_CUDA_BIN = "/usr/local/cuda/bin"
"""On PATH in every NVIDIA CUDA image; only the devel image has it (runtime: no nvcc)."""
_DIR_VARIABLES = ("CUDA_HOME", "CUDA_PATH", "CUDA_ROOT")


def _conf_dirs(host: Host, path: str, seen: set[str]) -> list[tuple[str, str]]:
    if path in seen or len(seen) > 64:
        return []
    seen.add(path)
    text = host.read_text(path, limit=1 << 20)
    if text is None:
        return []
    found = []
    for entry in parse_ld_so_conf(text):
        if entry.kind == "dir":
            found.append((path, entry.value))
            continue
        pattern = (
            entry.value
            if entry.value.startswith("/")
            else (posixpath.join(posixpath.dirname(path), entry.value))
        )
        directory, _, name_pattern = pattern.rpartition("/")
        for name in host.listdir(directory or "/"):
            if fnmatch.fnmatchcase(name, name_pattern):
                found += _conf_dirs(host, posixpath.join(directory, name), seen)
    return found


def ld_so_conf_dirs(host: Host) -> list[tuple[str, str]]:
    """(conf file, directory) for every directory /etc/ld.so.conf lists, includes followed."""
    return _conf_dirs(host, "/etc/ld.so.conf", set())


def missing_directories(
    host: Host, conf_dirs: Sequence[tuple[str, str]]
) -> tuple[MissingDirectory, ...]:
    missing: list[MissingDirectory] = []
    image = host.env("CUDA_VERSION") is not None and host.env("NVIDIA_VISIBLE_DEVICES") is not None
    for variable in _LIST_VARIABLES:
        for entry in host.env_path_list(variable):
            if image and entry.rstrip("/") == _IMAGE_CUDA_BIN:
                continue
            if entry.startswith("/") and not _DEFAULTS.match(entry) and not host.is_dir(entry):
                missing.append(MissingDirectory(variable, entry))
    for variable in _DIR_VARIABLES:
        value = host.env(variable)
        if value and value.startswith("/") and ":" not in value and not host.exists(value):
            missing.append(MissingDirectory(variable, value))
    for conf, directory in conf_dirs:
        if (
            directory.startswith("/")
            and not _DEFAULTS.match(directory)
            and not host.is_dir(directory)
        ):
            missing.append(MissingDirectory(conf, directory))
    return tuple(missing)
