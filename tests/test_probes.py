"""Probe details not covered by a finding of their own: pixi, envs_dirs naming, .pth files."""

from __future__ import annotations

from cudaenv import collect
from worlds import World, assert_diagnosis, finding

BASE = "/home/u/miniconda3"


def test_pixi_env_used_without_pixi_shell(world: World) -> None:
    world.system_python("3.11")
    prefix = "/home/u/proj/.pixi/envs/default"
    world.conda_env(prefix, python="3.12.7")
    world.env["PATH"] = f"{prefix}/bin:/usr/bin:/bin"
    report = world.doctor()
    assert report["target"]["kind"] == "pixi"
    found = finding(report, "conda-env-not-activated")
    assert found["title"] == 'pixi env "default" is used without being activated'
    assert "pixi shell    # in the project directory" in found["fix"]
    world.env.update(CONDA_PREFIX=prefix, PIXI_PROJECT_ROOT="/home/u/proj")
    assert_diagnosis(world.doctor(), max_severity="info")


def test_envs_dirs_from_condarc_name_environments(world: World) -> None:
    world.system_python("3.11")
    world.conda_base(BASE)
    world.conda_env("/shared/envs/team", python=None)
    world.conda_env("/scratch/loose", python=None)
    world.file("/home/u/.condarc", "envs_dirs:\n  - /shared/envs\n  - ~/more-envs\n")
    world.activate_conda("/shared/envs/team")
    world.env["PATH"] += f":{BASE}/bin"
    report = world.doctor()
    assert "conda install -n team python=3.12 pip" in finding(report, "env-without-python")["fix"]
    conda = report["facts"]["conda"]
    assert conda["envs_dirs"][:2] == ["/shared/envs", "/home/u/more-envs"]
    assert {e["prefix"]: e["name"] for e in conda["envs"]}["/shared/envs/team"] == "team"
    world.activate_conda("/scratch/loose")
    world.env["PATH"] += f":{BASE}/bin"
    fix = finding(world.doctor(), "env-without-python")["fix"]
    assert "conda install -p /scratch/loose python=3.12 pip" in fix


def test_environments_txt_lists_envs_outside_envs_dirs(world: World) -> None:
    world.system_python("3.11")
    world.conda_base(BASE)
    world.conda_env("/data/envs2/x")
    world.file("/home/u/.conda/environments.txt", f"{BASE}\n/data/envs2/x\n/gone/env\n")
    world.env.update(CONDA_EXE=f"{BASE}/bin/conda")
    snap = collect(str(world.root), world.env)
    entries = {e.prefix: (e.name, e.source) for e in snap.conda.envs}
    assert entries[BASE] == ("base", "installation")
    assert entries["/data/envs2/x"][1].endswith("environments.txt")
    assert "/gone/env" in entries  # listed, though it no longer exists


def test_pth_files_add_directories_but_never_run_code(world: World) -> None:
    world.system_python("3.11")
    world.venv("/home/u/app")
    site = world.site("/home/u/app", "3.11")
    world.dist("/home/u/src/lib", "mylib", "0.1")
    world.file(f"{site}/__editable__.mylib.pth", "/home/u/src/lib\n")
    world.file(f"{site}/distutils-precedence.pth", "import os; os.system('boom')\n")
    world.file(f"{site}/relative.pth", "# comment\n../../../extra\n")
    world.mkdir("/home/u/app/extra")
    world.activate_venv("/home/u/app")
    snap = collect(str(world.root), world.env)
    pth = [(d.path, d.source) for d in snap.site_dirs if d.role == "pth"]
    assert pth == [
        ("/home/u/src/lib", f"{site}/__editable__.mylib.pth"),
        ("/home/u/app/extra", f"{site}/relative.pth"),
    ]
    dists = [dist.name for s in snap.site_dirs if s.role == "pth" for dist in s.distributions]
    assert dists == ["mylib"]


def test_conda_base_named_only_by_conda_exe(world: World) -> None:
    """A minimal base (no condabin, no envs/) is still base when CONDA_EXE names it."""
    world.python_install("/opt/mini", "3.12")
    world.conda_record("/opt/mini", "python", "3.12.1")
    world.env.update(CONDA_EXE="/opt/mini/bin/conda", PATH="/opt/mini/bin:/usr/bin")
    assert world.doctor()["target"]["kind"] == "conda-base"


def test_pyenv_root_behind_a_symlink(world: World) -> None:
    world.python_install("/data/pyenv/versions/3.12.7", "3.12")
    world.link("/home/u/.pyenv", "/data/pyenv")
    world.file("/data/pyenv/shims/python", "#!/usr/bin/env bash\n")
    world.file("/data/pyenv/version", "3.12.7\n")
    world.env["PATH"] = "/home/u/.pyenv/shims:/usr/bin"
    report = world.doctor()
    assert report["target"]["kind"] == "pyenv"
    assert report["target"]["prefix"] == "/data/pyenv/versions/3.12.7"
