"""The fat-binary reader and ``cudaenv archs``, judged by ``cuobjdump`` on real nvcc output.

Three kinds of input: the committed fixtures in tests/data/fatbin (built by its build.sh),
libraries nvcc builds here for chosen ``-gencode`` targets (skipped where nvcc is absent), and
sections written byte by byte (for layouts and damage nvcc never produces).
"""

from __future__ import annotations

import io
import json
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import pytest

from cudaenv._cli import main
from cudaenv._formats.fatbin import FatbinError, parse_fatbin
from cudaenv._host import Host
from cudaenv._probes.archs import gpu_code, read_fatbin
from elfbuild import HAVE_GCC, compile_elf
from gpucode import (
    BASE_FLAGS,
    FIXTURES,
    LZ4,
    ZSTD,
    build_with_nvcc,
    cuobjdump,
    cuobjdump_lists,
    fatbin_container,
    fatbin_entry,
    library_with_gpu_code,
    nvcc,
    ptx,
    sass,
)

CUOBJDUMP = cuobjdump()
NVCC = nvcc()
needs_cuobjdump = pytest.mark.skipif(
    CUOBJDUMP is None, reason="cuobjdump not found (pip install nvidia-cuda-cuobjdump)"
)
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc not installed")
needs_gcc = pytest.mark.skipif(not HAVE_GCC, reason="gcc not installed")

HOST = Host("/", {})


def archs_json(*paths: Path, root: Optional[Path] = None) -> list[dict[str, Any]]:
    out = io.StringIO()
    argv = ["archs", *(str(p) for p in paths), "--format", "json"]
    if root is not None:
        argv += ["--root", str(root)]
    assert main(argv, out) == 0
    files: list[dict[str, Any]] = json.loads(out.getvalue())["files"]
    return files


def in_file_order(path: Path) -> tuple[list[str], list[str]]:
    entries, error = read_fatbin(HOST, str(path))
    assert error is None
    return (
        [e.name for e in entries if e.kind == "sass"],
        [e.name for e in entries if e.kind == "ptx"],
    )


def assert_agrees_with_cuobjdump(path: Path) -> None:
    """Same images, in the same order, with the same names, as cuobjdump lists them."""
    assert CUOBJDUMP is not None
    assert in_file_order(path) == cuobjdump_lists(CUOBJDUMP, path)


# -- the committed fixtures -----------------------------------------------------------------------

FIXTURE_ANSWERS = {
    # file: (sass, ptx, entries, compressed) — from build.sh's -gencode lines
    "libsmall.so": (["sm_75", "sm_86", "sm_90a"], ["compute_90"], 7, 7),
    "librdc.so": (["sm_80", "sm_89"], [], 2, 0),
    "relocatable.o": (["sm_80"], ["compute_80"], 2, 2),
}


@pytest.mark.parametrize("name", sorted(FIXTURE_ANSWERS))
def test_fixture_lists_what_build_sh_compiled(name: str) -> None:
    expected_sass, expected_ptx, entries, compressed = FIXTURE_ANSWERS[name]
    [answer] = archs_json(FIXTURES / name)
    assert answer["sass"] == expected_sass
    assert answer["ptx"] == expected_ptx
    assert (answer["entries"], answer["compressed"]) == (entries, compressed)
    assert "error" not in answer


@needs_cuobjdump
@pytest.mark.parametrize("name", sorted(FIXTURE_ANSWERS))
def test_fixture_agrees_with_cuobjdump(name: str) -> None:
    assert_agrees_with_cuobjdump(FIXTURES / name)


def test_relocatable_images_count_only_without_an_executable_fat_binary() -> None:
    # librdc.so carries compute_89 PTX in __nv_relfatbin; nothing loads it, cuobjdump skips it
    with (FIXTURES / "librdc.so").open("rb") as handle:
        assert b"__nv_relfatbin" in handle.read()
    assert gpu_code(HOST, str(FIXTURES / "librdc.so")).ptx == ()
    assert gpu_code(HOST, str(FIXTURES / "relocatable.o")).ptx == ("compute_80",)


