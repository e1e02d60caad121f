"""Against real artifacts: venvs made by `python -m venv`, dist-infos written by pip, pip's own
list of config files, and conda prefixes installed by py-rattler from a local channel."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from cudaenv import collect, diagnose
from cudaenv._host import Host
from cudaenv._probes.pipconfig import pip_config_files
from realenv import PY, build_wheel, conda_install, local_channel, make_venv, pip, shell_env
from worlds import assert_diagnosis

pytestmark = pytest.mark.slow


def report_dict(root: str, env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    return diagnose(root, env).to_dict()


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("wheels")
    build_wheel(directory, "torch", "0.0.1")
    build_wheel(directory, "torch", "0.0.2")
    return directory


@pytest.fixture(scope="module")
def venv_with_pip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(tmp_path_factory.mktemp("a") / "venv")


# -- venvs and pip ------------------------------------------------------------------------------


def test_real_venv_is_healthy_and_pip_is_its_own(venv_with_pip: Path, tmp_path: Path) -> None:
    env = shell_env(tmp_path, venv_with_pip / "bin", VIRTUAL_ENV=str(venv_with_pip))
    report = report_dict("/", env)
    assert report["target"]["kind"] == "venv"
    assert report["target"]["python_version"] == PY
    pip_cmd = report["facts"]["commands"]["pip"]
    assert pip_cmd["shebang"] == f"#!{venv_with_pip}/bin/python{PY[0]}" or pip_cmd[
        "shebang"
    ].startswith(f"#!{venv_with_pip}/bin/python")
    assert pip_cmd["interpreter"]["prefix"] == str(venv_with_pip)
    assert_diagnosis(report, max_severity="info")


def test_dist_info_written_by_pip_is_read(
    venv_with_pip: Path, wheels: Path, tmp_path: Path
) -> None:
    pip(
        venv_with_pip / "bin/python",
        "install",
        "--no-index",
        str(wheels / "torch-0.0.1-py3-none-any.whl"),
    )
    env = shell_env(tmp_path, venv_with_pip / "bin", VIRTUAL_ENV=str(venv_with_pip))
    snap = collect("/", env)
    dists = {d.name: d for site in snap.site_dirs for d in site.distributions}
    assert dists["torch"].version == "0.0.1"
    assert dists["torch"].installer == "pip"
    assert dists["pip"].installer == "pip"


def test_venv_without_pip_uses_another_venvs_pip(venv_with_pip: Path, tmp_path: Path) -> None:
    bare = make_venv(tmp_path / "bare", pip=False)
    env = shell_env(tmp_path, bare / "bin", venv_with_pip / "bin", VIRTUAL_ENV=str(bare))
    report = report_dict("/", env)
    assert_diagnosis(
        report,
        must=["pip-other-interpreter"],
        primary="pip-other-interpreter",
        must_not=["python-outside-active-env"],
    )
    assert report["facts"]["commands"]["pip"]["interpreter"]["prefix"] == str(venv_with_pip)


def real_sys_path(python: Path, env: dict[str, str]) -> list[str]:
    """The real interpreter's sys.path: our own test venv, so running it is fine here."""
    out = subprocess.run(
        [str(python), "-c", "import sys; print('\\n'.join(sys.path))"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return out.stdout.splitlines()


@pytest.fixture
def user_site_venv(wheels: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A venv with system site-packages, and a fake torch installed by `pip --user`."""
    venv = make_venv(tmp_path / "sys-site", system_site=True)
    userbase = tmp_path / "userbase"
    wheel = str(wheels / "torch-0.0.1-py3-none-any.whl")
    pip(
        venv / "bin/python",
        "install",
        "--no-index",
        "--user",
        "--no-warn-script-location",
        wheel,
        env={"PYTHONUSERBASE": str(userbase)},
    )
    env = shell_env(tmp_path, venv / "bin", VIRTUAL_ENV=str(venv), PYTHONUSERBASE=str(userbase))
    return venv, env


def test_site_dir_order_matches_the_real_interpreter(
    user_site_venv: tuple[Path, dict[str, str]],
) -> None:
    venv, env = user_site_venv
    snap = collect("/", env)
    ours = [s.path for s in snap.site_dirs if s.role in ("site", "user")]
    theirs = [p for p in real_sys_path(venv / "bin/python", env) if p in ours]
    assert ours[: len(theirs)] == theirs
    assert [s.role for s in snap.site_dirs][:2] == ["site", "user"]


def test_user_site_holding_a_cuda_package_the_venv_lacks(
    user_site_venv: tuple[Path, dict[str, str]],
) -> None:
    _, env = user_site_venv
    assert_diagnosis(report_dict("/", env), must=["user-site-shadowing"])
    env["PYTHONNOUSERSITE"] = "1"
    assert_diagnosis(report_dict("/", env), must_not=["user-site-shadowing"])


def debug_listing(output: str) -> dict[str, list[str]]:
    """`pip config debug`: scope headers, then `  PATH, exists: BOOL` lines."""
    scopes: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        if re.match(r"^[a-z_]+:$", line):
            current = line[:-1]
            scopes[current] = []
        elif current and (match := re.match(r"^  (/\S+), exists:", line)):
            scopes[current].append(match.group(1))
    return scopes


@pytest.mark.parametrize("config_file_exists", [False, True])
def test_pip_config_files_match_pip_config_debug(
    venv_with_pip: Path, tmp_path: Path, config_file_exists: bool
) -> None:
    """pip itself judges which configuration files it reads (and skips)."""
    home = tmp_path / "home"
    home.mkdir()
    config_file = tmp_path / "ci-pip.conf"
    if config_file_exists:
        config_file.write_text("[global]\ntimeout = 60\n")
    variables = {
        "HOME": str(home),
        "XDG_CONFIG_DIRS": f"{tmp_path}/xdg1:{tmp_path}/xdg2",
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "PIP_CONFIG_FILE": str(config_file),
    }
    theirs = debug_listing(pip(venv_with_pip / "bin/python", "config", "debug", env=variables))
    ours: dict[str, list[str]] = {}
    for entry in pip_config_files(Host("/", variables), str(venv_with_pip)):
        ours.setdefault(entry.scope, []).append(entry.path)
    assert ours == {scope: paths for scope, paths in theirs.items() if paths}
    assert ("user" in ours) is not config_file_exists


# -- conda prefixes installed by py-rattler ------------------------------------------------------


@pytest.fixture(scope="module")
def miniconda(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base_dir = tmp_path_factory.mktemp("conda")
    channel = local_channel(base_dir / "channel")
    cache = base_dir / "cache"
    base = conda_install(
        channel, base_dir / "miniconda3", cache, [f"python {PY}.*", "pip", "conda"]
    )
    (base / "envs").mkdir()
    conda_install(channel, base / "envs/ml", cache, [f"python {PY}.*", "pip", "pytorch"])
    conda_install(channel, base / "envs/nopy", cache, ["zlib"])
    return base


def conda_shell(home: Path, base: Path, active: Path) -> dict[str, str]:
    return shell_env(
        home,
        active / "bin",
        base / "condabin",
        base / "bin",
        CONDA_PREFIX=str(active),
        CONDA_SHLVL="2",
        CONDA_DEFAULT_ENV=active.name,
        CONDA_PREFIX_1=str(base),
        CONDA_EXE=f"{base}/bin/conda",
    )


def test_rattler_env_is_read_from_its_real_files(miniconda: Path, tmp_path: Path) -> None:
    ml = miniconda / "envs/ml"
    report = report_dict("/", conda_shell(tmp_path, miniconda, ml))
    assert report["target"] == {
        "chosen_by": "CONDA_PREFIX",
        "requested": None,
        "prefix": str(ml),
        "kind": "conda-env",
        "name": "ml",
        "python": f"{ml}/bin/python",
        "python_version": PY,
    }
    env = report["facts"]["environments"][str(ml)]
    assert {p["name"] for p in env["conda_packages"]} == {"python", "pip", "pytorch"}
    assert report["facts"]["environments"][str(miniconda)]["kind"] == "conda-base"
    # bin/pip is an entry point the installer wrote, with the env's python in its #! line
    assert report["facts"]["commands"]["pip"]["interpreter"]["prefix"] == str(ml)
    assert_diagnosis(report, max_severity="info")


def test_rattler_env_without_python(miniconda: Path, tmp_path: Path) -> None:
    nopy = miniconda / "envs/nopy"
    report = report_dict("/", conda_shell(tmp_path, miniconda, nopy))
    assert_diagnosis(
        report,
        must=["env-without-python"],
        primary="env-without-python",
        must_not=["pip-other-interpreter", "conda-env-not-activated"],
    )


def test_pip_installing_over_a_conda_package(
    miniconda: Path, wheels: Path, tmp_path: Path, venv_with_pip: Path
) -> None:
    ml = miniconda / "envs/ml"
    # The env's python is a stand-in, so another pip writes into the env's prefix, as
    # `pip install --prefix` does: a pip-installed torch next to conda's pytorch.
    pip(
        venv_with_pip / "bin/python",
        "install",
        "--no-index",
        "--no-deps",
        "--prefix",
        str(ml),
        "--no-warn-script-location",
        str(wheels / "torch-0.0.2-py3-none-any.whl"),
    )
    report = report_dict("/", conda_shell(tmp_path, miniconda, ml))
    assert_diagnosis(report, must=["conda-pip-duplicate"])


# -- the build machine itself --------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(tmp_path_factory.mktemp("fresh") / "venv")


def live_shell(venv: Path, home: Path) -> dict[str, str]:
    """The shell of a user who just made and activated ``venv`` on this machine: this
    machine's own PATH (an nvcc wrapper in /usr/local/bin here, CUDA 13.0 without a driver)."""
    path = f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    return {**shell_env(home, venv / "bin"), "PATH": path, "VIRTUAL_ENV": str(venv)}


def test_a_fresh_venv_on_this_machine_is_healthy(fresh_venv: Path, tmp_path: Path) -> None:
    assert_diagnosis(report_dict("/", live_shell(fresh_venv, tmp_path)), max_severity="info")


def test_a_fresh_venv_with_the_cpu_torch_wheel_is_healthy(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """`pip install torch` of the CPU wheel this machine's image carries (torch 2.13.0+cpu);
    no CUDA torch, so no cpp_extension builds against the nvcc wrapper's /usr/local."""
    venv = make_venv(tmp_path_factory.mktemp("cputorch") / "venv")
    pip(venv / "bin/python", "install", "--only-binary=:all:", "torch==2.13.0")
    version = next((venv / "lib").glob("python3*/site-packages/torch/version.py")).read_text()
    if "cuda: Optional[str] = None" not in version and "cuda = None" not in version:
        pytest.fail("pip installed a CUDA torch: this test needs the CPU wheel on the machine")
    report = report_dict("/", live_shell(venv, tmp_path))
    torch = next(f for f in report["facts"]["frameworks"] if f["name"] == "torch")
    assert torch["variant"] == "cpu"
    assert_diagnosis(report, max_severity="info")
