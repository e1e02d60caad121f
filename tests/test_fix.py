"""`cudaenv fix`, `--apply`, `undo`, `env`, `run` on real environments: venvs made by
`python -m venv`, a conda prefix installed by py-rattler, real pip from a local wheel
directory, real bash (and zsh, fish where installed) sourcing what was written.  The CLI runs
as a separate process, as users run it — so that it can also be killed mid-apply."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import venv as venv_module
from pathlib import Path
from typing import Any

import pytest

from realenv import AS_NOBODY, PY, build_wheel, conda_install, local_channel, make_venv, pip

HAS = {shell: shutil.which(shell) is not None for shell in ("bash", "zsh", "fish")}


def cudaenv(
    env: dict[str, str], *args: str, check: bool = True, **extra: str
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "cudaenv", *args],
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` (links as their target), with content and mode."""
    found: dict[str, tuple[bytes, int]] = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if "__pycache__" in relative:
            continue
        if path.is_symlink():
            found[relative] = (os.readlink(path).encode(), 0)
        elif path.is_file():
            found[relative] = (path.read_bytes(), path.stat().st_mode & 0o7777)
    return found


@pytest.fixture
def machine(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A venv (no pip), another venv whose site-packages PYTHONPATH leaks in, and a shell
    whose PIP_TARGET sends installs elsewhere: pythonpath-other-env, pip-install-redirected."""
    home = tmp_path / "home"
    home.mkdir()
    env_dir = tmp_path / "proj" / ".venv"
    venv_module.create(env_dir, with_pip=False, symlinks=True)
    # pip's files as pip leaves them (its console script and dist-info), without pip's 3 s
    # install: the venv's pip is its own, as in any ordinary venv
    site = next(env_dir.glob("lib/python*/site-packages"))
    (site / "pip-24.0.dist-info").mkdir()
    (site / "pip-24.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pip\nVersion: 24.0\n"
    )
    (env_dir / "bin" / "pip").write_text(f"#!{env_dir}/bin/python\nimport pip\n")
    (env_dir / "bin" / "pip").chmod(0o755)
    other = tmp_path / "old" / "venv"
    venv_module.create(other, with_pip=False, symlinks=True)
    other_site = next(other.glob("lib/python*/site-packages"))
    info = other_site / "numpy-1.26.4.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 1.26.4\n")
    env = {
        "HOME": str(home),
        "PATH": f"{env_dir}/bin:/usr/bin:/bin",
        "PWD": str(home),
        "SHELL": "/bin/bash",
        "VIRTUAL_ENV": str(env_dir),
        "PYTHONPATH": f"{other_site}:/opt/keep-me",
        "PIP_TARGET": str(tmp_path / "elsewhere"),
    }
    return env_dir, env


def report(env: dict[str, str]) -> dict[str, Any]:
    done = cudaenv(env, "doctor", "--format", "json")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def codes(env: dict[str, str]) -> list[str]:
    return [f["code"] for f in report(env)["findings"]]


# -- the plan ---------------------------------------------------------------------------------


def test_the_plan_is_printed_and_nothing_changes(machine: tuple[Path, dict[str, str]]) -> None:
    prefix, env = machine
    before = tree(prefix.parent.parent)
    done = cudaenv(env, "fix", "--shell", "bash")
    assert "Plan (dry run" in done.stdout
    assert "unset PIP_TARGET" in done.stdout
    assert "PYTHONPATH: without" in done.stdout
    assert "export PYTHONPATH=/opt/keep-me" in done.stdout
    assert tree(prefix.parent.parent) == before
    fish = cudaenv(env, "fix", "--shell", "fish").stdout
    assert "set -e PIP_TARGET" in fish
    assert "set -gx PYTHONPATH /opt/keep-me" in fish


def test_plan_as_json(machine: tuple[Path, dict[str, str]]) -> None:
    prefix, env = machine
    plan = json.loads(cudaenv(env, "fix", "--format", "json").stdout)
    assert plan["schema"] == "cudaenv.plan/1"
    assert plan["persistence"] == "venv"
    assert {"pip-install-redirected", "pythonpath-other-env"} <= set(plan["codes"])
    variables = {v["name"]: v for v in plan["variables"]}
    assert variables["PIP_TARGET"]["mode"] == "unset"
    assert variables["PYTHONPATH"]["drop"] == [
        str(next((prefix.parent.parent / "old/venv").glob("lib/python*/site-packages")))
    ]
    assert str(prefix / "bin" / "activate") in {f["path"] for f in plan["files"]}


# -- apply, activation, undo --------------------------------------------------------------------


def test_apply_activate_deactivate_undo(machine: tuple[Path, dict[str, str]]) -> None:
    prefix, env = machine
    workspace = prefix.parent.parent
    before = tree(workspace)
    done = cudaenv(env, "fix", "--apply", "--yes")
    assert "fixed: " in done.stdout
    assert "pip-install-redirected" in done.stdout.split("fixed: ", 1)[1].splitlines()[0]
    assert (prefix / "etc" / "cudaenv" / "activate.sh").is_file()
    assert "# cudaenv" in (prefix / "bin" / "activate").read_text()
    # As the environment is once activated, doctor no longer reports what was fixed.
    activated = {**env}
    activated.pop("PIP_TARGET")
    activated["PYTHONPATH"] = "/opt/keep-me"
    assert "pip-install-redirected" not in codes(activated)
    assert "pythonpath-other-env" not in codes(activated)
    # A real bash: activation applies the variables, deactivate restores them exactly.
    script = (
        f'. "{prefix}/bin/activate"\n'
        'echo "IN PIP_TARGET=${PIP_TARGET-unset} PYTHONPATH=${PYTHONPATH-unset}"\n'
        "deactivate\n"
        'echo "OUT PIP_TARGET=${PIP_TARGET-unset} PYTHONPATH=${PYTHONPATH-unset}"\n'
    )
    shell = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=False
    )
    inside, outside = shell.stdout.splitlines()
    assert inside == "IN PIP_TARGET=unset PYTHONPATH=/opt/keep-me"
    assert outside == f"OUT PIP_TARGET={env['PIP_TARGET']} PYTHONPATH={env['PYTHONPATH']}"
    # Without activation, the .pth hook still keeps PIP_TARGET away from pip.
    hooked = subprocess.run(
        [str(prefix / "bin/python"), "-c", "import os; print(os.environ.get('PIP_TARGET'))"],
        env={"PIP_TARGET": "/x", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert hooked.stdout.strip() == "None"
    undo = cudaenv(env, "undo")
    assert "undone" in undo.stdout
    assert tree(workspace) == before


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_activation_in_other_shells(machine: tuple[Path, dict[str, str]], shell: str) -> None:
    if not HAS[shell]:
        pytest.skip(f"{shell} is not installed")
    prefix, env = machine
    cudaenv(env, "fix", "--apply", "--yes")
    activate = prefix / "bin" / ("activate.fish" if shell == "fish" else "activate")
    script = f'source "{activate}"\necho "IN $PIP_TARGET|"\ndeactivate\necho "OUT $PIP_TARGET|"\n'
    shell_run = subprocess.run(
        [shell, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert shell_run.stdout.splitlines() == ["IN |", f"OUT {env['PIP_TARGET']}|"], shell_run.stderr


def test_apply_is_idempotent(machine: tuple[Path, dict[str, str]]) -> None:
    prefix, env = machine
    cudaenv(env, "fix", "--apply", "--yes")
    applied = tree(prefix)
    again = cudaenv(env, "fix", "--apply", "--yes")
    assert "already applied" in again.stdout
    assert tree(prefix) == applied
    assert len(list((prefix / ".cudaenv" / "journal").iterdir())) == 1


def test_apply_with_format_json_says_what_it_did_in_json(
    machine: tuple[Path, dict[str, str]],
) -> None:
    prefix, env = machine
    done = cudaenv(env, "fix", "--apply", "--yes", "--format", "json")
    document = json.loads(done.stdout)  # the whole of stdout is one JSON document
    assert document["schema"] == "cudaenv.apply/1"
    assert document["applied"] is True
    assert any(path.endswith("bin/activate") for path in document["files"])
    assert "pip-install-redirected" in document["fixed"]
    assert document["journal"].startswith(str(prefix))
    again = json.loads(cudaenv(env, "fix", "--apply", "--yes", "--format", "json").stdout)
    assert "already applied" in again["notes"]


def test_undo_with_nothing_to_undo(machine: tuple[Path, dict[str, str]]) -> None:
    _, env = machine
    assert "Nothing to undo" in cudaenv(env, "undo").stdout


def test_apply_needs_yes_without_a_terminal(machine: tuple[Path, dict[str, str]]) -> None:
    prefix, env = machine
    before = tree(prefix)
    done = cudaenv(env, "fix", "--apply", check=False)
    assert done.returncode == 2
    assert "add --yes" in done.stderr
    assert tree(prefix) == before


@pytest.mark.parametrize("hazard", ["link-outside", "directory", "journal-link"])
def test_apply_refuses_unsafe_targets_and_changes_nothing(
    machine: tuple[Path, dict[str, str]], tmp_path: Path, hazard: str
) -> None:
    """A file to change that is a link (here to a script several envs share), a FIFO or a
    directory, or a journal directory that leads elsewhere: refused before anything is
    written, and no link is followed."""
    prefix, env = machine
    activate = prefix / "bin" / "activate"
    shared = tmp_path / "shared-activate"
    shared.write_bytes(activate.read_bytes())  # the venv's own script, now shared
    original = shared.read_bytes()
    if hazard == "link-outside":
        activate.unlink()
        activate.symlink_to(shared)
    elif hazard == "directory":
        site = next(prefix.glob("lib/python*/site-packages"))
        (site / "_cudaenv_env.pth").mkdir()
    else:
        (tmp_path / "elsewhere").mkdir()
        (prefix / ".cudaenv").symlink_to(tmp_path / "elsewhere")
    before = tree(prefix.parent.parent)
    done = cudaenv(env, "fix", "--apply", "--yes", check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("cudaenv: error: refusing to write ")
    assert done.stderr.endswith("(nothing was changed)\n")
    assert done.stderr.count("\n") == 1
    assert tree(prefix.parent.parent) == before
    assert shared.read_bytes() == original
    if hazard == "journal-link":
        assert not any((tmp_path / "elsewhere").rglob("*"))


def test_a_fifo_where_the_activate_script_was_is_left_alone(
    machine: tuple[Path, dict[str, str]],
) -> None:
    """Not a script cudaenv can extend: the plan leaves it out, nothing blocks on it."""
    prefix, env = machine
    activate = prefix / "bin" / "activate"
    activate.unlink()
    os.mkfifo(activate)
    cudaenv(env, "fix", "--apply", "--yes")
    assert stat.S_ISFIFO(os.lstat(activate).st_mode)


def test_a_link_left_where_the_temporary_file_goes_is_not_followed(
    machine: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    prefix, env = machine
    target = tmp_path / "precious"
    target.write_text("keep\n")
    (prefix / "bin" / "activate.cudaenv-tmp").symlink_to(target)
    cudaenv(env, "fix", "--apply", "--yes")
    assert target.read_text() == "keep\n"
    assert not (prefix / "bin" / "activate.cudaenv-tmp").is_symlink()
    assert "cudaenv" in (prefix / "bin" / "activate").read_text()


def test_apply_refuses_a_world(tmp_path: Path) -> None:
    done = cudaenv(
        dict(os.environ), "fix", "--apply", "--yes", "--root", str(tmp_path), check=False
    )
    assert done.returncode == 2
    assert "cannot be used with --root" in done.stderr


# -- crash safety -------------------------------------------------------------------------------


def crash_points() -> list[int]:
    """Every point of the first file change, then a sample of the rest (each run is a process)."""
    return [*range(1, 13), *range(13, 90, 7)]


@pytest.mark.parametrize("point", crash_points())
def test_a_killed_apply_is_undone_completely(
    machine: tuple[Path, dict[str, str]], point: int
) -> None:
    prefix, env = machine
    workspace = prefix.parent.parent
    before = tree(workspace)
    killed = cudaenv(env, "fix", "--apply", "--yes", check=False, CUDAENV_TEST_CRASH_AT=str(point))
    assert killed.returncode in (0, 137), killed.stderr
    # Whatever instant it died at, every file is whole: the old bytes or the new.
    activate = (prefix / "bin" / "activate").read_text()
    assert activate.count("# cudaenv") in (0, 2)
    cudaenv(env, "undo")
    assert tree(workspace) == before


@pytest.mark.parametrize("point", [3, 9, 30, 60])
def test_a_killed_apply_is_recovered_by_applying_again(
    machine: tuple[Path, dict[str, str]], point: int, tmp_path: Path
) -> None:
    prefix, env = machine
    workspace = prefix.parent.parent
    before = tree(workspace)
    cudaenv(env, "fix", "--apply", "--yes", check=False, CUDAENV_TEST_CRASH_AT=str(point))
    cudaenv(env, "fix", "--apply", "--yes")
    assert "# cudaenv" in (prefix / "bin" / "activate").read_text()
    cudaenv(env, "undo")
    assert tree(workspace) == before


# -- env and run --------------------------------------------------------------------------------


def test_env_prints_lines_to_eval(machine: tuple[Path, dict[str, str]]) -> None:
    _, env = machine
    lines = cudaenv(env, "env", "--shell", "bash").stdout.splitlines()
    assert "unset PIP_TARGET" in lines
    assert "export PYTHONPATH=/opt/keep-me" in lines


def test_run_gives_the_command_the_corrected_environment(
    machine: tuple[Path, dict[str, str]],
) -> None:
    prefix, env = machine
    child = "import json, os; print(json.dumps(dict(os.environ)))"
    done = cudaenv(env, "run", "--", "python3", "-c", child)
    seen = json.loads(done.stdout)
    assert "PIP_TARGET" not in seen
    assert seen["PYTHONPATH"] == "/opt/keep-me"
    assert seen["PATH"].split(":")[0] == str(prefix / "bin")
    assert "cudaenv run: PIP_TARGET:" in done.stderr


def test_run_passes_the_exit_status_through(machine: tuple[Path, dict[str, str]]) -> None:
    _, env = machine
    assert cudaenv(env, "run", "-q", "--", "sh", "-c", "exit 7", check=False).returncode == 7
    missing = cudaenv(env, "run", "--", "no-such-command-here", check=False)
    assert missing.returncode == 127  # as the shell says it
    assert "no-such-command-here: command not found" in missing.stderr
    script = Path(env["HOME"]) / "not-executable.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    denied = cudaenv(env, "run", "--", str(script), check=False)
    assert denied.returncode == 126
    assert "permission denied" in denied.stderr


def test_run_redacts_what_it_prints(machine: tuple[Path, dict[str, str]]) -> None:
    _, env = machine
    secret = {**env, "PIP_TARGET": "https://ana:SECRET-0042@pkgs.example.com/t"}
    done = cudaenv(secret, "run", "--", "true")
    assert "cudaenv run: PIP_TARGET:" in done.stderr
    assert "SECRET-0042" not in done.stderr


# -- packages: real pip, a byte-for-byte undo ---------------------------------------------------


@pytest.fixture(scope="module")
def cupy_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cupy-wheels")
    build_wheel(directory, "cupy-cuda11x", "13.3.0", package="cupy")
    build_wheel(directory, "cupy-cuda12x", "13.3.0", package="cupy")
    # what the plan also asks for (CuPy 11x finds no CUDA 11 runtime here), offline
    build_wheel(directory, "nvidia-cuda-runtime-cu11", "11.8.89", package="nvidia_rt")
    build_wheel(directory, "nvidia-cuda-nvrtc-cu11", "11.8.89", package="nvidia_nvrtc")
    return directory


def test_pip_steps_apply_and_undo_byte_for_byte(cupy_wheels: Path, tmp_path: Path) -> None:
    """Two CuPys overwrite each other: the fix removes both and installs one, with this
    environment's own pip, from the local wheels only; undo puts every file back."""
    prefix = make_venv(tmp_path / "venv")
    local = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(cupy_wheels)}
    pip(prefix / "bin/python", "install", "-q", "cupy-cuda11x", "cupy-cuda12x", env=local)
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{prefix}/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": str(prefix),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **local,
    }
    assert "cupy-multiple-packages" in codes(env)
    before = tree(prefix)
    done = cudaenv(env, "fix", "--apply", "--yes")
    assert "ran: " in done.stdout
    assert "cupy-multiple-packages" in done.stdout.split("fixed: ", 1)[1].splitlines()[0]
    site = next(prefix.glob("lib/python*/site-packages"))
    assert sorted(p.name for p in site.glob("cupy_cuda*.dist-info")) == [
        "cupy_cuda12x-13.3.0.dist-info"
    ]
    cudaenv(env, "undo")
    assert tree(prefix) == before


