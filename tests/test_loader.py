"""The loader model against the real glibc loader, case by case: same file, same rule.

Every case builds its libraries and a program with gcc in tmp_path, runs the program with
``LD_DEBUG=libs`` and compares each library the real loader searched for with the model's
answer (``cudaenv which --from PROGRAM --all``).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest

from cudaenv.api import which
from elfbuild import HAVE_GCC, compile_elf, library, or_flags_1
from realloader import existing_dir_attempts, real_searches

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="needs gcc to build ELF files")
MAIN = "int f(void); int main(void){ return f() - 1; }"


def model(program: Path, env: dict[str, str], cwd: Path) -> dict[str, dict[str, Any]]:
    answer = which(
        "-",
        "/",
        {**env, "PWD": str(cwd), "PATH": "/nonexistent"},
        from_file=str(program),
        every=True,
    )
    objects = {o["name"]: o for o in answer["objects"]}
    for entry in objects.values():  # relative paths are opened from the working directory
        if entry["path"] and not entry["path"].startswith("/"):
            entry["path"] = os.path.normpath(cwd / entry["path"])
    return objects


Expectation = dict[str, tuple[Optional[str], Optional[str]]]


def agree(program: Path, env: dict[str, str], cwd: Path, *, expect: Expectation) -> None:
    """The real loader, the model and the test's expectation say the same.

    The real loader judges the file opened and the order of every attempt; the rule (rpath,
    runpath ...) is the test's own expectation, which the model must match.
    """
    real = real_searches(program, env, cwd)
    ours = model(program, env, cwd)
    for name, (path, via) in expect.items():
        assert real[name].opened == path, f"the real loader disagrees with the test on {name}"
        assert (ours[name]["path"], ours[name]["via"]) == (path, via), f"model on {name}"
    for name, search in real.items():
        if name not in ours:
            continue  # reused by the real loader under a name the model matched earlier
        assert ours[name]["path"] == search.opened, name
        trace = which(
            name, "/", {**env, "PWD": str(cwd), "PATH": "/nonexistent"}, from_file=str(program)
        )
        ours_tried = [os.path.normpath(cwd / t["path"]) for t in trace["tried"]]
        assert existing_dir_attempts(ours_tried) == existing_dir_attempts(search.tried), name


def test_rpath_beats_ld_library_path(tmp_path: Path) -> None:
    a = library(tmp_path / "a", "libf.so.1")
    library(tmp_path / "b", "libf.so.1")
    app = compile_elf(tmp_path / "app", MAIN, shared=False, link=[a], rpath=str(tmp_path / "a"))
    agree(
        app,
        {"LD_LIBRARY_PATH": str(tmp_path / "b")},
        tmp_path,
        expect={"libf.so.1": (str(tmp_path / "a/libf.so.1"), "rpath")},
    )


def test_ld_library_path_beats_runpath(tmp_path: Path) -> None:
    a = library(tmp_path / "a", "libf.so.1")
    library(tmp_path / "b", "libf.so.1")
    app = compile_elf(tmp_path / "app", MAIN, shared=False, link=[a], runpath=str(tmp_path / "a"))
    agree(
        app,
        {"LD_LIBRARY_PATH": str(tmp_path / "b")},
        tmp_path,
        expect={"libf.so.1": (str(tmp_path / "b/libf.so.1"), "ld_library_path")},
    )
    agree(app, {}, tmp_path, expect={"libf.so.1": (str(tmp_path / "a/libf.so.1"), "runpath")})


@pytest.mark.parametrize("tag", ["runpath", "rpath"])
def test_which_tags_reach_grandchildren(tmp_path: Path, tag: str) -> None:
    """The program's DT_RPATH serves every dependency; its DT_RUNPATH only its own NEEDED."""
    deep = library(tmp_path / "lib", "libdeep.so.1", functions=("g",))
    mid = compile_elf(
        tmp_path / "mid/libmid.so.1",
        "int g(void); int f(void){return g();}",
        soname="libmid.so.1",
        link=[deep],
    )
    app = compile_elf(
        tmp_path / "app", MAIN, shared=False, link=[mid], **{tag: f"{tmp_path}/mid:{tmp_path}/lib"}
    )
    grandchild = (str(tmp_path / "lib/libdeep.so.1"), "rpath") if tag == "rpath" else (None, None)
    agree(
        app,
        {},
        tmp_path,
        expect={
            "libmid.so.1": (str(tmp_path / "mid/libmid.so.1"), tag),
            "libdeep.so.1": grandchild,
        },
    )


