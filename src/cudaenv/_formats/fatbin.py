"""CUDA fat binaries (the ``.nv_fatbin`` and ``__nv_relfatbin`` ELF sections): which GPU code
they carry, read from the entry headers alone — nothing is extracted or decompressed.

Layout (knowledge base §3, cross-checked against ``cuobjdump`` on nvcc-built libraries):

* a section holds containers back to back, each 8-byte aligned: ``u32 magic 0xBA55ED50,
  u16 version, u16 header_size (16), u64 fat_size`` (the bytes of entries that follow);
* each entry: ``u16 kind`` (1 PTX, 2 ELF/SASS), ``u16 attributes``, ``u32 header_size``
  (64 or more), ``u64 payload_size``; ``u16 minor, u16 major`` at 0x18 (for PTX the PTX ISA
  version), ``u32 arch`` at 0x1C (75, 90, 120 ...), ``u64 flags`` at 0x28;
* flags: 0x2000 LZ4-compressed, 0x8000 zstd-compressed (0x1000 in old producers);
  0x100000 architecture-specific code (``sm_90a``, ``compute_120a``), 0x200000 family code.
  ``cuobjdump`` names family PTX ``compute_100f`` but family SASS plain ``sm_100`` (the cubin
  itself does not record the family): so do we.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from .._records import record

__all__ = ["FatbinEntry", "FatbinError", "parse_fatbin"]

FATBIN_MAGIC = 0xBA55ED50
KIND_PTX, KIND_ELF = 1, 2
FLAG_COMPRESSED = 0x1000 | 0x2000 | 0x8000
FLAG_ARCH_SPECIFIC = 0x100000
FLAG_FAMILY = 0x200000
_CONTAINER = struct.Struct("<IHHQ")
_ENTRY = struct.Struct("<HHIQ")
_ENTRY_TAIL = struct.Struct("<HHI")  # at 0x18: minor, major, arch
_FLAGS = struct.Struct("<Q")  # at 0x28
_MAX_ENTRIES = 1_000_000

Reader = Callable[[int, int], bytes]


class FatbinError(ValueError):
    """The section is not a well-formed fat binary (corrupt or truncated)."""


@record
class FatbinEntry:
    kind: str
    """sass, ptx, or other (legacy or unknown kinds, counted but not named)."""
    name: str
    """``sm_90a`` for SASS, ``compute_90`` for PTX — ``cuobjdump``'s names."""
    arch: int
    compressed: bool
    ptx_version: str = ""
    """For PTX: the PTX ISA version (``9.0``), which decides the oldest driver that can JIT it."""


def _read(reader: Reader, offset: int, size: int, limit: int) -> bytes:
    if offset + size > limit:
        raise FatbinError(f"truncated at offset {offset} (wanted {size} bytes of {limit})")
    data = reader(offset, size)
    if len(data) != size:
        raise FatbinError(f"truncated at offset {offset}")
    return data


def parse_fatbin(reader: Reader, size: int) -> list[FatbinEntry]:
    """Every entry of a fat-binary section, in file order.

    ``reader(offset, n)`` returns ``n`` bytes of the section at ``offset``; only the container
    and entry headers are read.
    """
    entries: list[FatbinEntry] = []
    containers = 0
    position = 0
    while position < size:
        if size - position < _CONTAINER.size:
            tail = _read(reader, position, size - position, size)
            if not containers or tail.strip(b"\0"):
                raise FatbinError(f"no fat binary container at offset {position}")
            break
        header = _read(reader, position, _CONTAINER.size, size)
        magic, _, header_size, fat_size = _CONTAINER.unpack(header)
        if magic != FATBIN_MAGIC:
            aligned = (position + 8) & ~7
            padding = _read(reader, position, min(aligned, size) - position, size)
            if containers and not padding.strip(b"\0"):  # zeros up to the next 8-byte boundary
                position = aligned
                continue
            raise FatbinError(f"no fat binary container at offset {position}")
        if header_size < _CONTAINER.size:
            raise FatbinError(f"container header size {header_size} at offset {position}")
        end = position + header_size + fat_size
        if end > size:
            raise FatbinError(f"container at offset {position} runs past the section")
        entry = position + header_size
        while entry < end:
            if end - entry < 64:
                raise FatbinError(f"entry header cut short at offset {entry}")
            head = _read(reader, entry, 64, size)
            kind, _, entry_header, payload = _ENTRY.unpack_from(head)
            if entry_header < 64 or entry + entry_header + payload > end:
                raise FatbinError(f"entry at offset {entry} runs past its container")
            minor, major, arch = _ENTRY_TAIL.unpack_from(head, 0x18)
            (flags,) = _FLAGS.unpack_from(head, 0x28)
            suffix = "a" if flags & FLAG_ARCH_SPECIFIC else ""
            compressed = bool(flags & FLAG_COMPRESSED)
            if kind == KIND_ELF:
                entries.append(FatbinEntry("sass", f"sm_{arch}{suffix}", arch, compressed))
            elif kind == KIND_PTX:
                suffix = suffix or ("f" if flags & FLAG_FAMILY else "")
                entries.append(
                    FatbinEntry(
                        "ptx", f"compute_{arch}{suffix}", arch, compressed, f"{major}.{minor}"
                    )
                )
            else:
                entries.append(FatbinEntry("other", f"kind_{kind}", arch, compressed))
            if len(entries) > _MAX_ENTRIES:
                raise FatbinError("implausibly many entries")
            entry += entry_header + payload
        containers += 1
        position = end
    return entries