def test_ptx_records_its_isa_version() -> None:
    # CUDA 13.0 writes PTX ISA 9.0: the oldest driver that can JIT it is a 13.0 one
    assert gpu_code(HOST, str(FIXTURES / "libsmall.so")).ptx_isa == "9.0"


# -- libraries nvcc builds here -------------------------------------------------------------------

NVCC_CASES = {
    "plain, uncompressed": (
        [
            "arch=compute_75,code=sm_75",
            "arch=compute_80,code=sm_80",
            "arch=compute_89,code=[sm_89,compute_89]",
        ],
        ["--compress-mode=none"],
    ),
    "arch- and family-specific": (
        [
            "arch=compute_90a,code=sm_90a",
            "arch=compute_100f,code=[sm_100f,compute_100f]",
            "arch=compute_103,code=sm_103",
            "arch=compute_120a,code=[sm_120a,compute_120a]",
        ],
        [],
    ),
    "compressed for size": (
        ["arch=compute_86,code=sm_86", "arch=compute_120,code=[sm_120,compute_120]"],
        ["--compress-mode=size"],
    ),
    "compressed for speed": (
        ["arch=compute_86,code=sm_86", "arch=compute_90,code=compute_90"],
        ["--compress-mode=speed"],
    ),
}


@pytest.fixture(scope="module")
def nvcc_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    assert NVCC is not None
    directory = tmp_path_factory.mktemp("nvcc")
    return {
        case: build_with_nvcc(NVCC, directory / f"lib{i}.so", gencodes, extra)
        for i, (case, (gencodes, extra)) in enumerate(NVCC_CASES.items())
    }


def expected_from_gencodes(gencodes: Sequence[str]) -> tuple[list[str], list[str]]:
    """What each -gencode asks for, in cuobjdump's names (family SASS loses its ``f``)."""
    sass_names, ptx_names = set(), set()
    for gencode in gencodes:
        codes = gencode.split("code=", 1)[1].strip("[]").split(",")
        for code in codes:
            if code.startswith("sm_"):
                sass_names.add(code.rstrip("f"))
            else:
                ptx_names.add(code)

    def key(name: str) -> tuple[int, str]:
        return int("".join(c for c in name if c.isdigit())), name

    return sorted(sass_names, key=key), sorted(ptx_names, key=key)


@needs_nvcc
@pytest.mark.parametrize("case", list(NVCC_CASES))
def test_nvcc_built_library_lists_its_gencodes(case: str, nvcc_built: dict[str, Path]) -> None:
    [answer] = archs_json(nvcc_built[case])
    assert (answer["sass"], answer["ptx"]) == expected_from_gencodes(NVCC_CASES[case][0])


@needs_nvcc
@needs_cuobjdump
@pytest.mark.parametrize("case", list(NVCC_CASES))
def test_nvcc_built_library_agrees_with_cuobjdump(case: str, nvcc_built: dict[str, Path]) -> None:
    assert_agrees_with_cuobjdump(nvcc_built[case])


@needs_nvcc
def test_compression_modes_are_counted(nvcc_built: dict[str, Path]) -> None:
    [plain] = archs_json(nvcc_built["plain, uncompressed"])
    [small] = archs_json(nvcc_built["compressed for size"])
    assert plain["compressed"] == 0
    assert small["compressed"] == small["entries"] > 0


# -- sections written byte by byte ---------------------------------------------------------------


