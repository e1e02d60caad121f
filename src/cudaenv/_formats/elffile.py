"""A small reader for ELF shared objects and executables (the System V gABI).

It answers what the loader model and the checks ask, reading only those parts of the file:
the header; the program headers (``PT_INTERP``, ``PT_DYNAMIC``, ``PT_LOAD`` to map
addresses); the dynamic section (``DT_NEEDED``, ``DT_SONAME``, ``DT_RPATH``, ``DT_RUNPATH``,
``DT_FLAGS_1``); on request the section headers (a section by name) and the dynamic symbols
with their GNU versions (``.gnu.version``, ``.gnu.version_r``, ``.gnu.version_d``).
Everything is read with ``seek`` + small ``read`` calls: a 700 MB library costs a few
kilobytes of I/O.

Format: https://refspecs.linuxfoundation.org/elf/gabi4+/contents.html and the GNU symbol
versioning extension (https://refspecs.linuxfoundation.org/LSB_5.0.0/LSB-Core-generic/LSB-Core-generic/symversion.html).
"""

from __future__ import annotations

import struct
from functools import cached_property
from typing import BinaryIO, Optional

from .._records import record

__all__ = [
    "ELF_MAGIC",
    "ELFError",
    "ELFFile",
    "Section",
    "SymbolVersions",
    "VersionNeed",
    "machine_name",
]

ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 14, 15, 29
DT_FLAGS_1 = 0x6FFFFFFB
DF_1_NODEFLIB = 0x800
SHT_DYNSYM = 11
SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM = 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
SHN_UNDEF = 0
VER_FLG_WEAK = 0x2
STB_GLOBAL, STB_WEAK = 1, 2

_MACHINES = {3: "x86", 62: "x86_64", 183: "aarch64", 40: "arm", 21: "ppc64", 243: "riscv"}


def machine_name(machine: int) -> str:
    return _MACHINES.get(machine, f"machine-{machine}")


class ELFError(ValueError):
    """The file is not ELF, or its structures are out of bounds (truncated or corrupt)."""


@record
class Section:
    name: str
    type: int
    offset: int
    size: int
    addr: int
    link: int
    entsize: int


@record
class VersionNeed:
    """One ``.gnu.version_r`` entry: the versions an object needs from one library."""

    file: str
    versions: tuple[tuple[str, bool], ...]
    """(version name, weak) pairs."""


@record
class SymbolVersions:
    """Dynamic symbols with their versions: what an object imports and exports."""

    imports: tuple[tuple[str, Optional[str], Optional[str]], ...]
    """(symbol, version or None, the library that version belongs to) for undefined symbols."""
    exports: frozenset[tuple[str, Optional[str]]]
    """(symbol, version or None) for defined global symbols."""
    defined_versions: tuple[str, ...]
    """Version nodes the object defines (``.gnu.version_d``), its own soname node first."""
    needed_versions: tuple[VersionNeed, ...]


ELF_MAGIC = b"\x7fELF"
"""The first four bytes of every ELF file (what `--from` and `--python` check first)."""


