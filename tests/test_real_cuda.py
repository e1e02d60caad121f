"""Real NVIDIA libraries as judges: this machine's CUDA toolkit, and (opt-in, downloads) the
real NVIDIA wheels from PyPI; the real loader on versioned-symbol gaps."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile as OracleELF
from elftools.elf.gnuversions import GNUVerDefSection, GNUVerSymSection
from elftools.elf.sections import SymbolTableSection

from cudaenv import collect
from cudaenv._formats.elffile import ELFFile
from cudaenv._host import Host
from cudaenv._probes.libraries import _symbol_gaps
from cudaenv._probes.loader import LoaderModel
from cudaenv.api import which
from cudaworld import cusparse, nvjitlink
from elfbuild import HAVE_GCC, compile_elf

SYSTEM_CUDA = Path("/usr/local/cuda-13.0")


def oracle_versions(path: Path) -> tuple[list[str], set[tuple[str, str | None]]]:
    """Defined version names and exported (symbol, version) pairs, by pyelftools."""
    with path.open("rb") as handle:
        elf = OracleELF(handle)
        verdef = next((s for s in elf.iter_sections() if isinstance(s, GNUVerDefSection)), None)
        names = {}
        defined = []
        if verdef is not None:
            for entry, aux in verdef.iter_versions():
                name = next(aux).name
                names[entry["vd_ndx"]] = name
                defined.append(name)
        versym = next((s for s in elf.iter_sections() if isinstance(s, GNUVerSymSection)), None)
        dynsym = elf.get_section_by_name(".dynsym")
        assert isinstance(dynsym, SymbolTableSection)
        exports = set()
        for index, symbol in enumerate(dynsym.iter_symbols()):
            if index == 0 or symbol["st_shndx"] == "SHN_UNDEF":
                continue
            if symbol["st_info"]["bind"] not in ("STB_GLOBAL", "STB_WEAK") or not symbol.name:
                continue
            ndx = versym.get_symbol(index)["ndx"] if versym is not None else 1
            ndx = ndx if isinstance(ndx, int) else 1
            exports.add((symbol.name, names.get(ndx & 0x7FFF) if (ndx & 0x7FFF) > 1 else None))
        return defined, exports


def ours_versions(path: Path) -> tuple[list[str], frozenset[tuple[str, str | None]]]:
    with path.open("rb") as handle:
        versions = ELFFile(handle, path.stat().st_size).symbol_versions
        return list(versions.defined_versions), versions.exports


# -- this machine's toolkit ------------------------------------------------------------------------


@pytest.mark.skipif(not SYSTEM_CUDA.is_dir(), reason="this machine has no /usr/local/cuda-13.0")
def test_the_machines_cuda_toolkit() -> None:
    snap = collect("/", {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    toolkit = next(t for t in snap.toolkits if t.root == str(SYSTEM_CUDA))
    assert toolkit.version is not None
    assert toolkit.version.startswith("13.0")
    assert toolkit.nvcc == f"{SYSTEM_CUDA}/bin/nvcc"
    assert toolkit.runtime_headers
    assert "libcudart.so.13" in toolkit.libraries


@pytest.mark.skipif(not SYSTEM_CUDA.is_dir(), reason="this machine has no /usr/local/cuda-13.0")
def test_real_libcudart_read_like_pyelftools() -> None:
    library = SYSTEM_CUDA / "lib" / "libcudart.so.13"
    defined, exports = oracle_versions(library)
    ours_defined, ours_exports = ours_versions(library)
    assert ours_defined == defined
    assert set(ours_exports) == exports
    assert len(exports) > 100
    assert "libcudart.so.13" in defined


@pytest.mark.skipif(not SYSTEM_CUDA.is_dir(), reason="this machine has no /usr/local/cuda-13.0")
def test_which_agrees_with_ldconfig_for_the_machines_cudart() -> None:
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"\tlibcudart\.so\.13 \(libc6,x86-64\) => (\S+)", listing)
    if match is None:
        pytest.fail("libcudart.so.13 is not in this machine's ld.so.cache")
    answer = which("libcudart.so.13", "/", {"PATH": "/usr/bin:/bin", "PWD": "/"})
    assert (answer["path"], answer["via"]) == (match.group(1), "cache")


# -- the real loader on symbol versions ---------------------------------------------------------


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
def test_symbol_gap_matches_the_real_loaders_undefined_symbol(tmp_path: Path) -> None:
    """LD_BIND_NOW=1 makes glibc bind every symbol at load: its error must be our gap."""
    new, old = nvjitlink([1, 4]), nvjitlink([1])
    (tmp_path / "wheel").mkdir()
    (tmp_path / "system").mkdir()
    (tmp_path / "wheel/libnvJitLink.so.12").write_bytes(new.read_bytes())
    (tmp_path / "system/libnvJitLink.so.12").write_bytes(old.read_bytes())
    lib = tmp_path / "wheel/libcusparse.so.12"
    lib.write_bytes(cusparse(new).read_bytes())
    app = compile_elf(
        tmp_path / "app",
        "int cusparseCreate(void); int main(void){return 0;}",
        shared=False,
        link=[lib],
        rpath=str(tmp_path / "wheel"),
    )
    env = {"LD_LIBRARY_PATH": str(tmp_path / "system"), "LD_BIND_NOW": "1"}
    real = subprocess.run([str(app)], env=env, capture_output=True, text=True, check=False)
    assert real.returncode != 0
    assert "undefined symbol: __nvJitLinkComplete_12_4, version libnvJitLink.so.12" in real.stderr
    model = LoaderModel(Host("/", {**env, "PWD": str(tmp_path)}), main=str(app))
    model.start_program(str(app))
    gaps = _symbol_gaps(model.host, model)
    assert [(g.symbol, g.version, g.provider) for g in gaps] == [
        (
            "__nvJitLinkComplete_12_4",
            "libnvJitLink.so.12",
            str(tmp_path / "system/libnvJitLink.so.12"),
        )
    ]
    ok = subprocess.run([str(app)], env={"LD_BIND_NOW": "1"}, capture_output=True, check=False)
    assert ok.returncode == 0  # with the wheel's own copy, the same program loads


# -- real wheels from PyPI (opt in: pytest -m integration) ------------------------------------


@pytest.fixture(scope="module")
def nvidia_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("nv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin/python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "nvidia-cuda-runtime-cu12",
            "nvidia-nvjitlink-cu12",
        ],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return venv


@pytest.mark.integration
def test_real_nvidia_wheels(nvidia_venv: Path, tmp_path: Path) -> None:
    site = next((nvidia_venv / "lib").glob("python3.*/site-packages"))
    for library in (
        site / "nvidia/cuda_runtime/lib/libcudart.so.12",
        site / "nvidia/nvjitlink/lib/libnvJitLink.so.12",
    ):
        defined, exports = oracle_versions(library)
        ours_defined, ours_exports = ours_versions(library)
        assert (ours_defined, set(ours_exports)) == (defined, exports)
    env = {
        "PATH": f"{nvidia_venv}/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": str(nvidia_venv),
        "HOME": str(tmp_path),
        "PWD": str(tmp_path),
    }
    snap = collect("/", env)
    pip_toolkit = next(t for t in snap.toolkits if t.source == "pip")
    assert pip_toolkit.version is not None
    assert pip_toolkit.version.startswith("12.")
    wheel_trees = {t.consumer for t in snap.libraries.trees}
    assert {"nvidia-cuda-runtime-cu12", "nvidia-nvjitlink-cu12"} <= wheel_trees
    cudart = next(lib for lib in snap.libraries.shipped if lib.name == "libcudart.so.12")
    assert cudart.owner == "pip nvidia-cuda-runtime-cu12"
    # The real loader opens the wheel's libcudart from a program with an RPATH to it.
    if HAVE_GCC:
        app = compile_elf(
            tmp_path / "app",
            "int cudaGetDeviceCount(int*); int main(void){return 0;}",
            shared=False,
            link=[site / "nvidia/cuda_runtime/lib/libcudart.so.12"],
            rpath=str(site / "nvidia/cuda_runtime/lib"),
        )
        ours = which("libcudart.so.12", "/", {"PWD": str(tmp_path)}, from_file=str(app))
        real = subprocess.run(["ldd", str(app)], capture_output=True, text=True, check=True).stdout
        assert f"libcudart.so.12 => {ours['path']}" in real