def test_a_runpath_in_the_requester_disables_the_rpath_chain(tmp_path: Path) -> None:
    """The C01/C03 shape: a wheel library with RUNPATH=$ORIGIN loses to LD_LIBRARY_PATH."""
    wheel = tmp_path / "site-packages/nvidia/cublas/lib"
    lt = library(wheel, "libcublasLt.so.12", functions=("g",))
    cublas = compile_elf(
        wheel / "libcublas.so.12",
        "int g(void); int f(void){return g();}",
        soname="libcublas.so.12",
        link=[lt],
        runpath="$ORIGIN",
    )
    library(tmp_path / "cuda-12.1/lib64", "libcublasLt.so.12", functions=("g",))
    app = compile_elf(
        tmp_path / "torch/lib/app",
        MAIN,
        shared=False,
        link=[cublas],
        rpath="$ORIGIN/../../site-packages/nvidia/cublas/lib",
    )
    env = {"LD_LIBRARY_PATH": str(tmp_path / "cuda-12.1/lib64")}
    agree(
        app,
        env,
        tmp_path,
        expect={
            "libcublas.so.12": (str(wheel / "libcublas.so.12"), "rpath"),
            "libcublasLt.so.12": (
                str(tmp_path / "cuda-12.1/lib64/libcublasLt.so.12"),
                "ld_library_path",
            ),
        },
    )
    agree(
        app,
        {},
        tmp_path,
        expect={
            "libcublasLt.so.12": (str(wheel / "libcublasLt.so.12"), "runpath"),
        },
    )


def test_origin_in_a_library_runpath_and_an_already_loaded_soname(tmp_path: Path) -> None:
    shared = library(tmp_path / "pkg/lib", "libshared.so.3", functions=("g",))
    first = compile_elf(
        tmp_path / "pkg/lib/libfirst.so",
        "int g(void); int f(void){return g();}",
        soname="libfirst.so",
        link=[shared],
        runpath="$ORIGIN",
    )
    library(tmp_path / "elsewhere", "libshared.so.3", functions=("g",))
    second = compile_elf(
        tmp_path / "other/libsecond.so",
        "int g(void); int h(void){return g();}",
        soname="libsecond.so",
        link=[tmp_path / "elsewhere/libshared.so.3"],
        runpath=str(tmp_path / "elsewhere"),
    )
    app = compile_elf(
        tmp_path / "app",
        "int f(void); int h(void); int main(void){return f()-h();}",
        shared=False,
        link=[first, second],
        runpath=f"{tmp_path / 'pkg/lib'}:{tmp_path / 'other'}",
    )
    agree(
        app,
        {},
        tmp_path,
        expect={
            # libfirst's deps load before libsecond's: libsecond gets the copy already loaded
            "libshared.so.3": (str(tmp_path / "pkg/lib/libshared.so.3"), "runpath"),
        },
    )
    ours = which("libshared.so.3", "/", {"PWD": str(tmp_path)}, from_file=str(app))
    assert ours["path"] == str(tmp_path / "pkg/lib/libshared.so.3")


