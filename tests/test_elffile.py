"""The ELF reader against real files built by gcc, with pyelftools as the oracle."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile as OracleELF
from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection

from cudaenv._formats.elffile import DF_1_NODEFLIB, ELFError, ELFFile
from elfbuild import HAVE_GCC, compile_elf, library, or_flags_1

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="needs gcc to build ELF files")

VERSIONS = """
LIBX_1.0 { global: old_f; local: *; };
LIBX_2.0 { global: new_f; } LIBX_1.0;
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("elf")
    libx = compile_elf(
        d / "libx.so.1",
        "int old_f(void){return 1;} int new_f(void){return 2;}",
        soname="libx.so.1",
        version_script=VERSIONS,
    )
    liby = library(d, "liby.so.2", link=[libx], runpath="$ORIGIN/../lib:/opt/y")
    user = compile_elf(
        d / "libuser.so",
        "int old_f(void); int new_f(void);int use(void){return old_f()+new_f();}",
        soname="libuser.so",
        link=[libx, liby],
        rpath="$ORIGIN",
    )
    exe = compile_elf(
        d / "app",
        "int use(void); int main(void){return use();}",
        shared=False,
        link=[user],
        rpath="/opt/app/lib",
    )
    or_flags_1(exe, DF_1_NODEFLIB)
    return {"libx": libx, "liby": liby, "user": user, "exe": exe}


@contextmanager
def open_elf(path: Path) -> Iterator[ELFFile]:
    with path.open("rb") as handle:
        yield ELFFile(handle, path.stat().st_size, str(path))


def oracle_dynamic(path: Path) -> dict[str, list[str]]:
    with path.open("rb") as handle:
        elf = OracleELF(handle)
        found: dict[str, list[str]] = {}
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    for attr in ("needed", "soname", "rpath", "runpath"):
                        if tag.entry.d_tag == f"DT_{attr.upper()}":
                            found.setdefault(attr, []).append(getattr(tag, attr))
        return found


@pytest.mark.parametrize("name", ["libx", "liby", "user", "exe"])
def test_dynamic_section_agrees_with_pyelftools(built: dict[str, Path], name: str) -> None:
    expected = oracle_dynamic(built[name])
    with open_elf(built[name]) as elf:
        assert list(elf.needed) == expected.get("needed", [])
        sonames = expected.get("soname", [])
        assert elf.soname == (sonames[0] if sonames else None)
        assert elf.rpath == (":".join(expected["rpath"]) if "rpath" in expected else None)
        assert elf.runpath == (":".join(expected["runpath"]) if "runpath" in expected else None)
        assert elf.elf_class == 64
        assert elf.machine == 62


def test_rpath_runpath_nodeflib_and_interpreter(built: dict[str, Path]) -> None:
    with open_elf(built["user"]) as elf:
        assert elf.rpath == "$ORIGIN"
        assert elf.runpath is None
        assert not elf.flags_1 & DF_1_NODEFLIB
    with open_elf(built["liby"]) as elf:
        assert elf.runpath == "$ORIGIN/../lib:/opt/y"
        assert elf.rpath is None
    with open_elf(built["exe"]) as elf:
        assert elf.flags_1 & DF_1_NODEFLIB
        assert elf.interpreter is not None
        assert elf.interpreter.startswith("/lib")


def test_symbol_versions_agree_with_pyelftools(built: dict[str, Path]) -> None:
    with built["libx"].open("rb") as handle:
        oracle = OracleELF(handle)
        verdef = next(s for s in oracle.iter_sections() if isinstance(s, GNUVerDefSection))
        defined = [next(aux).name for _, aux in verdef.iter_versions()]
    with open_elf(built["libx"]) as elf:
        versions = elf.symbol_versions
        assert list(versions.defined_versions) == defined
        assert ("old_f", "LIBX_1.0") in versions.exports
        assert ("new_f", "LIBX_2.0") in versions.exports
    with built["user"].open("rb") as handle:
        oracle = OracleELF(handle)
        verneed = next(s for s in oracle.iter_sections() if isinstance(s, GNUVerNeedSection))
        needs = {v.name: sorted(a.name for a in aux) for v, aux in verneed.iter_versions()}
    with open_elf(built["user"]) as elf:
        versions = elf.symbol_versions
        assert {n.file: sorted(v for v, _ in n.versions) for n in versions.needed_versions} == needs
        assert ("new_f", "LIBX_2.0", "libx.so.1") in versions.imports
        assert ("old_f", "LIBX_1.0", "libx.so.1") in versions.imports


def test_section_lookup(built: dict[str, Path]) -> None:
    with open_elf(built["libx"]) as elf:
        dynsym = elf.section(".dynsym")
        assert dynsym is not None
        assert dynsym.size > 0
        assert elf.section(".nv_fatbin") is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an ELF"),
        (b"#!/bin/sh\n", "not an ELF"),
        (b"\x7fELF\x09\x01" + b"\0" * 58, "invalid ELF class"),
        (b"\x7fELF\x02\x01\x01" + b"\0" * 9, "outside the file"),
    ],
)
def test_bad_input_raises_elferror(data: bytes, message: str) -> None:
    with pytest.raises(ELFError, match=message):
        ELFFile(io.BytesIO(data), len(data))


def test_truncated_real_library(built: dict[str, Path]) -> None:
    data = built["liby"].read_bytes()
    cut = data[: len(data) // 3]

    def read_all() -> None:
        elf = ELFFile(io.BytesIO(cut), len(cut))
        _ = elf.needed, elf.sections

    with pytest.raises(ELFError):
        read_all()


def test_corrupt_program_header_offset(built: dict[str, Path]) -> None:
    data = bytearray(built["liby"].read_bytes())
    data[32:40] = (len(data) + 100).to_bytes(8, "little")  # e_phoff past the end
    elf = ELFFile(io.BytesIO(bytes(data)), len(data))
    with pytest.raises(ELFError):
        _ = elf.needed
