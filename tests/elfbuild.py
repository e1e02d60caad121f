"""Real ELF files for tests, built by gcc: shared libraries with a chosen SONAME, NEEDED
entries, DT_RPATH or DT_RUNPATH, GNU symbol versions; and executables."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

HAVE_GCC = shutil.which("gcc") is not None


def compile_elf(
    output: Path,
    source: str,
    *,
    shared: bool = True,
    soname: Optional[str] = None,
    link: Sequence[Path] = (),
    rpath: Optional[str] = None,
    runpath: Optional[str] = None,
    version_script: Optional[str] = None,
    extra: Sequence[str] = (),
) -> Path:
    """Compile ``source`` (C) into ``output``.

    ``link`` are shared objects to link against: each becomes a DT_NEEDED entry (its SONAME).
    ``rpath`` sets DT_RPATH (``--disable-new-dtags``), ``runpath`` DT_RUNPATH.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    work = output.parent / f".{output.name}.build"
    work.mkdir(exist_ok=True)
    c_file = work / "src.c"
    c_file.write_text(source)
    args = ["gcc", "-o", str(output), str(c_file), "-Wl,--no-as-needed"]
    if shared:
        args += ["-shared", "-fPIC"]
    if soname:
        args.append(f"-Wl,-soname,{soname}")
    if version_script is not None:
        script = work / "version.map"
        script.write_text(version_script)
        args.append(f"-Wl,--version-script={script}")
    for lib in link:
        args.append(str(lib))
    if rpath is not None:
        args += ["-Wl,--disable-new-dtags", f"-Wl,-rpath,{rpath}"]
    if runpath is not None:
        args += ["-Wl,--enable-new-dtags", f"-Wl,-rpath,{runpath}"]
    args += list(extra)
    subprocess.run(args, check=True, capture_output=True, text=True)
    shutil.rmtree(work)
    return output


def library(
    directory: Path,
    soname: str,
    *,
    functions: Sequence[str] = ("f",),
    filename: Optional[str] = None,
    **kwargs: object,
) -> Path:
    """A shared library named ``filename`` (default: the soname) defining ``functions``."""
    body = "\n".join(f"int {name}(void) {{ return 1; }}" for name in functions)
    return compile_elf(directory / (filename or soname), body, soname=soname, **kwargs)  # type: ignore[arg-type]


DT_FLAGS_1 = 0x6FFFFFFB


def or_flags_1(path: Path, bits: int) -> None:
    """Set bits in an existing DT_FLAGS_1 entry (byte surgery; ld ignores ``-z nodeflib``)."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile as OracleELF

    data = bytearray(path.read_bytes())
    with path.open("rb") as handle:
        elf = OracleELF(handle)
        dynamic = next(s for s in elf.iter_sections() if isinstance(s, DynamicSection))
        base = dynamic["sh_offset"]
        for index, tag in enumerate(dynamic.iter_tags()):
            if tag.entry.d_tag == "DT_FLAGS_1":
                at = base + index * 16 + 8
                value = int.from_bytes(data[at : at + 8], "little") | bits
                data[at : at + 8] = value.to_bytes(8, "little")
                path.write_bytes(bytes(data))
                return
    raise ValueError(f"{path} has no DT_FLAGS_1 entry")