# -- conda: activate.d and deactivate.d ---------------------------------------------------------


@pytest.fixture(scope="module")
def conda_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base_dir = tmp_path_factory.mktemp("conda-fix")
    channel = local_channel(base_dir / "channel")
    base = conda_install(channel, base_dir / "miniconda3", base_dir / "cache", ["conda"])
    (base / "envs").mkdir()
    return conda_install(channel, base / "envs/ml", base_dir / "cache", [f"python {PY}.*", "pip"])


def test_conda_activation_scripts(conda_env: Path, tmp_path: Path) -> None:
    base = conda_env.parent.parent
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{conda_env}/bin:{base}/condabin:/usr/bin:/bin",
        "CONDA_PREFIX": str(conda_env),
        "CONDA_DEFAULT_ENV": "ml",
        "CONDA_SHLVL": "2",
        "CONDA_PREFIX_1": str(base),
        "CONDA_EXE": f"{base}/bin/conda",
        "PIP_TARGET": str(tmp_path / "elsewhere"),
    }
    before = tree(conda_env)
    cudaenv(env, "fix", "--apply", "--yes")
    activate = conda_env / "etc/conda/activate.d/~~cudaenv.sh"
    deactivate = conda_env / "etc/conda/deactivate.d/!cudaenv.sh"
    script = (
        f'. "{activate}"\necho "IN ${{PIP_TARGET-unset}}"\n'
        f'. "{deactivate}"\necho "OUT ${{PIP_TARGET-unset}}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.stdout.splitlines() == ["IN unset", f"OUT {env['PIP_TARGET']}"]
    cudaenv(env, "undo")
    assert tree(conda_env) == before


def test_conda_base_needs_force(conda_env: Path, tmp_path: Path) -> None:
    base = conda_env.parent.parent
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{base}/bin:{base}/condabin:/usr/bin:/bin",
        "CONDA_PREFIX": str(base),
        "CONDA_DEFAULT_ENV": "base",
        "CONDA_SHLVL": "1",
        "CONDA_EXE": f"{base}/bin/conda",
        "PIP_TARGET": str(tmp_path / "elsewhere"),
    }
    before = tree(base / "etc") if (base / "etc").exists() else {}
    done = cudaenv(env, "fix", "--apply", "--yes", check=False)
    assert done.returncode == 2
    assert "only with --force" in done.stderr
    assert (tree(base / "etc") if (base / "etc").exists() else {}) == before


