"""Every parser, fed what a damaged or hostile machine can hold (hypothesis).

A parser either answers or raises its own ``ValueError`` (which the probes turn into an
``unreadable-file`` finding) — never another exception, never a hang, never memory out of
proportion to its input.  Binary formats are fuzzed by mutating real files at the offsets
where their structures live: a gcc-built library with SONAME, NEEDED, RUNPATH, symbol
versions and a ``.nv_fatbin`` section; a fat binary; an ld.so.cache written by the real
``ldconfig -r``.  Text formats get arbitrary text.

The CI profile is derandomized (the same examples every run); ``HYPOTHESIS_PROFILE=fuzz``
runs many more, randomly (docs/hardening.md).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cudaenv._formats.conda import (
    parse_conda_meta_filename,
    parse_condarc_list,
    parse_environments_txt,
)
from cudaenv._formats.elffile import ELFError, ELFFile
from cudaenv._formats.fatbin import FatbinError, parse_fatbin
from cudaenv._formats.jupyter import KernelspecError, parse_kernel_json
from cudaenv._formats.ldso import LdCacheError, parse_ld_so_cache, parse_ld_so_conf
from cudaenv._formats.metadata import (
    parse_dist_dirname,
    parse_metadata_headers,
    requirement_name,
)
from cudaenv._formats.pipconf import parse_pip_config, pip_bool
from cudaenv._formats.pyvenv import parse_pyvenv_cfg
from cudaenv._formats.pyversion import version_from_executable_name, version_in_path
from cudaenv._formats.shebang import parse_shebang
from cudaenv._formats.shellrc import parse_aliases
from elfbuild import HAVE_GCC, compile_elf, library
from gpucode import fatbin_container, gpu_code_source, ptx, sass

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="the real files are built by gcc")

VERSION_SCRIPT = "LIBX_1.0 { global: f; local: *; };\nLIBX_2.0 { global: g; } LIBX_1.0;\n"


def _build_library() -> bytes:
    """A real shared library with every structure the ELF reader reads."""
    directory = Path(_work_dir())
    needed = library(directory, "libdep.so.1")
    source = (
        gpu_code_source([fatbin_container(sass("sm_80", "sm_90") + ptx("compute_90"))])
        + "int f(void) { return 1; }\nint g(void) { return 2; }\n"
    )
    out = compile_elf(
        directory / "libx.so.1",
        source,
        soname="libx.so.1",
        link=[needed],
        runpath="$ORIGIN/../lib",
        version_script=VERSION_SCRIPT,
    )
    return out.read_bytes()


_WORK: list[str] = []


def _work_dir() -> str:
    import atexit
    import tempfile

    if not _WORK:
        _WORK.append(tempfile.mkdtemp(prefix="cudaenv-fuzz-"))
        atexit.register(shutil.rmtree, _WORK[0], ignore_errors=True)
    return _WORK[0]


LIBRARY = _build_library() if HAVE_GCC else b""


def _structure_offsets(data: bytes) -> list[int]:
    """Where the ELF's header, program and section headers and their sections begin."""
    from elftools.elf.elffile import ELFFile as OracleELF

    oracle = OracleELF(io.BytesIO(data))
    header = oracle.header
    offsets = [0, header["e_phoff"], header["e_shoff"]]
    offsets += [header["e_phoff"] + i * header["e_phentsize"] for i in range(header["e_phnum"])]
    offsets += [header["e_shoff"] + i * header["e_shentsize"] for i in range(header["e_shnum"])]
    offsets += [section["sh_offset"] for section in oracle.iter_sections()]
    return sorted({o for o in offsets if 0 <= o < len(data)})


ELF_OFFSETS = _structure_offsets(LIBRARY) if LIBRARY else [0]