def test_ld_library_path_with_missing_and_empty_entries(tmp_path: Path) -> None:
    lib = library(tmp_path / "work", "libf.so.1")
    app = compile_elf(tmp_path / "bin/app", MAIN, shared=False, link=[lib])
    env = {"LD_LIBRARY_PATH": f"{tmp_path}/missing::{tmp_path}/also-missing"}
    agree(
        app,
        env,
        tmp_path / "work",
        expect={"libf.so.1": (str(tmp_path / "work/libf.so.1"), "ld_library_path")},
    )


def test_relative_entries_are_opened_from_the_working_directory(tmp_path: Path) -> None:
    """glibc keeps relative LD_LIBRARY_PATH and DT_RPATH entries as written: the file is
    opened relative to the working directory, and ``which`` says so."""
    lib = library(tmp_path / "work/rel", "libf.so.1")
    app = compile_elf(tmp_path / "bin/app", MAIN, shared=False, link=[lib])
    env = {"LD_LIBRARY_PATH": "rel"}
    expect: Expectation = {"libf.so.1": (str(tmp_path / "work/rel/libf.so.1"), "ld_library_path")}
    agree(app, env, tmp_path / "work", expect=expect)
    answer = which("libf.so.1", "/", {**env, "PWD": str(tmp_path / "work")}, from_file=str(app))
    assert answer["path"] == "rel/libf.so.1"
    other = compile_elf(tmp_path / "bin/other", MAIN, shared=False, link=[lib], rpath="rel")
    agree(other, {}, tmp_path / "work", expect={"libf.so.1": (expect["libf.so.1"][0], "rpath")})
    answer = which("libf.so.1", "/", {"PWD": str(tmp_path / "work")}, from_file=str(other))
    assert (answer["path"], answer["via"]) == ("rel/libf.so.1", "rpath")


def test_origin_in_ld_library_path_is_the_programs_directory(tmp_path: Path) -> None:
    lib = library(tmp_path / "pkg/lib", "libf.so.1")
    app = compile_elf(tmp_path / "pkg/bin/app", MAIN, shared=False, link=[lib])
    agree(
        app,
        {"LD_LIBRARY_PATH": "$ORIGIN/../lib"},
        tmp_path,
        expect={"libf.so.1": (str(tmp_path / "pkg/lib/libf.so.1"), "ld_library_path")},
    )


def test_duplicate_sonames_first_directory_wins(tmp_path: Path) -> None:
    for sub in ("x", "y", "z"):
        lib = library(tmp_path / sub, "libdup.so.2")
    app = compile_elf(tmp_path / "app", MAIN, shared=False, link=[lib])
    env = {"LD_LIBRARY_PATH": f"{tmp_path}/nothing:{tmp_path}/y:{tmp_path}/x:{tmp_path}/z"}
    agree(
        app,
        env,
        tmp_path,
        expect={"libdup.so.2": (str(tmp_path / "y/libdup.so.2"), "ld_library_path")},
    )


def test_a_wrong_class_file_is_passed_over(tmp_path: Path) -> None:
    good = library(tmp_path / "good", "libf.so.1")
    bad = tmp_path / "bad/libf.so.1"
    bad.parent.mkdir()
    data = bytearray(good.read_bytes())
    data[4] = 1  # ELFCLASS32
    bad.write_bytes(bytes(data))
    app = compile_elf(tmp_path / "app", MAIN, shared=False, link=[good])
    env = {"LD_LIBRARY_PATH": f"{tmp_path}/bad:{tmp_path}/good"}
    agree(
        app,
        env,
        tmp_path,
        expect={"libf.so.1": (str(tmp_path / "good/libf.so.1"), "ld_library_path")},
    )
    ours = which("libf.so.1", "/", {**env, "PWD": str(tmp_path)}, from_file=str(app))
    assert [t["result"] for t in ours["tried"]] == ["wrong-class", "found"]