@needs_gcc
def test_written_section_reads_as_written(tmp_path: Path) -> None:
    library = library_with_gpu_code(
        tmp_path / "libgpu.so",
        [
            fatbin_container(sass("sm_80", "sm_90a") + ptx("compute_90", "compute_120a")),
            fatbin_container(sass("sm_120") + ptx("compute_86", isa="8.8")),
        ],
    )
    [answer] = archs_json(library)
    assert answer["sass"] == ["sm_80", "sm_90a", "sm_120"]
    assert answer["ptx"] == ["compute_86", "compute_90", "compute_120a"]
    assert (answer["entries"], answer["compressed"]) == (6, 0)
    assert answer["ptx_isa"] == "9.0"  # the newest PTX decides the oldest driver that can JIT


@needs_gcc
@needs_cuobjdump
def test_written_sections_are_what_cuobjdump_reads(tmp_path: Path) -> None:
    # The worlds' libraries are written this way: cuobjdump must read them as we do.  (It
    # names SASS from the cubin inside, so the "a" suffix of written SASS is left out here.)
    library = library_with_gpu_code(
        tmp_path / "libgpu.so",
        [
            fatbin_container(sass("sm_70", "sm_80") + ptx("compute_80")),
            fatbin_container(sass("sm_90", "sm_120") + ptx("compute_120a", "compute_100f")),
        ],
    )
    assert_agrees_with_cuobjdump(library)


@needs_gcc
@pytest.mark.parametrize("flag", [LZ4, ZSTD, 0x1000])
def test_every_compression_flag_counts(tmp_path: Path, flag: int) -> None:
    library = library_with_gpu_code(
        tmp_path / "libz.so", [fatbin_container(sass("sm_80", flags=BASE_FLAGS | flag))]
    )
    assert gpu_code(HOST, str(library)).compressed == 1


@needs_gcc
def test_larger_entry_headers_are_skipped_by_their_size(tmp_path: Path) -> None:
    # sm_100+ cubins come with 112-byte headers; the reader follows header_size, not 64
    entry = bytearray(fatbin_entry("sass", 100))
    struct.pack_into("<I", entry, 4, 112)
    entry[64:64] = bytes(48)
    library = library_with_gpu_code(
        tmp_path / "libbig.so", [fatbin_container([bytes(entry), *sass("sm_120")])]
    )
    assert gpu_code(HOST, str(library)).sass == ("sm_100", "sm_120")


@needs_gcc
def test_file_without_gpu_code_has_empty_lists(tmp_path: Path) -> None:
    library = compile_elf(tmp_path / "libplain.so", "int f(void) { return 1; }\n")
    [answer] = archs_json(library)
    assert answer == {
        "path": str(library),
        "sass": [],
        "ptx": [],
        "ptx_isa": None,
        "entries": 0,
        "compressed": 0,
    }


# -- damage: reported on the file, never a crash, never failing the other files ------------------

GOOD = fatbin_container(sass("sm_80") + ptx("compute_80"))


def damaged(kind: str) -> bytes:
    blob = bytearray(GOOD)
    if kind == "bad magic":
        return bytes(GOOD + b"\x13\x37" * 8)
    if kind == "container past the section":
        struct.pack_into("<Q", blob, 8, len(blob) * 4)
    elif kind == "entry past its container":
        struct.pack_into("<Q", blob, 16 + 8, 1 << 20)
    elif kind == "entry header too small":
        struct.pack_into("<I", blob, 16 + 4, 8)
    elif kind == "entry cut short":
        struct.pack_into("<Q", blob, 8, 16 + 32)  # the container ends inside an entry header
    return bytes(blob)


DAMAGE = [
    "bad magic",
    "container past the section",
    "entry past its container",
    "entry header too small",
    "entry cut short",
]


@pytest.mark.parametrize("kind", DAMAGE)
def test_parser_rejects_damage(kind: str) -> None:
    blob = damaged(kind)
    with pytest.raises(FatbinError):
        parse_fatbin(lambda offset, size: blob[offset : offset + size], len(blob))


def test_zero_padding_between_containers_is_fine() -> None:
    blob = GOOD + bytes(8) + GOOD + bytes(3)
    entries = parse_fatbin(lambda offset, size: blob[offset : offset + size], len(blob))
    assert [e.name for e in entries] == ["sm_80", "compute_80"] * 2


