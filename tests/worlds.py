"""A small builder of worlds (docs/worlds.md): a machine as files under ``root/`` plus env.

Each helper writes what the real thing leaves on disk: interpreter binaries with their
``python3``/``python`` links, ``lib/pythonX.Y`` with ``os.py``, conda-meta records named
``<name>-<version>-<build>.json``, dist-info directories, console scripts with ``#!`` lines.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Sequence
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any, Optional

from cudaenv._cli import main
from cudaenv.api import check
from cudaenv.snapshot import Snapshot

PIP_SCRIPT = """# -*- coding: utf-8 -*-
import re
import sys
from pip._internal.cli.main import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""

SEVERITY_ORDER = ("error", "warning", "info")

BASE = "/home/u/miniconda3"
ML = f"{BASE}/envs/ml"
ML_SITE = f"{ML}/lib/python3.11/site-packages"


class World:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.env: dict[str, str] = {
            "HOME": "/home/u",
            "USER": "u",
            "PWD": "/home/u",
            "SHELL": "/bin/bash",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        }
        self.mkdir("/home/u")

    # -- files --------------------------------------------------------------------------------

    def real(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def mkdir(self, path: str) -> str:
        self.real(path).mkdir(parents=True, exist_ok=True)
        return path

    def file(self, path: str, text: str = "", mode: int = 0o644) -> str:
        real = self.real(path)
        real.parent.mkdir(parents=True, exist_ok=True)
        real.write_text(text)
        real.chmod(mode)
        return path

    def link(self, path: str, target: str) -> str:
        real = self.real(path)
        real.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, real)
        return path

    def script(self, path: str, interpreter: str, style: str = "plain") -> str:
        """A console script; ``style`` is plain (``#!path``), env, or trampoline (pip's sh)."""
        if style == "plain":
            head = f"#!{interpreter}\n"
        elif style == "env":
            head = f"#!/usr/bin/env {interpreter}\n"
        else:
            head = f"#!/bin/sh\n'''exec' \"{interpreter}\" \"$0\" \"$@\"\n' '''\n"
        return self.file(path, head + PIP_SCRIPT, 0o755)

    # -- interpreters and environments -----------------------------------------------------------

    def python_install(self, prefix: str, version: str) -> str:
        """``prefix/bin/pythonX.Y`` (+ python3, python) and its standard library."""
        exe = f"{prefix}/bin/python{version}"
        self.file(exe, "stand-in for the interpreter binary\n", 0o755)
        self.link(f"{prefix}/bin/python3", f"python{version}")
        self.link(f"{prefix}/bin/python", f"python{version}")
        self.file(f"{prefix}/lib/python{version}/os.py", "# stdlib stand-in\n")
        self.mkdir(f"{prefix}/lib/python{version}/site-packages")
        return exe

    def system_python(self, version: str = "3.11", pip: bool = True) -> str:
        """Debian's layout: /usr/bin/python3.X, python3 link, dist-packages, /usr/bin/pip."""
        exe = f"/usr/bin/python{version}"
        self.file(exe, "stand-in for the interpreter binary\n", 0o755)
        self.link("/usr/bin/python3", f"python{version}")
        self.file(f"/usr/lib/python{version}/os.py", "# stdlib stand-in\n")
        self.mkdir("/usr/lib/python3/dist-packages")
        if pip:
            self.script("/usr/bin/pip", "/usr/bin/python3")
            self.script("/usr/bin/pip3", "/usr/bin/python3")
            self.dist("/usr/lib/python3/dist-packages", "pip", "23.0.1", installer="debian")
        return exe

    def conda_record(self, prefix: str, name: str, version: str, build: str = "h0_0") -> str:
        record = {
            "name": name,
            "version": version,
            "build": build,
            "build_number": 0,
            "channel": "https://conda.anaconda.org/conda-forge/linux-64",
            "files": [],
        }
        return self.file(f"{prefix}/conda-meta/{name}-{version}-{build}.json", json.dumps(record))

    def conda_base(self, prefix: str = "/home/u/miniconda3", python: str = "3.12.2") -> str:
        short = ".".join(python.split(".")[:2])
        self.python_install(prefix, short)
        self.conda_record(prefix, "python", python, "h0_cpython")
        self.conda_record(prefix, "conda", "24.9.2", "py_0")
        self.conda_record(prefix, "pip", "24.0", "pyhd8ed1ab_0")
        site = f"{prefix}/lib/python{short}/site-packages"
        self.dist(site, "pip", "24.0", installer="conda")
        self.script(f"{prefix}/bin/pip", f"{prefix}/bin/python{short}")
        self.script(f"{prefix}/bin/pip3", f"{prefix}/bin/python{short}")
        self.script(f"{prefix}/bin/conda", f"{prefix}/bin/python{short}")
        self.script(f"{prefix}/condabin/conda", f"{prefix}/bin/python{short}")
        self.mkdir(f"{prefix}/envs")
        return prefix

    def conda_env(
        self,
        prefix: str,
        python: Optional[str] = "3.11.9",
        pip: bool = True,
        packages: Iterable[tuple[str, str]] = (),
    ) -> str:
        self.mkdir(f"{prefix}/conda-meta")
        self.file(f"{prefix}/conda-meta/history", "==> 2026-11-02 10:11:12 <==\n")
        if python is not None:
            short = ".".join(python.split(".")[:2])
            self.python_install(prefix, short)
            self.conda_record(prefix, "python", python, "h0_cpython")
            if pip:
                self.conda_record(prefix, "pip", "24.0", "pyhd8ed1ab_0")
                self.dist(self.site(prefix, short), "pip", "24.0", installer="conda")
                self.script(f"{prefix}/bin/pip", f"{prefix}/bin/python{short}")
                self.script(f"{prefix}/bin/pip3", f"{prefix}/bin/python{short}")
        for name, version in packages:
            self.conda_record(prefix, name, version)
        return prefix

    def venv(
        self,
        prefix: str,
        base_bin: str = "/usr/bin",
        version: str = "3.11",
        system_site: bool = False,
        pip: bool = True,
        base_exe: Optional[str] = None,
    ) -> str:
        cfg = (
            f"home = {base_bin}\n"
            f"include-system-site-packages = {'true' if system_site else 'false'}\n"
            f"version = {version}.4\n"
        )
        self.file(f"{prefix}/pyvenv.cfg", cfg)
        self.link(f"{prefix}/bin/python", base_exe or f"{base_bin}/python{version}")
        self.link(f"{prefix}/bin/python3", "python")
        self.link(f"{prefix}/bin/python{version}", "python")
        self.mkdir(self.site(prefix, version))
        if pip:
            self.script(f"{prefix}/bin/pip", f"{prefix}/bin/python")
            self.script(f"{prefix}/bin/pip3", f"{prefix}/bin/python")
            self.dist(self.site(prefix, version), "pip", "24.0")
        return prefix

    @staticmethod
    def site(prefix: str, version: str) -> str:
        return f"{prefix}/lib/python{version}/site-packages"

    def dist(
        self,
        site: str,
        name: str,
        version: str,
        installer: Optional[str] = "pip",
        requires: Sequence[str] = (),
    ) -> str:
        info = f"{site}/{name.replace('-', '_')}-{version}.dist-info"
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
        self.file(f"{info}/METADATA", metadata + "\nLong description.\n")
        if installer is not None:
            self.file(f"{info}/INSTALLER", installer + "\n")
        self.file(f"{info}/RECORD", "")
        return info

    # -- CUDA toolkits -------------------------------------------------------------------------

    def toolkit(
        self,
        root: str,
        version: str = "12.4.1",
        *,
        nvcc: bool = True,
        headers: bool = True,
        layout: str = "classic",
        version_file: Optional[str] = "json",
        libs: Sequence[str] = ("libcudart.so.12",),
    ) -> str:
        """A toolkit as NVIDIA's installers (``classic``) or conda's CUDA 12 packages
        (``targets``: headers and libraries under targets/x86_64-linux, links in lib/) lay
        it out.  Library files are placeholders: tests that load them build real ones."""
        targets = f"{root}/targets/x86_64-linux"
        major, minor = version.split(".")[:2]
        cuda_h = f"#define CUDA_VERSION {int(major) * 1000 + int(minor) * 10}\n"
        include = f"{root}/include" if layout == "classic" else f"{targets}/include"
        if headers:
            for header in ("cuda_runtime.h", "cuda_runtime_api.h"):
                self.file(f"{include}/{header}", "/* header */\n")
            self.file(f"{include}/cuda.h", cuda_h)
        if nvcc:
            if layout == "classic":
                self.file(f"{root}/bin/nvcc", "stand-in for nvcc\n", 0o755)
                self.file(f"{root}/bin/ptxas", "stand-in for ptxas\n", 0o755)
            else:
                self.file(f"{targets}/bin/nvcc", "stand-in for nvcc\n", 0o755)
                self.link(f"{root}/bin/nvcc", "../targets/x86_64-linux/bin/nvcc")
        for lib in libs:
            self.file(f"{targets}/lib/{lib}", "stand-in\n")
            if layout == "targets":
                self.link(f"{root}/lib/{lib}", f"../targets/x86_64-linux/lib/{lib}")
        if layout == "classic" and not self.real(f"{root}/lib64").exists():
            self.mkdir(f"{targets}/lib")
            self.link(f"{root}/lib64", "targets/x86_64-linux/lib")
        if version_file == "json":
            self.file(f"{root}/version.json", json.dumps({"cuda": {"version": version}}))
        elif version_file == "txt":
            self.file(f"{root}/version.txt", f"CUDA Version {version}\n")
        return root

    # -- the shell ----------------------------------------------------------------------------

    def path(self, *dirs: str) -> None:
        self.env["PATH"] = ":".join([*dirs, "/usr/local/bin", "/usr/bin", "/bin"])

    def activate_conda(self, prefix: str, base: str = "/home/u/miniconda3") -> None:
        self.env.update(
            CONDA_PREFIX=prefix,
            CONDA_DEFAULT_ENV=os.path.basename(prefix) if prefix != base else "base",
            CONDA_SHLVL="2" if prefix != base else "1",
            CONDA_EXE=f"{base}/bin/conda",
            CONDA_PYTHON_EXE=f"{base}/bin/python",
        )
        if prefix != base:
            self.env["CONDA_PREFIX_1"] = base
        self.path(f"{prefix}/bin", f"{base}/condabin")

    def activate_venv(self, prefix: str) -> None:
        self.env["VIRTUAL_ENV"] = prefix
        self.path(f"{prefix}/bin")

    # -- running cudaenv ----------------------------------------------------------------------

    def write_env(self) -> Path:
        env_file = self.base / "env.json"
        env_file.write_text(json.dumps(self.env))
        return env_file

    def doctor(self, *args: str) -> dict[str, Any]:
        """The JSON report of ``cudaenv doctor`` on this world, run in-process."""
        out = io.StringIO()
        err = io.StringIO()
        argv = [
            "doctor",
            "--root",
            str(self.root),
            "--env-file",
            str(self.write_env()),
            "--format",
            "json",
            *args,
        ]
        with redirect_stderr(err):
            status = main(argv, stdout=out)
        assert status == 0, (status, err.getvalue())
        result: dict[str, Any] = json.loads(out.getvalue())
        assert_snapshot_diagnoses_the_same(result)
        return result

    def codes(self, *args: str) -> list[str]:
        return [f["code"] for f in self.doctor(*args)["findings"]]