def test_a_non_elf_file_stops_the_loader(tmp_path: Path) -> None:
    good = library(tmp_path / "good", "libf.so.1")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/libf.so.1").write_text("not a library\n")
    app = compile_elf(tmp_path / "app", MAIN, shared=False, link=[good])
    env = {"LD_LIBRARY_PATH": f"{tmp_path}/bad:{tmp_path}/good"}
    real = real_searches(app, env, tmp_path)
    ours = which("libf.so.1", "/", {**env, "PWD": str(tmp_path)}, from_file=str(app))
    assert ours["path"] is None
    assert ours["error"] == f"{tmp_path}/bad/libf.so.1: file too short"
    assert real["libf.so.1"].tried[-1] == f"{tmp_path}/bad/libf.so.1"  # where it stopped


def test_cache_and_default_directories(tmp_path: Path) -> None:
    """libz.so.1 and libc.so.6 come from this machine's /etc/ld.so.cache."""
    if not Path("/etc/ld.so.cache").exists():
        pytest.fail("this test needs the machine's /etc/ld.so.cache")
    app = compile_elf(
        tmp_path / "app",
        "int zlibVersion(void); int main(void){return 0;}",
        shared=False,
        extra=["-lz"],
    )
    real = real_searches(app, {}, tmp_path)
    ours = model(app, {}, tmp_path)
    for name in ("libz.so.1", "libc.so.6"):
        assert (ours[name]["path"], ours[name]["via"]) == (real[name].opened, "cache")


def test_nodeflib_skips_default_directories(tmp_path: Path) -> None:
    app = compile_elf(
        tmp_path / "app",
        "int zlibVersion(void); int main(void){return 0;}",
        shared=False,
        extra=["-lz"],
    )
    or_flags_1(app, 0x800)  # DF_1_NODEFLIB
    real = real_searches(app, {}, tmp_path)
    ours = model(app, {}, tmp_path)
    assert real["libz.so.1"].opened is None  # the real loader refuses the default-dir copy
    assert (ours["libz.so.1"]["path"], ours["libz.so.1"]["via"]) == (None, None)


def test_hwcaps_subdirectory_is_preferred_when_present(tmp_path: Path) -> None:
    plain = library(tmp_path / "lib", "libf.so.1")
    library(tmp_path / "lib/glibc-hwcaps/x86-64-v2", "libf.so.1")
    app = compile_elf(
        tmp_path / "app", MAIN, shared=False, link=[plain], rpath=str(tmp_path / "lib")
    )
    agree(
        app,
        {},
        tmp_path,
        expect={
            "libf.so.1": (str(tmp_path / "lib/glibc-hwcaps/x86-64-v2/libf.so.1"), "rpath"),
        },
    )


def test_dlopen_by_a_library_uses_its_rpath_and_the_programs(tmp_path: Path) -> None:
    """`which NAME --from LIB`: LIB dlopen()ed by the program, then NAME requested by LIB."""
    target = library(tmp_path / "plugins", "libplug.so")
    host_lib = compile_elf(
        tmp_path / "host/libhost.so",
        "int f(void){return 1;}",
        soname="libhost.so",
        rpath=str(tmp_path / "plugins"),
    )
    ours = which(
        "libplug.so", "/", {"PWD": str(tmp_path), "PATH": "/nonexistent"}, from_file=str(host_lib)
    )
    assert (ours["path"], ours["via"]) == (str(target), "rpath")


def test_the_dynamic_linker_is_reused_under_its_pt_interp_name(tmp_path: Path) -> None:
    """libc needs ld-linux-x86-64.so.2: the map glibc made first, named by PT_INTERP."""
    app = compile_elf(tmp_path / "app", "int main(void){return 0;}", shared=False)
    ldd = subprocess.run(["ldd", str(app)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^\s*(/\S*ld-linux\S*) \(0x", ldd, flags=re.MULTILINE)
    assert match is not None, ldd
    ours = model(app, {}, tmp_path)
    assert (ours["ld-linux-x86-64.so.2"]["path"], ours["ld-linux-x86-64.so.2"]["via"]) == (
        match.group(1),
        "loaded",
    )
