"""GPU code for tests: the real judge (``cuobjdump``), real fat binaries built by ``nvcc`` where
it is installed, and ``.nv_fatbin`` sections written byte by byte into gcc-built libraries for
worlds (checked against ``cuobjdump`` in test_fatbin.py, so they are what NVIDIA's tools read).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from elfbuild import compile_elf

FIXTURES = Path(__file__).parent / "data" / "fatbin"

# Flag bits as nvcc sets them (64-bit, CUDA producer, Linux host), plus the ones tests choose.
BASE_FLAGS = 0x0001 | 0x0004 | 0x0010
LZ4 = 0x2000
ZSTD = 0x8000
ARCH_SPECIFIC = 0x100000


def cuobjdump() -> Optional[str]:
    """The ``cuobjdump`` binary: on PATH, from the ``nvidia-cuda-cuobjdump`` wheel (a test
    dependency) in this interpreter's site-packages, or from a toolkit."""
    found = shutil.which("cuobjdump")
    if found:
        return found
    for entry in sys.path:
        for sub in ("cu13", "cuda_cuobjdump", "cu12"):
            candidate = Path(entry) / "nvidia" / sub / "bin" / "cuobjdump"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    for home in (os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if home and (Path(home) / "bin" / "cuobjdump").is_file():
            return str(Path(home) / "bin" / "cuobjdump")
    return None


def nvcc() -> Optional[str]:
    found = shutil.which("nvcc")
    if found:
        return found
    for home in (os.environ.get("CUDA_HOME"), "/usr/local/cuda", *sorted_toolkits()):
        if home and (Path(home) / "bin" / "nvcc").is_file():
            return str(Path(home) / "bin" / "nvcc")
    return None


def sorted_toolkits() -> list[str]:
    base = Path("/usr/local")
    if not base.is_dir():
        return []
    return sorted((str(p) for p in base.glob("cuda-*")), reverse=True)


_LISTED = re.compile(r"^(ELF|PTX) file\s+\d+: .*\.(sm_\w+?)\.(cubin|ptx)$")


def cuobjdump_lists(binary: str, path: Path) -> tuple[list[str], list[str]]:
    """(SASS, PTX) as ``cuobjdump --list-elf`` / ``--list-ptx`` print them, in file order;
    PTX ``sm_90`` is named ``compute_90`` as cudaenv (and nvcc) name it."""
    sass: list[str] = []
    ptx: list[str] = []
    for option, into in (("--list-elf", sass), ("--list-ptx", ptx)):
        done = subprocess.run(
            [binary, option, str(path)], capture_output=True, text=True, check=False
        )
        for line in done.stdout.splitlines():
            match = _LISTED.match(line.strip())
            if match:
                arch = match.group(2)
                into.append(arch if match.group(1) == "ELF" else "compute_" + arch[3:])
    return sass, ptx


def build_with_nvcc(
    compiler: str, output: Path, gencodes: Sequence[str], extra: Sequence[str] = ()
) -> Path:
    """A shared library from tests/data/fatbin/k.cu with the given ``-gencode`` values."""
    args = [compiler, "-shared", "-Xcompiler", "-fPIC", "-cudart", "shared", "-o", str(output)]
    for gencode in gencodes:
        args += ["-gencode", gencode]
    args += [*extra, str(FIXTURES / "k.cu")]
    subprocess.run(args, check=True, capture_output=True, text=True)
    return output


# -- fat binaries written byte by byte ----------------------------------------------------------


def cubin(arch: int) -> bytes:
    """The smallest image ``cuobjdump`` accepts as a cubin: an ELF header for EM_CUDA (190)
    with the SM in ``e_flags`` as CUDA 13 writes it, a null section and ``.shstrtab``."""
    names = b"\0.shstrtab\0"
    names += b"\0" * (-len(names) % 8)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0x41, 8]) + b"\0" * 7
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH",
        2,
        190,
        1,
        0,
        0,
        64 + len(names),
        0x5000002 | arch << 8,
        64,
        56,
        0,
        64,
        2,
        1,
    )
    null = b"\0" * 64
    shstrtab = struct.pack("<IIQQQQIIQQ", 1, 3, 0, 0, 64, len(names), 0, 0, 1, 0)
    return header + names + null + shstrtab


