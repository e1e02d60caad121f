"""A machine with many environments, for ``cudaenv envs`` / ``doctor --all``: real conda
prefixes installed by py-rattler from a local channel (hundreds of packages each), copies of
them registered the ways conda registers environments, pixi environments, real venvs (plain,
uv projects, pipx and uv tools), pyenv versions and Jupyter kernels.

Three templates are installed by rattler once — a Python env of ``packages`` packages, the
same plus a CUDA build of PyTorch, and an env of C libraries without Python — then cloned with
hard links (what conda itself does from its package cache), so a 100-env machine takes
seconds to build.  Used by ``tests/test_envs.py`` and ``benchmarks/envs_speed.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from realenv import PY, conda_package

__all__ = ["Machine", "build_machine"]

_SITE = f"lib/python{PY}/site-packages"
_PYTHON_SHARE = 0.4  # of a conda env's packages, the share that are Python distributions


@dataclass
class Machine:
    home: Path
    conda_root: Path
    conda_envs: list[Path] = field(default_factory=list)
    venvs: list[Path] = field(default_factory=list)
    pixi_envs: list[Path] = field(default_factory=list)
    projects: Path = Path()
    environ: dict[str, str] = field(default_factory=dict)

    def records(self) -> list[Path]:
        """Every conda-meta record on the machine."""
        prefixes = [self.conda_root, *self.conda_envs, *self.pixi_envs]
        return [p for prefix in prefixes for p in sorted((prefix / "conda-meta").glob("*.json"))]


def _module_files(name: str, count: int) -> dict[str, bytes]:
    module = name.replace("-", "_")
    return {f"site-packages/{module}/mod{i}.py": f"X = {i}\n".encode() for i in range(count)}


def _dist_info(name: str, version: str, requires: tuple[str, ...] = ()) -> dict[str, bytes]:
    info = f"site-packages/{name.replace('-', '_')}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    return {
        f"{info}/METADATA": (metadata + "\nA package of the synthetic machine.\n").encode(),
        f"{info}/INSTALLER": b"conda\n",
        f"{info}/RECORD": b"",
    }


def _channel(channel: Path, packages: int, elf_dir: Path) -> dict[str, list[str]]:
    """Packages for the three templates; returns each template's specs."""
    from rattler.index import index_fs

    python_count = int(packages * _PYTHON_SHARE)
    conda_package(
        channel,
        "linux-64",
        "python",
        f"{PY}.0",
        "h0_cpython",
        {
            f"bin/python{PY}": (elf_dir / "python").read_bytes(),
            f"lib/python{PY}/os.py": b"# stdlib\n",
        },
        links={"bin/python3": f"python{PY}", "bin/python": f"python{PY}"},
    )
    conda_package(
        channel,
        "noarch",
        "pip",
        "24.0",
        "pyh0_0",
        {**_dist_info("pip", "24.0"), **_module_files("pip", 3)},
        depends=("python",),
        entry_points=("pip = pip._internal.cli.main:main",),
    )
    python_libs = [f"pylib{i:03d}" for i in range(python_count - 2)]
    for name in python_libs:
        conda_package(
            channel,
            "noarch",
            name,
            "1.0.0",
            "pyh0_0",
            {**_dist_info(name, "1.0.0"), **_module_files(name, 3)},
            depends=("python",),
        )
    c_libs = [f"clib{i:03d}" for i in range(packages - python_count)]
    for name in c_libs:
        conda_package(
            channel,
            "linux-64",
            name,
            "2.0.0",
            "h0_0",
            {
                f"lib/lib{name}.so.2.0.0": b"\x7fELF stand-in\n",
                f"include/{name}/{name}.h": b"/* header */\n",
                f"share/licenses/{name}/LICENSE": b"license\n",
            },
            links={f"lib/lib{name}.so.2": f"lib{name}.so.2.0.0"},
        )
    # A CUDA build of PyTorch as conda ships it: the runtime from the cuda-cudart package.
    conda_package(
        channel,
        "linux-64",
        "cuda-cudart",
        "12.4.127",
        "h0_0",
        {"lib/libcudart.so.12.4.127": (elf_dir / "libcudart.so.12").read_bytes()},
        links={"lib/libcudart.so.12": "libcudart.so.12.4.127"},
    )
    torch_files = {
        **{
            k.replace("site-packages/", f"{_SITE}/"): v
            for k, v in _dist_info("torch", "2.5.1").items()
        },
        f"{_SITE}/torch/__init__.py": b"",
        f"{_SITE}/torch/version.py": b"__version__ = '2.5.1'\ncuda = '12.4'\ngit_version = 'x'\n",
    }
    conda_package(
        channel,
        "linux-64",
        "pytorch",
        "2.5.1",
        "py_cuda124_0",
        torch_files,
        depends=("python", "cuda-cudart"),
    )
    (channel / "noarch").mkdir(exist_ok=True)
    asyncio.run(index_fs(channel))
    python_specs = ["python", "pip", *python_libs, *c_libs]
    return {
        "python": python_specs,
        "torch": [*python_specs[:-2], "cuda-cudart", "pytorch"],
        "nopython": c_libs,
    }


