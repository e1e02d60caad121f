"""ld.so.cache and ld.so.conf, judged by the real ldconfig."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cudaenv._formats.ldso import LdCacheError, parse_ld_so_cache, parse_ld_so_conf
from elfbuild import HAVE_GCC, library

LDCONFIG = shutil.which("ldconfig") or "/sbin/ldconfig"
HAVE_LDCONFIG = Path(LDCONFIG).exists()
needs_tools = pytest.mark.skipif(not (HAVE_GCC and HAVE_LDCONFIG), reason="needs gcc and ldconfig")
LINE = re.compile(r'^\t(\S+) \(([^)]*?)(?:, hwcap: "([^"]*)")?\) => (.*)$')


def ldconfig_p(*args: str) -> list[tuple[str, str, str | None]]:
    out = subprocess.run(
        [LDCONFIG, *args, "-p"], capture_output=True, check=True, encoding="utf-8", errors="replace"
    )
    rows = []
    for line in out.stdout.splitlines():
        match = LINE.match(line)
        if match:
            rows.append((match.group(1), match.group(4), match.group(3)))
    return rows


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Libraries with duplicate SONAMEs in two dirs and a glibc-hwcaps subdir."""
    root = tmp_path_factory.mktemp("ldroot")
    for directory in (
        "opt/a",
        "opt/b",
        "opt/b/glibc-hwcaps/x86-64-v3",
        "usr/local/cuda-12.4/lib64",
    ):
        library(root / directory, "libfoo.so.1", filename="libfoo.so.1.2.3")
        library(root / directory, "libcudart.so.12")
    (root / "etc/ld.so.conf.d").mkdir(parents=True)
    (root / "etc/ld.so.conf").write_text("# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/a\n")
    (root / "etc/ld.so.conf.d/b.conf").write_text("/opt/b/\n")
    (root / "etc/ld.so.conf.d/cuda.conf").write_text("/usr/local/cuda-12.4/lib64 # toolkit\n")
    return root


@needs_tools
@pytest.mark.parametrize("fmt", ["new", "old", "compat"])
def test_cache_written_by_ldconfig_r(root: Path, fmt: str) -> None:
    cache = f"/etc/ld.so.cache.{fmt}"
    subprocess.run(
        [LDCONFIG, "-r", str(root), "-c", fmt, "-C", cache], check=True, capture_output=True
    )
    ours = [(e.name, e.path) for e in parse_ld_so_cache((root / cache.lstrip("/")).read_bytes())]
    theirs = [(name, path) for name, path, _ in ldconfig_p("-r", str(root), "-C", cache)]
    assert ours == theirs
    assert len(ours) == 8


@needs_tools
def test_hwcaps_subdirectories_are_named(root: Path) -> None:
    subprocess.run(
        [LDCONFIG, "-r", str(root), "-C", "/etc/hw.cache"], check=True, capture_output=True
    )
    entries = parse_ld_so_cache((root / "etc/hw.cache").read_bytes())
    theirs = ldconfig_p("-r", str(root), "-C", "/etc/hw.cache")
    assert [e.hwcaps_subdir for e in entries] == [hw for _, _, hw in theirs]
    assert "x86-64-v3" in {e.hwcaps_subdir for e in entries}


@pytest.mark.skipif(not Path("/etc/ld.so.cache").exists() or not HAVE_LDCONFIG, reason="no cache")
def test_this_machines_cache() -> None:
    ours = [(e.name, e.path) for e in parse_ld_so_cache(Path("/etc/ld.so.cache").read_bytes())]
    assert ours == [(name, path) for name, path, _ in ldconfig_p()]


@pytest.mark.parametrize(
    "data", [b"", b"garbage", b"glibc-ld.so.cache1.1" + b"\0" * 10, b"ld.so-1.7.0\0\xff\xff\0\0"]
)
def test_corrupt_caches(data: bytes) -> None:
    with pytest.raises(LdCacheError):
        parse_ld_so_cache(data)


def test_truncated_real_cache(root: Path) -> None:
    if not (root / "etc/ld.so.cache.new").exists():
        pytest.skip("needs the cache from the ldconfig test")
    data = (root / "etc/ld.so.cache.new").read_bytes()
    with pytest.raises(LdCacheError):
        parse_ld_so_cache(data[:100])


def test_ld_so_conf_lines() -> None:
    text = (
        "include /etc/ld.so.conf.d/*.conf  extra/*.conf\n# x\n"
        "/usr/local/lib/ \n/opt/x=libc6\nhwcap 0 nosegneg\n"
    )
    assert [(e.kind, e.value) for e in parse_ld_so_conf(text)] == [
        ("include", "/etc/ld.so.conf.d/*.conf"),
        ("include", "extra/*.conf"),
        ("dir", "/usr/local/lib"),
        ("dir", "/opt/x"),
    ]