def fatbin_entry(
    kind: str, arch: int, *, flags: int = BASE_FLAGS, payload: bytes = b"", ptx_isa: str = "9.0"
) -> bytes:
    """One entry: ``kind`` is ``sass`` or ``ptx``. The payload defaults to a minimal cubin or
    PTX text; PTX entries carry the 16-byte options block nvcc writes (``cuobjdump`` insists)."""
    major, minor = (int(x) for x in ptx_isa.split("."))
    if kind == "sass":
        payload = payload or cubin(arch)
        header_size, options, version = 64, b"", (1, 8)
    else:
        payload = payload or f".version {ptx_isa}\n.target sm_{arch}\n.address_size 64\n\0".encode()
        header_size, options, version = 80, struct.pack("<I", 0x48) + b"\0" * 12, (major, minor)
    payload += b"\0" * (-len(payload) % 8)
    head = struct.pack("<HHIQ", 2 if kind == "sass" else 1, 0x0101, header_size, len(payload))
    head += struct.pack("<IIHHI", 0, 0x40 if options else 0, version[1], version[0], arch)
    head += struct.pack("<IIQQQ", 0, 0, flags, 0, 0)
    return head + options + payload


def fatbin_container(entries: Sequence[bytes]) -> bytes:
    body = b"".join(entries)
    return struct.pack("<IHHQ", 0xBA55ED50, 1, 16, len(body)) + body


def sass(*archs: str, flags: int = BASE_FLAGS) -> list[bytes]:
    """Entries for ``sm_80``, ``sm_90a`` ... (the ``a`` sets the architecture-specific flag)."""
    out = []
    for name in archs:
        number = name.removeprefix("sm_")
        extra = ARCH_SPECIFIC if number.endswith("a") else 0
        out.append(fatbin_entry("sass", int(number.rstrip("af")), flags=flags | extra))
    return out


def ptx(*archs: str, isa: str = "9.0", flags: int = BASE_FLAGS) -> list[bytes]:
    out = []
    for name in archs:
        number = name.removeprefix("compute_")
        extra = ARCH_SPECIFIC if number.endswith("a") else 0
        out.append(fatbin_entry("ptx", int(number.rstrip("af")), flags=flags | extra, ptx_isa=isa))
    return out


def gpu_code_source(containers: Sequence[bytes], section: str = ".nv_fatbin") -> str:
    """C source that puts ``containers`` (8-byte aligned, as nvcc lays them out) in
    ``section`` of the object gcc builds from it."""
    blob = b"".join(c + b"\0" * (-len(c) % 8) for c in containers)
    data = ", ".join(str(b) for b in blob) or "0"
    return (
        f'__attribute__((section("{section}"), aligned(8), used))\n'
        f"static const unsigned char gpu_code[] = {{{data}}};\n"
        "int gpu_code_size(void) { return (int)sizeof gpu_code; }\n"
    )


def gpu_code_for(sass_archs: Sequence[str] = (), ptx_archs: Sequence[str] = ()) -> str:
    """C source for one container with SASS and PTX for the named architectures."""
    return gpu_code_source([fatbin_container(sass(*sass_archs) + ptx(*ptx_archs))])


def library_with_gpu_code(
    output: Path,
    containers: Sequence[bytes],
    *,
    soname: Optional[str] = None,
    link: Sequence[Path] = (),
    rpath: Optional[str] = None,
    section: str = ".nv_fatbin",
) -> Path:
    """A gcc-built shared library whose ``section`` holds ``containers``."""
    return compile_elf(
        output, gpu_code_source(containers, section), soname=soname, link=link, rpath=rpath
    )