def _install(channel: Path, prefix: Path, cache: Path, specs: list[str]) -> None:
    import rattler

    async def run() -> None:
        records = await rattler.solve([channel.as_uri()], specs, platforms=["linux-64", "noarch"])
        await rattler.install(records, prefix, cache_dir=cache, show_progress=False)

    asyncio.run(run())


def _clone(template: Path, prefix: Path) -> None:
    shutil.copytree(template, prefix, symlinks=True, copy_function=os.link)


def build_machine(
    tmp: Path,
    *,
    conda_envs: int = 100,
    packages: int = 300,
    venvs: int = 3,
    pixi_projects: int = 2,
) -> Machine:
    """A home with a conda installation, ``conda_envs`` environments of ``packages`` packages,
    pixi projects, venvs and uv projects under ``projects/``, a pyenv version, a pipx and a uv
    tool, and a Jupyter kernel that points into one of the conda envs."""
    from elfbuild import compile_elf

    elf_dir = tmp / "elf"
    compile_elf(
        elf_dir / "libcudart.so.12",
        "int cudaGetDeviceCount(int *n) { *n = 0; return 0; }",
        soname="libcudart.so.12",
    )
    # conda's python: an executable that needs libm and libc, with RPATH $ORIGIN/../lib.
    compile_elf(
        elf_dir / "python",
        "int main(void) { return 0; }",
        shared=False,
        rpath="$ORIGIN/../lib",
        extra=["-lm"],
    )
    channel = _channel(tmp / "channel", packages, elf_dir)
    cache = tmp / "pkgs-cache"
    templates = tmp / "templates"
    for name, specs in channel.items():
        _install(tmp / "channel", templates / name, cache, specs)

    home = tmp / "home"
    conda_root = home / "miniforge3"
    _install(tmp / "channel", conda_root, cache, ["python", "pip"])
    (conda_root / "condabin").mkdir()
    (conda_root / "condabin" / "conda").write_text("#!/bin/sh\n")
    machine = Machine(home=home, conda_root=conda_root, projects=home / "projects")

    # Environments live where conda puts them: <root>/envs, ~/.conda/envs, and elsewhere
    # (``conda create -p``), the last known only from ~/.conda/environments.txt.
    registry: list[str] = [str(conda_root)]
    kinds = ["python", "torch", "python", "nopython", "python"]
    for i in range(conda_envs):
        if i % 10 == 9:
            prefix = home / "elsewhere" / f"env{i:03d}"
        elif i % 10 == 8:
            prefix = home / ".conda" / "envs" / f"env{i:03d}"
        else:
            prefix = conda_root / "envs" / f"env{i:03d}"
        prefix.parent.mkdir(parents=True, exist_ok=True)
        _clone(templates / kinds[i % len(kinds)], prefix)
        machine.conda_envs.append(prefix)
        registry.append(str(prefix))
    (home / ".conda").mkdir(exist_ok=True)
    (home / ".conda" / "environments.txt").write_text("\n".join(registry) + "\n")

    projects = machine.projects
    for i in range(pixi_projects):
        prefix = projects / f"pixi{i}" / ".pixi" / "envs" / "default"
        prefix.parent.mkdir(parents=True)
        _clone(templates / ("torch" if i == 0 else "python"), prefix)
        (projects / f"pixi{i}" / "pixi.toml").write_text("[workspace]\nname = 'p'\n")
        machine.pixi_envs.append(prefix)

    def venv(path: Path, **cfg: str) -> Path:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
        if cfg:
            with (path / "pyvenv.cfg").open("a") as handle:
                handle.writelines(f"{k} = {v}\n" for k, v in cfg.items())
        machine.venvs.append(path)
        return path

    for i in range(venvs):
        venv(projects / f"app{i}" / ".venv")
    venv(projects / "uvproject" / ".venv", uv="0.5.0")
    (projects / "uvproject" / "pyproject.toml").write_text("[project]\nname = 'u'\n")
    share = home / ".local" / "share"
    venv(share / "pipx" / "venvs" / "black")
    venv(share / "uv" / "tools" / "ruff", uv="0.5.0")

    pyenv_version = home / ".pyenv" / "versions" / f"{PY}.1"
    (pyenv_version / "bin").mkdir(parents=True)
    (pyenv_version / "lib" / f"python{PY}" / "site-packages").mkdir(parents=True)
    (pyenv_version / "lib" / f"python{PY}" / "os.py").write_text("# stdlib\n")
    python = pyenv_version / "bin" / f"python{PY}"
    shutil.copy(elf_dir / "python", python)
    (pyenv_version / "bin" / "python3").symlink_to(f"python{PY}")

    kernel = home / ".local" / "share" / "jupyter" / "kernels" / "env001"
    kernel.mkdir(parents=True)
    kernel_python = machine.conda_envs[min(1, conda_envs - 1)] / "bin" / "python"
    (kernel / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(kernel_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "env001",
                "language": "python",
            }
        )
    )
    machine.environ = {
        "HOME": str(home),
        "PATH": f"{conda_root}/condabin:/usr/bin:/bin",
        "CONDA_EXE": str(conda_root / "bin" / "conda"),
        "PWD": str(projects),
    }
    return machine