def assert_snapshot_diagnoses_the_same(report: dict[str, Any]) -> None:
    """`cudaenv check` of this report's facts gives exactly its findings (every world test)."""
    again = check(Snapshot.from_dict(report["facts"])).to_dict()["findings"]
    assert again == report["findings"]


def finding(report: dict[str, Any], code: str) -> dict[str, Any]:
    for item in report["findings"]:
        if item["code"] == code:
            result: dict[str, Any] = item
            return result
    raise AssertionError(f"{code} not among {[f['code'] for f in report['findings']]}")


def assert_diagnosis(
    report: dict[str, Any],
    must: Sequence[str] = (),
    must_not: Sequence[str] = (),
    primary: Optional[str] = None,
    max_severity: Optional[str] = None,
) -> None:
    """The pass rule of expect.json (docs/worlds.md), on a report."""
    codes = [f["code"] for f in report["findings"]]
    for code in must:
        assert code in codes, f"{code} missing from {codes}"
    for code in must_not:
        assert code not in codes, f"{code} raised: {codes}"
    if primary is not None:
        errors = [f for f in report["findings"] if f["severity"] == "error"]
        first = errors[0] if errors else (report["findings"] or [None])[0]
        assert first is not None, f"primary {primary} expected, no findings"
        assert first["code"] == primary, f"primary is not {primary}: {codes}"
    if max_severity is not None:
        allowed = SEVERITY_ORDER.index(max_severity)
        too_severe = [
            (f["code"], f["severity"])
            for f in report["findings"]
            if SEVERITY_ORDER.index(f["severity"]) < allowed
        ]
        assert not too_severe, f"above {max_severity}: {too_severe}"


def ml_world(world: World, *, env_python: Optional[str] = "3.11.9") -> World:
    """The common case: Debian's Python 3.11, miniconda (base 3.12) and env "ml", activated."""
    world.system_python("3.11")
    world.conda_base(BASE)
    world.conda_env(ML, python=env_python)
    world.file("/home/u/.conda/environments.txt", f"{BASE}\n{ML}\n")
    world.activate_conda(ML)
    world.env["PATH"] = f"{ML}/bin:{BASE}/condabin:{BASE}/bin:/usr/bin:/bin"
    return world
