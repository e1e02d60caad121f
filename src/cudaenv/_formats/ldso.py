"""glibc's ``/etc/ld.so.cache`` (binary) and ``/etc/ld.so.conf`` (text).

Cache layouts (glibc ``sysdeps/generic/dl-cache.h``):

* new, ``glibc-ld.so.cache1.1``: a 48-byte header (``nlibs`` at 20, ``len_strings`` at 24,
  endianness flag at 28, ``extension_offset`` at 32), then ``nlibs`` 24-byte entries
  ``{int32 flags; uint32 key, value, osversion; uint64 hwcap}``; string offsets are relative
  to the header.  An optional extension directory (magic ``0xEAA42174``) names the
  ``glibc-hwcaps`` subdirectories that entries with bit 62 of ``hwcap`` refer to.
* old, ``ld.so-1.7.0``: ``nlibs`` at 12, 12-byte entries ``{int32 flags; uint32 key,
  value}``, string offsets relative to the end of the entries.  "compat" caches put a new
  header right after the old entries; the loader then reads the new one, and so do we.
"""

from __future__ import annotations

import struct
from typing import Optional

from .._records import record

__all__ = [
    "CACHE_FLAGS",
    "CacheEntry",
    "ConfEntry",
    "LdCacheError",
    "parse_ld_so_cache",
    "parse_ld_so_conf",
]

NEW_MAGIC = b"glibc-ld.so.cache1.1"
OLD_MAGIC = b"ld.so-1.7.0"
EXTENSION_MAGIC = 0xEAA42174
EXTENSION_TAG_HWCAPS = 1
HWCAP_EXTENSION_BIT = 1 << 62

CACHE_FLAGS = {
    "x86_64": 0x0303,  # FLAG_ELF_LIBC6 | FLAG_X8664_LIB64
    "aarch64": 0x0A03,  # FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64
    "x86": 0x0003,
}
"""``_DL_CACHE_DEFAULT_ID`` per machine; the loader also accepts plain FLAG_ELF (1)."""


class LdCacheError(ValueError):
    """Not an ld.so.cache, or a corrupt one."""


@record
class CacheEntry:
    name: str
    """The key: a SONAME such as ``libcudart.so.12``."""
    path: str
    flags: int
    hwcaps_subdir: Optional[str] = None
    """For ``glibc-hwcaps`` entries: the subdirectory (``x86-64-v3``)."""


def _cstring(data: bytes, offset: int) -> str:
    if not 0 <= offset < len(data):
        raise LdCacheError("string offset outside the cache")
    end = data.find(b"\0", offset)
    if end < 0:
        raise LdCacheError("unterminated string")
    return data[offset:end].decode("utf-8", errors="surrogateescape")


def _parse_new(data: bytes, base: int) -> tuple[CacheEntry, ...]:
    if len(data) < base + 48:
        raise LdCacheError("truncated cache header")
    flags_byte = data[base + 28]
    endian = ">" if flags_byte == 3 else "<"
    nlibs, _len_strings = struct.unpack_from(endian + "II", data, base + 20)
    (extension_offset,) = struct.unpack_from(endian + "I", data, base + 32)
    entries_end = base + 48 + nlibs * 24
    if entries_end > len(data):
        raise LdCacheError("truncated cache entries")
    hwcaps = _hwcaps_names(data, base, extension_offset, endian)
    entries = []
    for i in range(nlibs):
        flags, key, value, _, hwcap = struct.unpack_from(endian + "iIIIQ", data, base + 48 + i * 24)
        subdir = None
        if hwcap & HWCAP_EXTENSION_BIT:
            index = hwcap & 0xFFFFFFFF
            subdir = hwcaps[index] if index < len(hwcaps) else f"?{index}"
        entries.append(
            CacheEntry(_cstring(data, base + key), _cstring(data, base + value), flags, subdir)
        )
    return tuple(entries)


def _hwcaps_names(data: bytes, base: int, offset: int, endian: str) -> list[str]:
    if offset == 0 or offset + 8 > len(data):
        return []
    magic, count = struct.unpack_from(endian + "II", data, offset)
    if magic != EXTENSION_MAGIC:
        return []
    if offset + 8 + count * 16 > len(data):
        raise LdCacheError("truncated cache extensions")
    for i in range(count):
        tag, _, section_offset, size = struct.unpack_from(
            endian + "IIII", data, offset + 8 + i * 16
        )
        if tag == EXTENSION_TAG_HWCAPS and section_offset + size <= len(data):
            indices = struct.unpack_from(f"{endian}{size // 4}I", data, section_offset)
            return [_cstring(data, base + index) for index in indices]
    return []


def parse_ld_so_cache(data: bytes) -> tuple[CacheEntry, ...]:
    """Every entry, in file order (the loader's binary search order)."""
    if data.startswith(NEW_MAGIC):
        return _parse_new(data, 0)
    if not data.startswith(OLD_MAGIC):
        raise LdCacheError("not an ld.so.cache (unknown magic)")
    if len(data) < 16:
        raise LdCacheError("truncated cache header")
    (nlibs,) = struct.unpack_from("<I", data, 12)
    entries_end = 16 + nlibs * 12
    if entries_end > len(data):
        raise LdCacheError("truncated cache entries")
    new_at = (entries_end + 7) & ~7  # ALIGN_CACHE: the new header follows, 8-aligned
    if data[new_at : new_at + len(NEW_MAGIC)] == NEW_MAGIC:
        return _parse_new(data, new_at)
    entries = []
    for i in range(nlibs):
        flags, key, value = struct.unpack_from("<iII", data, 16 + i * 12)
        entries.append(
            CacheEntry(
                _cstring(data, entries_end + key), _cstring(data, entries_end + value), flags
            )
        )
    return tuple(entries)


@record
class ConfEntry:
    kind: str
    """``dir`` or ``include``."""
    value: str
    line: int


def parse_ld_so_conf(text: str) -> list[ConfEntry]:
    """Directory and ``include`` lines of an ld.so.conf file, as ldconfig reads them."""
    found: list[ConfEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head, _, rest = line.partition(" ")
        if head == "include" and rest.strip():
            found.extend(ConfEntry("include", pattern, number) for pattern in rest.split())
        elif head.lower() == "hwcap" and rest.strip():
            continue  # obsolete hardware-capability lines
        else:
            directory = line.split("=", 1)[0].rstrip("/") or "/"
            found.append(ConfEntry("dir", directory, number))
    return found
