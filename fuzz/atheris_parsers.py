"""Coverage-guided fuzzing of cudaenv's parsers with atheris (libFuzzer), for long runs.

    pip install atheris
    python fuzz/atheris_parsers.py -max_total_time=3600 fuzz/corpus

The first byte of each input picks the parser; the rest is its input.  A parser may answer
or raise its own ``ValueError``; anything else is a crash that libFuzzer saves for replay
(``python fuzz/atheris_parsers.py crash-<hash>``).  The hypothesis tests in
``tests/test_fuzz_parsers.py`` run the same contract in CI on mutated real files.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Callable

from cudaenv._formats.conda import parse_condarc_list, parse_environments_txt
from cudaenv._formats.elffile import ELFError, ELFFile
from cudaenv._formats.fatbin import FatbinError, parse_fatbin
from cudaenv._formats.jupyter import KernelspecError, parse_kernel_json
from cudaenv._formats.ldso import LdCacheError, parse_ld_so_cache, parse_ld_so_conf
from cudaenv._formats.metadata import parse_metadata_headers
from cudaenv._formats.pipconf import parse_pip_config
from cudaenv._formats.pyvenv import parse_pyvenv_cfg
from cudaenv._formats.shebang import parse_shebang
from cudaenv._formats.shellrc import parse_aliases


def _elf(data: bytes) -> None:
    try:
        elf = ELFFile(io.BytesIO(data), len(data), "input")
        for name in ("interpreter", "needed", "soname", "rpath", "runpath", "symbol_versions"):
            with contextlib.suppress(ELFError):
                getattr(elf, name)
        for section in elf.sections:
            if section.name in (".nv_fatbin", "__nv_relfatbin"):
                _fatbin(elf.read_section(section))
    except ELFError:
        return


def _fatbin(data: bytes) -> None:
    try:
        parse_fatbin(lambda o, n: data[o : o + n], len(data))
    except FatbinError:
        return


def _ld_cache(data: bytes) -> None:
    try:
        parse_ld_so_cache(data)
    except LdCacheError:
        return


def _text(
    parse: Callable[[str], object], allowed: tuple[type[Exception], ...] = ()
) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        try:
            parse(data.decode("utf-8", "surrogateescape"))
        except allowed:
            return

    return run


PARSERS: list[Callable[[bytes], None]] = [
    _elf,
    _fatbin,
    _ld_cache,
    _text(parse_ld_so_conf),
    _text(parse_metadata_headers),
    _text(parse_pyvenv_cfg),
    _text(parse_kernel_json, (KernelspecError,)),
    _text(parse_environments_txt),
    _text(lambda t: parse_condarc_list(t, "envs_dirs")),
    _text(parse_pip_config),
    _text(parse_shebang),
    _text(parse_aliases),
]


def test_one_input(data: bytes) -> None:
    if data:
        PARSERS[data[0] % len(PARSERS)](data[1:])


def main() -> None:
    import atheris  # noqa: PLC0415 - only for the long runs

    atheris.instrument_all()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