@st.composite
def damaged(draw: st.DrawFn, base: bytes, offsets: list[int]) -> bytes:
    """``base`` with a few bytes overwritten near its structures, and perhaps cut short."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        near = draw(st.sampled_from(offsets)) + draw(st.integers(0, 63))
        chunk = draw(
            st.one_of(
                st.binary(min_size=1, max_size=8),
                st.sampled_from([b"\xff" * 8, b"\x00" * 8, b"\x7f\xff\xff\xff", b"\x01"]),
            )
        )
        if near < len(data):
            data[near : near + len(chunk)] = chunk
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data))) :]
    return bytes(data)


def slicer(blob: bytes) -> Callable[[int, int], bytes]:
    return lambda offset, size: blob[offset : offset + size]


def read_all_of_elf(data: bytes) -> None:
    """Everything the probes ask of an ELF file."""
    try:
        elf = ELFFile(io.BytesIO(data), len(data), "fuzzed.so")
        for ask in (
            lambda: elf.interpreter,
            lambda: elf.needed,
            lambda: elf.soname,
            lambda: elf.rpath,
            lambda: elf.runpath,
            lambda: elf.flags_1,
            lambda: elf.is_dynamic,
            lambda: elf.sections,
            lambda: elf.symbol_versions,
        ):
            try:
                ask()
            except ELFError:
                continue
        for name in (".nv_fatbin", "__nv_relfatbin"):
            try:
                section = elf.section(name)
                if section is not None:
                    blob = elf.read_section(section)
                    parse_fatbin(slicer(blob), len(blob))
            except (ELFError, FatbinError):
                continue
    except ELFError:
        return


def test_the_unharmed_library_reads_fully() -> None:
    """The fuzzing starts from a file every question can be answered about."""
    elf = ELFFile(io.BytesIO(LIBRARY), len(LIBRARY))
    assert elf.soname == "libx.so.1"
    assert elf.needed == ("libdep.so.1", "libc.so.6")
    assert elf.runpath == "$ORIGIN/../lib"
    section = elf.section(".nv_fatbin")
    assert section is not None
    blob = elf.read_section(section)
    names = {e.name for e in parse_fatbin(lambda o, n: blob[o : o + n], len(blob))}
    assert names == {"sm_80", "sm_90", "compute_90"}
    assert len(ELF_OFFSETS) > 20


@given(damaged(LIBRARY, ELF_OFFSETS))
def test_damaged_elf_files(data: bytes) -> None:
    read_all_of_elf(data)


@given(st.binary(max_size=512), st.sampled_from([1, 2, 0, 7]), st.sampled_from([1, 2, 0]))
def test_random_bytes_behind_an_elf_header(tail: bytes, elf_class: int, encoding: int) -> None:
    read_all_of_elf(b"\x7fELF" + bytes([elf_class, encoding, 1]) + tail)


FATBIN = fatbin_container(sass("sm_70", "sm_80", "sm_90a") + ptx("compute_80", "compute_90"))


def _fatbin_offsets() -> list[int]:
    offsets, position = [0, 8, 16], 16
    while position < len(FATBIN):  # entry headers: kind, header size, payload size
        offsets.append(position)
        header = int.from_bytes(FATBIN[position + 4 : position + 8], "little")
        payload = int.from_bytes(FATBIN[position + 8 : position + 16], "little")
        position += header + payload
    return offsets


@given(damaged(FATBIN, _fatbin_offsets()))
def test_damaged_fat_binaries(data: bytes) -> None:
    try:
        entries = parse_fatbin(lambda o, n: data[o : o + n], len(data))
    except FatbinError:
        return
    assert len(entries) <= len(data) // 16 + 1  # never more entries than bytes can hold


@given(st.binary(max_size=256))
def test_random_fat_binaries(data: bytes) -> None:
    blob = b"\x50\xed\x55\xba" + data  # the container magic, then anything
    try:
        parse_fatbin(lambda o, n: blob[o : o + n], len(blob))
    except FatbinError:
        return


def _real_ld_cache() -> bytes:
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    if not Path(ldconfig).exists():
        return b""
    root = Path(_work_dir()) / "ldroot"
    for directory in ("usr/lib/x86_64-linux-gnu", "usr/local/cuda-12.4/lib64"):
        library(root / directory, "libcudart.so.12")
        library(root / directory, "libfoo.so.1", filename="libfoo.so.1.2.3")
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/ld.so.conf").write_text("/usr/local/cuda-12.4/lib64\n/usr/lib/x86_64-linux-gnu\n")
    subprocess.run([ldconfig, "-r", str(root)], check=True, capture_output=True)
    return (root / "etc/ld.so.cache").read_bytes()


LD_CACHE = _real_ld_cache() if HAVE_GCC else b""


@pytest.mark.skipif(not LD_CACHE, reason="needs ldconfig")
@given(st.data())
def test_damaged_ld_so_caches(data: st.DataObject) -> None:
    offsets = list(range(0, min(len(LD_CACHE), 512), 8))
    blob = data.draw(damaged(LD_CACHE, offsets))
    try:
        entries = parse_ld_so_cache(blob)
    except LdCacheError:
        return
    assert len(entries) <= len(blob) // 8


@given(st.binary(max_size=512))
def test_random_ld_so_caches(data: bytes) -> None:
    for blob in (data, b"glibc-ld.so.cache1.1" + data, b"ld.so-1.7.0" + data):
        try:
            parse_ld_so_cache(blob)
        except LdCacheError:
            continue


TEXT_PARSERS: dict[str, tuple[Callable[[str], object], tuple[type[Exception], ...]]] = {
    "ld.so.conf": (parse_ld_so_conf, ()),
    "METADATA": (parse_metadata_headers, ()),
    "pyvenv.cfg": (parse_pyvenv_cfg, ()),
    "kernel.json": (parse_kernel_json, (KernelspecError,)),
    "environments.txt": (parse_environments_txt, ()),
    ".condarc envs_dirs": (lambda t: parse_condarc_list(t, "envs_dirs"), ()),
    "pip.conf": (parse_pip_config, ()),
    "pip boolean": (pip_bool, ()),
    "#! line": (parse_shebang, ()),
    "shell aliases": (parse_aliases, ()),
    "conda-meta file name": (parse_conda_meta_filename, ()),
    "dist-info directory name": (parse_dist_dirname, ()),
    "Requires-Dist": (requirement_name, ()),
    "python executable name": (version_from_executable_name, ()),
    "path with a version": (version_in_path, ()),
}

hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("[]=:#;\\\n\t \"'{}-./$~\x00\udcff")),
    st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")),  # as os reads names
)


@pytest.mark.parametrize("kind", sorted(TEXT_PARSERS))
@given(text=hostile_text)
def test_text_parsers(kind: str, text: str) -> None:
    parse, allowed = TEXT_PARSERS[kind]
    try:
        parse(text)
    except allowed:
        return


def _atheris_target() -> Callable[[bytes], None]:
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "fuzz" / "atheris_parsers.py"
    spec = importlib.util.spec_from_file_location("atheris_parsers", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    target: Callable[[bytes], None] = module.test_one_input
    return target


ATHERIS_TARGET = _atheris_target()


@given(st.integers(0, 255), st.one_of(st.binary(max_size=256), damaged(LIBRARY, ELF_OFFSETS)))
def test_the_atheris_target_holds_the_same_contract(parser: int, data: bytes) -> None:
    """The long-run target (fuzz/atheris_parsers.py, docs/hardening.md) runs without atheris."""
    ATHERIS_TARGET(bytes([parser]) + data)


# -- requirement pins, judged by packaging ----------------------------------------------------

small = st.integers(0, 3)
pep440 = st.builds(
    lambda epoch, release, pre, post, dev, local: (
        (f"{epoch}!" if epoch else "")
        + ".".join(map(str, release))
        + (f"{pre[0]}{pre[1]}" if pre else "")
        + (f".post{post}" if post is not None else "")
        + (f".dev{dev}" if dev is not None else "")
        + (f"+{local}" if local else "")
    ),
    st.sampled_from([0, 0, 0, 1]),
    st.lists(small, min_size=1, max_size=4),
    st.one_of(st.none(), st.tuples(st.sampled_from(["a", "b", "rc"]), small)),
    st.one_of(st.none(), small),
    st.one_of(st.none(), small),
    st.one_of(st.none(), st.sampled_from(["local", "1.2", "cu121"])),
)
specifier = st.one_of(
    st.tuples(st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "==="]), pep440),
    st.tuples(
        st.sampled_from(["==", "!="]),
        st.lists(small, min_size=1, max_size=3).map(lambda r: ".".join(map(str, r)) + ".*"),
    ),
)


@given(st.lists(specifier, min_size=1, max_size=3), pep440)
def test_pins_are_judged_as_packaging_judges_them(
    specifiers: list[tuple[str, str]], candidate: str
) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from cudaenv._formats.requirements import contains

    text = ",".join(op + version for op, version in specifiers)
    try:
        theirs = SpecifierSet(text).contains(candidate, prereleases=True)
    except InvalidSpecifier:
        return  # invalid for packaging: the check skips such a requirement either way
    try:
        ours = contains(tuple(specifiers), candidate)
    except ValueError:
        return  # ours declines: the check asks packaging instead
    assert ours == theirs, (text, candidate)


@given(
    st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,5}){0,2}", fullmatch=True),
    st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True), max_size=3),
    st.lists(specifier, max_size=3),
)
def test_plain_requirements_read_as_packaging_reads_them(
    name: str, extras: list[str], specifiers: list[tuple[str, str]]
) -> None:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet

    from cudaenv._formats.requirements import simple_requirement

    text = name + (f"[{', '.join(extras)}]" if extras else "")
    text += " " + ", ".join(op + version for op, version in specifiers)
    try:
        theirs = Requirement(text)
    except InvalidRequirement:
        return
    ours = simple_requirement(text)
    assert ours is not None, text
    assert ours.name == theirs.name
    assert set(ours.extras) == theirs.extras
    assert SpecifierSet(",".join(op + v for op, v in ours.specifiers)) == theirs.specifier
    with_marker = simple_requirement(text + '; extra == "x"')
    assert with_marker is not None
    assert with_marker.marker == 'extra == "x"'
    assert with_marker.specifiers == ours.specifiers


MARKER_ENV = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}
literal = st.sampled_from(
    ["3.8", "3.11", "3.12", "3.13", "3.11.0", "3", "linux", "Linux", "x86_64", "aarch64",
     "x86_64 aarch64", "posix", "cpython", "CPython", "win32", "ctk", "with-cuda", ""]
)  # fmt: skip
quote = st.sampled_from(["'", '"'])
clause = st.one_of(
    st.builds(
        lambda v, op, lit, q: f"{v} {op} {q}{lit}{q}",
        st.sampled_from(sorted(MARKER_ENV)),
        st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~=", "in", "not in"]),
        literal,
        quote,
    ),
    st.builds(
        lambda lit, op, v, q: f"{q}{lit}{q} {op} {v}",
        literal,
        st.sampled_from(["==", "!=", "in", "not in"]),
        st.sampled_from(sorted(MARKER_ENV)),
        quote,
    ),
)
marker = st.recursive(
    clause,
    lambda inner: st.builds(
        lambda a, join, b, wrap: f"({a} {join} {b})" if wrap else f"{a} {join} {b}",
        inner,
        st.sampled_from(["and", "and", "or"]),
        inner,
        st.booleans(),
    ),
    max_leaves=4,
)


@given(marker)
def test_markers_are_evaluated_as_packaging_evaluates_them(text: str) -> None:
    from packaging.markers import Marker

    from cudaenv._formats.requirements import evaluate_marker

    ours = evaluate_marker(text, MARKER_ENV)
    if ours is None:
        return  # declined: the check asks packaging
    try:
        theirs = Marker(text).evaluate(MARKER_ENV)
    except Exception:  # noqa: BLE001 - packaging refuses some comparisons; ours must not answer
        pytest.fail(f"cudaenv answered {ours} where packaging refuses: {text}")
    assert ours == theirs, text
