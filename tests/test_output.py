"""`-o FILE` never harms what is there: a device, FIFO or link is never renamed over."""

from __future__ import annotations

import io
import json
import os
import stat
import threading
from contextlib import redirect_stderr
from pathlib import Path

import pytest

from cudaenv._cli import main
from worlds import World, ml_world


def snapshot_to(world: World, tmp_path: Path, output: str, *extra: str) -> tuple[int, str, str]:
    env = tmp_path / "env.json"
    env.write_text(json.dumps(world.env))
    out, err = io.StringIO(), io.StringIO()
    argv = ["snapshot", "--root", str(world.root), "--env-file", str(env), "-o", output, *extra]
    with redirect_stderr(err):
        status = main(argv, out)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def small(world: World) -> World:
    return ml_world(world)


def test_dash_is_standard_output(small: World, tmp_path: Path) -> None:
    status, out, _ = snapshot_to(small, tmp_path, "-")
    assert status == 0
    assert json.loads(out)["schema"] == "cudaenv.snapshot/1"


def test_a_new_file_gets_the_umask_mode_and_a_file_is_replaced(
    small: World, tmp_path: Path
) -> None:
    target = tmp_path / "snap.json"
    old = os.umask(0o022)
    try:
        assert snapshot_to(small, tmp_path, str(target))[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    target.write_text("old")
    assert snapshot_to(small, tmp_path, str(target))[0] == 0
    assert json.loads(target.read_text())["schema"] == "cudaenv.snapshot/1"
    assert [p.name for p in tmp_path.iterdir() if "cudaenv-tmp" in p.name] == []


def test_a_symbolic_link_is_refused_unless_forced(small: World, tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("keep")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    status, _, err = snapshot_to(small, tmp_path, str(link))
    assert status == 2
    assert "is a symbolic link" in err
    assert link.is_symlink()
    assert real.read_text() == "keep"
    assert snapshot_to(small, tmp_path, str(link), "--force")[0] == 0
    assert link.is_symlink()  # the link stays; what it points to is written
    assert json.loads(real.read_text())["schema"] == "cudaenv.snapshot/1"


def test_a_directory_and_a_missing_parent_are_errors(small: World, tmp_path: Path) -> None:
    status, _, err = snapshot_to(small, tmp_path, str(tmp_path))
    assert (status, err.count("\n")) == (2, 1)
    assert "is a directory" in err
    status, _, err = snapshot_to(small, tmp_path, str(tmp_path / "no/such/dir/s.json"))
    assert status == 2
    assert "no such directory" in err
    assert not (tmp_path / "no").exists()  # no trees made


def test_a_device_is_written_through_never_replaced(small: World, tmp_path: Path) -> None:
    status, _, _ = snapshot_to(small, tmp_path, "/dev/null")
    assert status == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    status, _, err = snapshot_to(small, tmp_path, "/dev/full")  # every write: ENOSPC
    assert status == 2
    assert err == "cudaenv: error: /dev/full: no space left on the device\n"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_fifo_is_written_through_or_refused_never_replaced(small: World, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    status, _, err = snapshot_to(small, tmp_path, str(fifo))  # nobody reads: no hang
    assert status == 2
    assert "a FIFO with no reader" in err
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    thread = threading.Thread(target=reader)
    thread.start()
    for _ in range(200):  # the reader opens the FIFO first
        status, _, _ = snapshot_to(small, tmp_path, str(fifo))
        if status == 0:
            break
    thread.join(10)
    assert status == 0
    assert json.loads(received[0])["schema"] == "cudaenv.snapshot/1"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
