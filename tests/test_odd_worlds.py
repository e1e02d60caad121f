"""Odd files where the probes expect something else: a report, never a traceback."""

from __future__ import annotations

import os

from worlds import BASE, ML, World, ml_world


def test_odd_files_everywhere(world: World) -> None:
    ml_world(world)
    site = f"{ML}/lib/python3.11/site-packages"
    world.file(f"{site}/weird-1.0.dist-info", "a file where a directory belongs")
    world.real(f"{site}/bad-2.0.dist-info").mkdir(parents=True)
    world.real(f"{site}/bad-2.0.dist-info/METADATA").write_bytes(b"Name: \xff\xfe\nVersion: 2\n")
    world.real(f"{site}/bad-2.0.dist-info/INSTALLER").write_bytes(b"\x00\x01")
    world.file(f"{site}/zz.pth", "import os; print('never run')\n/nonexistent\n../../../../..\n")
    world.mkdir(f"{BASE}/envs/notadir/conda-meta/x.json")  # a directory named like a record
    world.file(f"{ML}/conda-meta/garbage", "\x00")
    world.file("/home/u/.conda/environments.txt", "\x00\x01\n/relative/../../../x\nnot-abs\n")
    world.file("/home/u/.condarc", "envs_dirs: [unterminated\n  - : :\n")
    world.mkdir("/home/u/.local/share/jupyter/kernels/k/kernel.json")  # a directory
    world.mkdir("/home/u/.python-version")
    world.file("/home/u/.bashrc", "alias python='unterminated\nalias pip=\n")
    world.file("/home/u/.config/pip/pip.conf", "no section\n[install\nuser\n= x\n")
    world.link("/home/u/escape", "../../../../../../../../etc")
    world.real(f"{ML}/bin/pip3").unlink()
    world.link(f"{ML}/bin/pip3", "/home/u/escape/nothing")
    world.real(f"{ML}/bin/pip").unlink()
    os.mkfifo(world.real(f"{ML}/bin/pip"))  # a FIFO where a script belongs: never opened
    world.env["PATH"] = f"{ML}/bin:/usr/bin/python3.11:relative/bin::/bin"
    world.env["PYTHONPATH"] = "::relative:/nonexistent:" + "/x" * 2000
    world.env["PIP_USER"] = "maybe"
    report = world.doctor()
    assert report["schema"] == "cudaenv.report/1"
    assert "check-failed" not in [f["code"] for f in report["findings"]]


def test_world_with_nothing_at_all(world: World) -> None:
    world.env = {}
    report = world.doctor()
    assert [f["code"] for f in report["findings"]] == ["python-not-found"]