class ELFFile:
    """An ELF file read through a binary file object (the caller opens and owns it)."""

    def __init__(self, handle: BinaryIO, size: int, path: str = "") -> None:
        self._f = handle
        self.size = size
        self.path = path
        ident = self._read(0, 16) if size >= 16 else b""
        if ident[:4] != ELF_MAGIC:
            raise ELFError("not an ELF file")
        if ident[4] not in (ELFCLASS32, ELFCLASS64) or ident[5] not in (ELFDATA2LSB, ELFDATA2MSB):
            raise ELFError("invalid ELF class or data encoding")
        self.elf_class = 64 if ident[4] == ELFCLASS64 else 32
        self.little_endian = ident[5] == ELFDATA2LSB
        self._e = "<" if self.little_endian else ">"
        self.osabi = ident[7]
        if self.elf_class == 64:
            fields = self._unpack("HHIQQQIHHHHHH", 16)
        else:
            fields = self._unpack("HHIIIIIHHHHHH", 16)
        (
            self.type,
            self.machine,
            _,
            _,
            self._phoff,
            self._shoff,
            _,
            _,
            self._phentsize,
            self._phnum,
            self._shentsize,
            self._shnum,
            self._shstrndx,
        ) = fields

    # -- low level ----------------------------------------------------------------------------

    def _read(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise ELFError(f"read of {size} bytes at {offset} is outside the file ({self.size})")
        self._f.seek(offset)
        data = self._f.read(size)
        if len(data) != size:
            raise ELFError("file shorter than its headers say")
        return data

    def _unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        layout = struct.Struct(self._e + fmt)
        try:
            return layout.unpack(self._read(offset, layout.size))
        except struct.error as exc:
            raise ELFError(str(exc)) from exc

    def _cstring(self, table_offset: int, table_size: int, index: int) -> str:
        if index >= table_size:
            raise ELFError("string index outside its table")
        start = table_offset + index
        end = min(table_offset + table_size, self.size)
        chunk = b""
        position = start
        while position < end:
            piece = self._read(position, min(256, end - position))
            cut = piece.find(b"\0")
            if cut >= 0:
                return (chunk + piece[:cut]).decode("utf-8", errors="replace")
            chunk += piece
            position += len(piece)
        raise ELFError("unterminated string")

    # -- program headers and the dynamic section ----------------------------------------------

    @cached_property
    def program_headers(self) -> tuple[tuple[int, int, int, int, int], ...]:
        """(type, offset, vaddr, filesz, memsz) for every program header."""
        headers = []
        for i in range(self._phnum):
            at = self._phoff + i * self._phentsize
            if self.elf_class == 64:
                p_type, _, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = self._unpack("IIQQQQQQ", at)
            else:
                p_type, p_offset, p_vaddr, _, p_filesz, p_memsz, _, _ = self._unpack("IIIIIIII", at)
            headers.append((p_type, p_offset, p_vaddr, p_filesz, p_memsz))
        return tuple(headers)

    def _vaddr_to_offset(self, vaddr: int) -> int:
        for p_type, offset, start, filesz, _ in self.program_headers:
            if p_type == PT_LOAD and start <= vaddr < start + filesz:
                return offset + (vaddr - start)
        raise ELFError(f"address {vaddr:#x} is in no loadable segment")

    @cached_property
    def interpreter(self) -> Optional[str]:
        for p_type, offset, _, filesz, _ in self.program_headers:
            if p_type == PT_INTERP:
                return self._read(offset, filesz).split(b"\0", 1)[0].decode(errors="replace")
        return None

    @cached_property
    def _dynamic(self) -> tuple[tuple[int, int], ...]:
        for p_type, offset, _, filesz, _ in self.program_headers:
            if p_type != PT_DYNAMIC:
                continue
            entry = 16 if self.elf_class == 64 else 8
            fmt = "qQ" if self.elf_class == 64 else "iI"
            data = self._read(offset, filesz - filesz % entry)
            layout = struct.Struct(self._e + fmt)
            entries = []
            for tag, value in layout.iter_unpack(data):
                if tag == DT_NULL:
                    break
                entries.append((tag, value))
            return tuple(entries)
        return ()

    @cached_property
    def _dynstr(self) -> tuple[int, int]:
        tags = dict(self._dynamic)
        if DT_STRTAB not in tags:
            raise ELFError("dynamic section without a string table")
        return self._vaddr_to_offset(tags[DT_STRTAB]), tags.get(DT_STRSZ, 0)

    def _dynamic_strings(self, wanted: int) -> list[str]:
        offset, size = self._dynstr
        return [self._cstring(offset, size, v) for tag, v in self._dynamic if tag == wanted]

    @cached_property
    def needed(self) -> tuple[str, ...]:
        return tuple(self._dynamic_strings(DT_NEEDED))

    @cached_property
    def soname(self) -> Optional[str]:
        names = self._dynamic_strings(DT_SONAME)
        return names[0] if names else None

    @cached_property
    def rpath(self) -> Optional[str]:
        """DT_RPATH as written (``:``-separated), or None."""
        values = self._dynamic_strings(DT_RPATH)
        return ":".join(values) if values else None

    @cached_property
    def runpath(self) -> Optional[str]:
        values = self._dynamic_strings(DT_RUNPATH)
        return ":".join(values) if values else None

    @cached_property
    def flags_1(self) -> int:
        return next((v for tag, v in self._dynamic if tag == DT_FLAGS_1), 0)

    @property
    def is_dynamic(self) -> bool:
        return bool(self._dynamic)

    # -- sections -----------------------------------------------------------------------------

    @cached_property
    def sections(self) -> tuple[Section, ...]:
        if self._shoff == 0 or self._shnum == 0:
            return ()
        raw = []
        for i in range(self._shnum):
            at = self._shoff + i * self._shentsize
            if self.elf_class == 64:
                name, typ, _, addr, offset, size, link, _, _, entsize = self._unpack(
                    "IIQQQQIIQQ", at
                )
            else:
                name, typ, _, addr, offset, size, link, _, _, entsize = self._unpack(
                    "IIIIIIIIII", at
                )
            raw.append((name, typ, offset, size, addr, link, entsize))
        if not 0 <= self._shstrndx < len(raw):
            raise ELFError("section name table index out of range")
        _, _, str_offset, str_size, _, _, _ = raw[self._shstrndx]
        return tuple(
            Section(self._cstring(str_offset, str_size, name), typ, off, size, addr, link, ent)
            for name, typ, off, size, addr, link, ent in raw
        )

    def section(self, name: str) -> Optional[Section]:
        return next((s for s in self.sections if s.name == name), None)

    def read_section(self, section: Section) -> bytes:
        return self._read(section.offset, section.size)

    # -- symbol versions ----------------------------------------------------------------------

    def _section_of_type(self, typ: int) -> Optional[Section]:
        return next((s for s in self.sections if s.type == typ), None)

    def _strtab_of(self, section: Section) -> tuple[int, int]:
        if not 0 <= section.link < len(self.sections):
            raise ELFError("section link out of range")
        table = self.sections[section.link]
        return table.offset, table.size

    def _verdefs(self) -> dict[int, str]:
        """version index → name, from ``.gnu.version_d``."""
        section = self._section_of_type(SHT_GNU_VERDEF)
        if section is None:
            return {}
        str_offset, str_size = self._strtab_of(section)
        names: dict[int, str] = {}
        at = section.offset
        for _ in range(section.size // 20 + 1):
            _, _, ndx, cnt, _, aux, nxt = self._unpack("HHHHIII", at)
            if cnt:
                (vda_name, _) = self._unpack("II", at + aux)
                names[ndx] = self._cstring(str_offset, str_size, vda_name)
            if not nxt:
                break
            at += nxt
        return names

    def _verneeds(self) -> tuple[dict[int, tuple[str, str]], list[VersionNeed]]:
        """version index → (name, file), and the needs per file, from ``.gnu.version_r``."""
        section = self._section_of_type(SHT_GNU_VERNEED)
        if section is None:
            return {}, []
        str_offset, str_size = self._strtab_of(section)
        by_index: dict[int, tuple[str, str]] = {}
        needs: list[VersionNeed] = []
        at = section.offset
        for _ in range(section.size // 16 + 1):
            _, cnt, file_off, aux, nxt = self._unpack("HHIII", at)
            file = self._cstring(str_offset, str_size, file_off)
            versions = []
            aux_at = at + aux
            for _ in range(cnt):
                _, flags, other, name_off, aux_next = self._unpack("IHHII", aux_at)
                name = self._cstring(str_offset, str_size, name_off)
                by_index[other] = (name, file)
                versions.append((name, bool(flags & VER_FLG_WEAK)))
                if not aux_next:
                    break
                aux_at += aux_next
            needs.append(VersionNeed(file, tuple(versions)))
            if not nxt:
                break
            at += nxt
        return by_index, needs

    @cached_property
    def symbol_versions(self) -> SymbolVersions:
        dynsym = self._section_of_type(SHT_DYNSYM)
        verdef = self._verdefs()
        verneed, needs = self._verneeds()
        if dynsym is None:
            return SymbolVersions((), frozenset(), tuple(verdef.values()), tuple(needs))
        entsize = dynsym.entsize or (24 if self.elf_class == 64 else 16)
        count = dynsym.size // entsize
        str_offset, str_size = self._strtab_of(dynsym)
        data = self._read(dynsym.offset, count * entsize)
        versym = self._section_of_type(SHT_GNU_VERSYM)
        indices: tuple[int, ...] = ()
        if versym is not None:
            raw = self._read(versym.offset, min(versym.size, count * 2))
            indices = struct.unpack(f"{self._e}{len(raw) // 2}H", raw)
        if self.elf_class == 64:
            layout = struct.Struct(self._e + "IBBHQQ")
        else:
            layout = struct.Struct(self._e + "IIIBBH")
        imports = []
        exports = set()
        for i in range(1, count):
            fields = layout.unpack_from(data, i * entsize)
            if self.elf_class == 64:
                name_off, info, _, shndx, _, _ = fields
            else:
                name_off, _, _, info, _, shndx = fields
            if info >> 4 not in (STB_GLOBAL, STB_WEAK) or name_off == 0:
                continue
            name = self._cstring(str_offset, str_size, name_off)
            index = indices[i] & 0x7FFF if i < len(indices) else 1
            if shndx == SHN_UNDEF:
                version, file = verneed.get(index, (None, None))
                imports.append((name, version, file))
            else:
                exports.add((name, verdef.get(index) if index > 1 else None))
        return SymbolVersions(
            tuple(imports), frozenset(exports), tuple(verdef.values()), tuple(needs)
        )
