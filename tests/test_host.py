"""The host view: paths inside a root, symlinks re-rooted, flattened links, no escape."""

from __future__ import annotations

import os
from pathlib import Path

from cudaenv._host import Host


def make(tmp_path: Path) -> Host:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/python3.11").write_text("binary\n")
    os.symlink("python3.11", root / "usr/bin/python3")
    os.symlink("/usr/bin/python3", root / "usr/bin/python")  # absolute: re-rooted
    os.symlink("../../../../../../etc", root / "usr/escape")  # `..` stops at root
    (root / "etc").mkdir()
    (root / "etc/hostname").write_text("gpu01\n")
    os.symlink("loop", root / "usr/loop")
    (root / "opt/env/bin").mkdir(parents=True)
    (root / "opt/env/bin/python3.12").write_text("binary\n")
    (root / "opt/env/bin/python").write_text("python3.12")  # a flattened symlink
    (root / "opt/env/bin/notes").write_text("nothing-here")  # names no entry: a plain file
    return Host(str(root), {"HOME": "/home/u", "PATH": "/opt/env/bin:/usr/bin"})


def test_absolute_symlinks_are_rerooted(tmp_path: Path) -> None:
    host = make(tmp_path)
    assert host.resolve("/usr/bin/python") == "/usr/bin/python3.11"
    assert host.is_file("/usr/bin/python")


def test_dotdot_never_climbs_above_root(tmp_path: Path) -> None:
    host = make(tmp_path)
    assert host.resolve("/usr/escape/hostname") == "/etc/hostname"
    assert host.read_text("/../../etc/hostname") == "gpu01\n"


def test_symlink_loop_is_reported_not_followed_forever(tmp_path: Path) -> None:
    host = make(tmp_path)
    assert host.resolve("/usr/loop") is None
    assert not host.exists("/usr/loop")
    assert [p.path for p in host.problems] == ["/usr/loop"]


def test_flattened_symlink_files(tmp_path: Path) -> None:
    host = make(tmp_path)
    assert host.resolve("/opt/env/bin/python") == "/opt/env/bin/python3.12"
    assert host.resolve("/opt/env/bin/notes") == "/opt/env/bin/notes"


def test_which_follows_path_order(tmp_path: Path) -> None:
    host = make(tmp_path)
    assert host.which("python", host.env_path_list("PATH")) == [
        "/opt/env/bin/python",
        "/usr/bin/python",
    ]


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    host = make(tmp_path)
    os.mkfifo(tmp_path / "root/etc/fifo")
    assert host.read_bytes("/etc/fifo") is None
    assert host.read_head("/etc/fifo") is None


def test_live_root_uses_real_paths() -> None:
    host = Host("/", {})
    assert host.real("/etc") == "/etc"
    assert host.is_live_root


def test_content_reads_never_take_a_one_line_file_for_a_link(tmp_path: Path) -> None:
    host = make(tmp_path)
    (tmp_path / "root/etc/environments.txt").write_text("/opt/env\n")
    assert host.read_text("/etc/environments.txt") == "/opt/env\n"
    assert host.resolve("/etc/environments.txt") == "/opt/env"  # as a path it is a link


def test_flattened_links_naming_each_other_terminate(tmp_path: Path) -> None:
    host = make(tmp_path)
    (tmp_path / "root/etc/a").write_text("b")
    (tmp_path / "root/etc/b").write_text("a")
    assert host.resolve("/etc/a") is None  # a loop, reported as one
    assert host.read_text("/etc/a") == "b"


def test_flattened_link_target_is_checked_inside_the_root(tmp_path: Path) -> None:
    host = make(tmp_path)
    outside = tmp_path / "outside"
    (outside / "thing").mkdir(parents=True)
    os.symlink(str(outside), tmp_path / "root/real-link-out")  # points outside, absolute
    (tmp_path / "root/etc/flat").write_text("/real-link-out/thing")
    # Inside the world /real-link-out names <root>/<outside path>, which does not exist.
    assert host.resolve("/etc/flat") == "/etc/flat"
