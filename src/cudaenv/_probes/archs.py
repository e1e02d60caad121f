"""The GPU code an ELF file carries: its ``.nv_fatbin`` and ``__nv_relfatbin`` entries."""

from __future__ import annotations

import os
from typing import Optional

from .._formats.elffile import ELFError, ELFFile
from .._formats.fatbin import FatbinEntry, FatbinError, parse_fatbin
from .._formats.pyversion import version_tuple
from .._host import Host, open_regular
from ..snapshot import GpuCode

__all__ = ["FATBIN_SECTIONS", "gpu_code", "read_fatbin"]

EXECUTABLE_FATBIN, RELOCATABLE_FATBIN = ".nv_fatbin", "__nv_relfatbin"
FATBIN_SECTIONS = (EXECUTABLE_FATBIN, RELOCATABLE_FATBIN)


def read_fatbin(host: Host, path: str) -> tuple[list[FatbinEntry], Optional[str]]:
    """Every fat-binary entry of one file, and an error text if a section is unreadable.

    Like ``cuobjdump`` (and the CUDA runtime, which registers only the executable fat binary),
    ``__nv_relfatbin`` counts only in a file without ``.nv_fatbin``: a library linked from
    ``-rdc`` objects keeps their relocatable images, which nothing loads.
    """
    resolved = host.resolve(path) or path
    entries: list[FatbinEntry] = []
    try:
        with open_regular(host.real(resolved)) as handle:
            elf = ELFFile(handle, os.fstat(handle.fileno()).st_size, resolved)
            present = {s.name for s in elf.sections if s.name in FATBIN_SECTIONS}
            wanted = EXECUTABLE_FATBIN if EXECUTABLE_FATBIN in present else RELOCATABLE_FATBIN
            for section in elf.sections:
                if section.name != wanted or section.size == 0:
                    continue

                def reader(offset: int, size: int, base: int = section.offset) -> bytes:
                    handle.seek(base + offset)
                    return handle.read(size)

                if section.offset + section.size > elf.size:
                    return entries, f"{section.name} runs past the end of the file"
                entries += parse_fatbin(reader, section.size)
    except FatbinError as exc:
        return entries, f"corrupt fat binary: {exc}"
    except ELFError as exc:
        return entries, f"not a readable ELF file: {exc}"
    except OSError as exc:
        return entries, exc.strerror or "unreadable"
    return entries, None


def _sort_key(name: str) -> tuple[int, str]:
    digits = "".join(c for c in name.split("_", 1)[-1] if c.isdigit())
    return (int(digits) if digits else 0, name)


def gpu_code(host: Host, path: str) -> GpuCode:
    entries, error = read_fatbin(host, path)
    sass = sorted({e.name for e in entries if e.kind == "sass"}, key=_sort_key)
    ptx = sorted({e.name for e in entries if e.kind == "ptx"}, key=_sort_key)
    ptx_versions = sorted({e.ptx_version for e in entries if e.kind == "ptx"}, key=version_tuple)
    return GpuCode(
        path=path,
        sass=tuple(sass),
        ptx=tuple(ptx),
        ptx_isa=ptx_versions[-1] if ptx_versions else None,
        entries=len(entries),
        compressed=sum(1 for e in entries if e.compressed),
        error=error,
    )