@needs_gcc
@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_section_is_an_error_on_that_file_only(tmp_path: Path, kind: str) -> None:
    bad = library_with_gpu_code(tmp_path / "libbad.so", [damaged(kind)])
    good = library_with_gpu_code(tmp_path / "libgood.so", [GOOD])
    first, second = archs_json(bad, good)
    assert first["path"] == str(bad)
    assert first["error"].startswith("corrupt fat binary")
    assert (second["sass"], second["ptx"], "error" in second) == (["sm_80"], ["compute_80"], False)


def fatbin_section_header(data: bytes | bytearray) -> int:
    """The file offset of the ``.nv_fatbin`` section header in a 64-bit ELF."""
    shoff: int = struct.unpack_from("<Q", data, 0x28)[0]
    shnum, shstrndx = struct.unpack_from("<HH", data, 0x3C)
    (names,) = struct.unpack_from("<Q", data, shoff + shstrndx * 64 + 0x18)
    for index in range(shnum):
        (name,) = struct.unpack_from("<I", data, shoff + index * 64)
        if data[names + name :].startswith(b".nv_fatbin\0"):
            return shoff + index * 64
    raise AssertionError("no .nv_fatbin")


def test_section_past_the_end_of_the_file_is_an_error(tmp_path: Path) -> None:
    data = bytearray((FIXTURES / "libsmall.so").read_bytes())
    struct.pack_into("<Q", data, fatbin_section_header(data) + 0x20, len(data))  # sh_size
    patched = tmp_path / "libpast.so"
    patched.write_bytes(data)
    [answer] = archs_json(patched)
    assert answer["error"] == ".nv_fatbin runs past the end of the file"


def test_zeroed_section_is_an_error(tmp_path: Path) -> None:
    data = bytearray((FIXTURES / "libsmall.so").read_bytes())
    header = fatbin_section_header(data)
    offset, size = struct.unpack_from("<QQ", data, header + 0x18)
    data[offset : offset + size] = bytes(size)
    zeroed = tmp_path / "libzero.so"
    zeroed.write_bytes(data)
    [answer] = archs_json(zeroed)
    assert answer["error"].startswith("corrupt fat binary: no fat binary container")


def test_truncated_file_is_an_error(tmp_path: Path) -> None:
    data = (FIXTURES / "libsmall.so").read_bytes()
    truncated = tmp_path / "libshort.so"
    truncated.write_bytes(data[: len(data) // 2])  # the section table is gone with the tail
    [answer] = archs_json(truncated)
    assert answer["error"].startswith("not a readable ELF file")


def test_not_an_elf_file_is_an_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a library\n")
    [answer] = archs_json(text)
    assert answer["error"].startswith("not a readable ELF file")


def test_missing_file_is_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["archs", str(tmp_path / "nothing.so")], io.StringIO()) == 2
    assert "nothing.so: no such file" in capsys.readouterr().err


def test_paths_inside_a_root(tmp_path: Path) -> None:
    lib = tmp_path / "root" / "opt" / "lib"
    lib.mkdir(parents=True)
    shutil.copy(FIXTURES / "libsmall.so", lib / "libsmall.so")
    (lib / "libsmall.so.1").symlink_to("/opt/lib/libsmall.so")  # absolute, inside the root
    [answer] = archs_json(Path("/opt/lib/libsmall.so.1"), root=tmp_path / "root")
    assert answer["path"] == "/opt/lib/libsmall.so.1"
    assert answer["sass"] == ["sm_75", "sm_86", "sm_90a"]


def test_text_output_names_the_architectures() -> None:
    out = io.StringIO()
    assert main(["archs", str(FIXTURES / "libsmall.so")], out) == 0
    text = out.getvalue()
    assert "sm_75 sm_86 sm_90a" in text
    assert "compute_90" in text
    assert "7 entries, 7 compressed" in text
