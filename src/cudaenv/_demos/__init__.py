"""Example worlds bundled with cudaenv, for ``cudaenv demo``.

Each demo is a small JSON file: a story, the shell's variables, and a list of entries that
build the world's files (plain files, symlinks, console scripts, conda records, dist-infos).
They are written into a temporary directory and diagnosed like any other ``--root``.
"""

from __future__ import annotations

import json
import os
import posixpath
from importlib import resources
from typing import Any

from .._records import record

__all__ = ["DEMOS", "Demo", "materialize"]

_SCRIPT = """#!{interpreter}
# -*- coding: utf-8 -*-
import re
import sys
from pip._internal.cli.main import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""


@record
class Demo:
    name: str
    title: str
    story: str
    env: dict[str, str]
    entries: tuple[tuple[Any, ...], ...]
    expect: tuple[str, ...]


def _load() -> dict[str, Demo]:
    demos = {}
    folder = resources.files(__name__)
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        data = json.loads(item.read_text(encoding="utf-8"))
        name = item.name[:-5].split("-", 1)[1]  # "01-env-without-python.json"
        demos[name] = Demo(
            name=name,
            title=data["title"],
            story=data["story"],
            env=data["env"],
            entries=tuple(tuple(e) for e in data["entries"]),
            expect=tuple(data.get("expect", ())),
        )
    return demos


DEMOS = _load()


def _write(root: str, path: str, text: str, mode: int = 0o644) -> None:
    real = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(real), exist_ok=True)
    with open(real, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(real, mode)


def materialize(demo: Demo, directory: str) -> tuple[str, str]:
    """Write the demo's world (``root/`` and ``env.json``) under ``directory``."""
    root = os.path.join(os.path.abspath(directory), "root")
    os.makedirs(root, exist_ok=True)
    for entry in demo.entries:
        kind, path, *rest = entry
        if kind == "dir":
            os.makedirs(os.path.join(root, path.lstrip("/")), exist_ok=True)
        elif kind == "file":
            _write(root, path, rest[0], 0o755 if "/bin/" in path else 0o644)
        elif kind == "link":
            real = os.path.join(root, path.lstrip("/"))
            os.makedirs(os.path.dirname(real), exist_ok=True)
            os.symlink(rest[0], real)
        elif kind == "script":
            _write(root, path, _SCRIPT.format(interpreter=rest[0]), 0o755)
        elif kind == "conda":
            name, version, build = rest
            record = {"name": name, "version": version, "build": build, "files": []}
            _write(
                root,
                posixpath.join(path, "conda-meta", f"{name}-{version}-{build}.json"),
                json.dumps(record),
            )
        elif kind == "dist":
            name, version, installer = rest
            info = posixpath.join(path, f"{name.replace('-', '_')}-{version}.dist-info")
            _write(
                root,
                posixpath.join(info, "METADATA"),
                f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
            )
            _write(root, posixpath.join(info, "INSTALLER"), installer + "\n")
        else:
            raise ValueError(f"{demo.name}: unknown entry kind {kind!r}")
    env_file = os.path.join(os.path.abspath(directory), "env.json")
    with open(env_file, "w", encoding="utf-8") as handle:
        json.dump(demo.env, handle, indent=1)
    return root, env_file