def test_pixi_env_gets_conda_activation_scripts(conda_env: Path, tmp_path: Path) -> None:
    """pixi runs an environment's etc/conda/activate.d scripts like conda does."""
    channel = conda_env.parent.parent.parent / "channel"
    project = tmp_path / "project"
    prefix = conda_install(
        channel, project / ".pixi/envs/default", tmp_path / "cache", [f"python {PY}.*", "pip"]
    )
    (project / "pixi.toml").write_text('[project]\nname = "p"\n')
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{prefix}/bin:/usr/bin:/bin",
        "CONDA_PREFIX": str(prefix),
        "PIXI_PROJECT_ROOT": str(project),
        "PIP_TARGET": str(tmp_path / "elsewhere"),
    }
    plan = json.loads(cudaenv(env, "fix", "--format", "json").stdout)
    assert (plan["env_kind"], plan["persistence"]) == ("pixi", "conda")
    before = tree(project)
    cudaenv(env, "fix", "--apply", "--yes")
    assert (prefix / "etc/conda/activate.d/~~cudaenv.sh").is_file()
    cudaenv(env, "undo")
    assert tree(project) == before


def test_the_pth_hook_fills_only_what_is_unset(tmp_path: Path) -> None:
    """The hook a fix writes for un-activated runs sets CUDA_HOME only where the user has
    not: run by a real Python, with and without a CUDA_HOME of the user's."""
    from cudaenv._fix.persist import _pth_hook
    from cudaenv._fix.plan import VariableChange

    hook = _pth_hook(
        (
            VariableChange("CUDA_HOME", "set", "/usr/local/cuda-12.4"),
            VariableChange("PIP_TARGET", "unset"),
        ),
        ("cuda-home-unset", "pip-install-redirected"),
    )
    assert hook is not None
    module = tmp_path / "_cudaenv_env.py"
    module.write_text(hook)
    probe = f"import runpy, os; runpy.run_path({str(module)!r}); print(os.environ.get('CUDA_HOME'))"
    for given, expected in (({}, "/usr/local/cuda-12.4"), ({"CUDA_HOME": "/mine"}, "/mine")):
        done = subprocess.run(
            [sys.executable, "-c", probe],
            env={"PATH": "/usr/bin:/bin", **given},
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.strip() == expected


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to 'nobody'")
def test_apply_on_an_environment_this_user_cannot_write(tmp_path: Path) -> None:
    """A root-owned venv, `fix --apply` as 'nobody': one line, exit 2, nothing written."""
    for parent in [tmp_path, *tmp_path.parents]:  # let 'nobody' reach the venv
        parent.chmod(parent.stat().st_mode | 0o005)
    env_dir = tmp_path / "v"
    venv_module.create(env_dir, with_pip=False, symlinks=True)
    before = tree(env_dir)
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{env_dir}/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": str(env_dir),
        "PIP_TARGET": str(tmp_path / "elsewhere"),  # a fix that writes into the venv
    }
    done = subprocess.run(
        [sys.executable, "-c", AS_NOBODY, "fix", "--apply", "--yes"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"cudaenv: error: cannot write {env_dir} as this user: nothing was changed (run as the "
        f"environment's owner, or recreate {env_dir} as your own)\n"
    )
    assert tree(env_dir) == before
