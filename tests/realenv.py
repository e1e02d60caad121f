"""Real artifacts for tests: wheels, venvs made by ``python -m venv``, pip runs, and conda
prefixes installed by py-rattler from a local channel the tests build."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Optional

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

# Root reads and writes everything: run as root, this drops to the 'nobody' user after
# importing cudaenv (its files may sit where nobody cannot reach), then runs as a user would.
AS_NOBODY = """
import importlib, os, pkgutil, sys
import cudaenv
for module in pkgutil.walk_packages(cudaenv.__path__, "cudaenv."):
    if module.name != "cudaenv.__main__":
        importlib.import_module(module.name)
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
from cudaenv._cli import main
sys.exit(main(sys.argv[1:]))
"""


def build_wheel(directory: Path, name: str, version: str, package: Optional[str] = None) -> Path:
    """A minimal pure-Python wheel, as a build backend would write it; ``package`` is the
    import package it installs (default: the distribution's name)."""
    directory.mkdir(parents=True, exist_ok=True)
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{package or dist}/__init__.py": f"__version__ = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: cudaenv-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def make_venv(path: Path, *, pip: bool = True, system_site: bool = False) -> Path:
    args = [sys.executable, "-m", "venv", str(path)]
    if not pip:
        args.append("--without-pip")
    if system_site:
        args.append("--system-site-packages")
    subprocess.run(args, check=True, capture_output=True, timeout=300)
    return path


def pip(python: Path, *args: str, env: Optional[dict[str, str]] = None) -> str:
    full_env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **(env or {})}
    result = subprocess.run(
        [str(python), "-m", "pip", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env=full_env,
    )
    return result.stdout


def shell_env(home: Path, *bins: Path, **extra: str) -> dict[str, str]:
    """A shell environment for a live (``--root /``) diagnosis, isolated from the developer's."""
    return {
        "HOME": str(home),
        "PATH": ":".join([*(str(b) for b in bins), "/usr/bin", "/bin"]),
        "PWD": str(home),
        "SHELL": "/bin/bash",
        **extra,
    }


# -- a local conda channel ----------------------------------------------------------------------


def conda_package(
    channel: Path,
    subdir: str,
    name: str,
    version: str,
    build: str,
    files: dict[str, bytes],
    *,
    links: Optional[dict[str, str]] = None,
    depends: tuple[str, ...] = (),
    entry_points: tuple[str, ...] = (),
) -> Path:
    """A ``.tar.bz2`` conda package with ``info/index.json``, ``paths.json`` and payload."""
    links = links or {}
    (channel / subdir).mkdir(parents=True, exist_ok=True)
    index = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "depends": list(depends),
        "subdir": subdir,
        "timestamp": 1700000000000,
    }
    if subdir == "noarch":
        index["noarch"] = "python"
    paths = [
        {
            "_path": p,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(d).hexdigest(),
            "size_in_bytes": len(d),
        }
        for p, d in files.items()
    ] + [{"_path": p, "path_type": "softlink", "size_in_bytes": 0} for p in links]
    members = {
        "info/index.json": json.dumps(index).encode(),
        "info/paths.json": json.dumps({"paths_version": 1, "paths": paths}).encode(),
        "info/files": ("\n".join([*files, *links]) + "\n").encode(),
    }
    if entry_points:
        link = {
            "noarch": {"type": "python", "entry_points": list(entry_points)},
            "package_metadata_version": 1,
        }
        members["info/link.json"] = json.dumps(link).encode()
    package = channel / subdir / f"{name}-{version}-{build}.tar.bz2"
    with tarfile.open(package, "w:bz2") as tar:
        for path, data in {**members, **files}.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o755 if path.startswith("bin/") else 0o644
            tar.addfile(info, io.BytesIO(data))
        for path, target in links.items():
            info = tarfile.TarInfo(path)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return package


def dist_info_files(site: str, name: str, version: str) -> dict[str, bytes]:
    info = f"{site}/{name.replace('-', '_')}-{version}.dist-info"
    return {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/INSTALLER": b"conda\n",
    }


def local_channel(channel: Path) -> Path:
    """python (this interpreter's X.Y, a stand-in binary), pip (noarch, entry points),
    conda, pytorch and zlib — indexed by rattler's own indexer."""
    from rattler.index import index_fs

    site = f"lib/python{PY}/site-packages"
    conda_package(
        channel,
        "linux-64",
        "python",
        f"{PY}.0",
        "h0_cpython",
        {f"bin/python{PY}": b"stand-in\n", f"lib/python{PY}/os.py": b"# stdlib\n"},
        links={"bin/python3": f"python{PY}", "bin/python": f"python{PY}"},
    )
    conda_package(
        channel,
        "noarch",
        "pip",
        "24.0",
        "pyh0_0",
        {**dist_info_files("site-packages", "pip", "24.0"), "site-packages/pip/__init__.py": b""},
        depends=("python",),
        entry_points=("pip = pip._internal.cli.main:main", "pip3 = pip._internal.cli.main:main"),
    )
    conda_package(
        channel,
        "linux-64",
        "conda",
        "24.9.2",
        "py_0",
        {"condabin/conda": b"#!/bin/sh\n"},
        depends=("python",),
    )
    conda_package(
        channel,
        "linux-64",
        "pytorch",
        "2.1.0",
        "cpu_py_0",
        {**dist_info_files(site, "torch", "2.1.0"), f"{site}/torch/__init__.py": b""},
        depends=("python",),
    )
    conda_package(channel, "linux-64", "zlib", "1.3.1", "h0_0", {"lib/libz.so.1.3.1": b"\x7fELF"})
    (channel / "noarch").mkdir(exist_ok=True)
    asyncio.run(index_fs(channel))
    return channel


def conda_install(channel: Path, prefix: Path, cache: Path, specs: list[str]) -> Path:
    """Solve ``specs`` against the local channel and install them into ``prefix``."""
    import rattler

    async def run() -> None:
        records = await rattler.solve([channel.as_uri()], specs, platforms=["linux-64", "noarch"])
        await rattler.install(records, prefix, cache_dir=cache, show_progress=False)

    asyncio.run(run())
    return prefix
