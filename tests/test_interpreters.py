"""env-without-python, python-outside-active-env, pip-other-interpreter, conda-env-not-activated,
venv-over-conda, pythonhome-set, python-not-found: each where it must fire and near misses."""

from __future__ import annotations

import shutil

import pytest

from worlds import BASE, ML, World, assert_diagnosis, finding, ml_world

# -- env-without-python ------------------------------------------------------------------------


def test_env_without_python_fires_when_pip_falls_through_to_base(world: World) -> None:
    ml_world(world, env_python=None)
    report = world.doctor()
    assert_diagnosis(
        report,
        must=["env-without-python"],
        must_not=["pip-other-interpreter", "pythonpath-other-env", "conda-env-not-activated"],
        primary="env-without-python",
    )
    found = finding(report, "env-without-python")
    assert "conda install -n ml python=3.12 pip" in found["fix"]
    assert any("python → /home/u/miniconda3/bin/python" in e for e in found["evidence"])


def test_env_with_its_own_python_is_healthy(world: World) -> None:
    ml_world(world)
    assert_diagnosis(world.doctor(), max_severity="info")


def test_env_without_python_found_through_flattened_symlinks(world: World) -> None:
    """Worlds copied without symlink support keep each link as a file holding its target."""
    world.file("/usr/bin/python3.11", "stand-in\n")
    world.file("/usr/bin/python3", "python3.11")
    world.file(f"{BASE}/bin/python3.12", "stand-in for the interpreter binary\n")
    world.file(f"{BASE}/bin/python", "python3.12")
    world.file(f"{BASE}/bin/python3", "python3.12")
    world.script(f"{BASE}/bin/pip", f"{BASE}/bin/python3.12")
    world.conda_record(BASE, "python", "3.12.2", "hab00c5b_0_cpython")
    world.file(f"{ML}/conda-meta/history", "==> 2026-11-02 10:11:12 <==\n")
    world.mkdir(f"{BASE}/envs")
    world.activate_conda(ML)
    world.env["PATH"] = f"{ML}/bin:{BASE}/condabin:{BASE}/bin:/usr/bin:/bin"
    report = world.doctor()
    assert_diagnosis(
        report,
        must=["env-without-python"],
        primary="env-without-python",
        must_not=["pip-other-interpreter"],
    )
    python = report["facts"]["commands"]["python"]
    assert python["resolved"] == f"{BASE}/bin/python3.12"
    assert python["interpreter"]["version"] == "3.12"


# -- python-outside-active-env -------------------------------------------------------------------


def test_python_outside_when_base_bin_comes_first_on_path(world: World) -> None:
    ml_world(world)
    world.env["PATH"] = f"{BASE}/bin:{ML}/bin:/usr/bin:/bin"
    report = world.doctor()
    assert_diagnosis(
        report,
        must=["python-outside-active-env", "pip-other-interpreter"],
        primary="python-outside-active-env",
    )
    fix = finding(report, "python-outside-active-env")["fix"]
    assert f'export PATH={ML}/bin:"$PATH"' in fix
    # base's own pip is not stray: never advise deleting an environment's pip
    assert not any(
        step.startswith("rm ") for step in finding(report, "pip-other-interpreter")["fix"]
    )


def test_python_outside_through_a_shell_alias(world: World) -> None:
    ml_world(world)
    world.file("/home/u/.bashrc", f"# >>> conda initialize >>>\nalias python='{BASE}/bin/python'\n")
    report = world.doctor()
    found = finding(report, "python-outside-active-env")
    assert "alias python=" in found["detail"]
    assert "unalias python" in found["fix"]


def test_python_outside_through_pyenv_shims(world: World) -> None:
    ml_world(world)
    pyenv = "/home/u/.pyenv"
    world.python_install(f"{pyenv}/versions/3.10.14", "3.10")
    world.file(f"{pyenv}/shims/python", '#!/usr/bin/env bash\nexec pyenv exec python "$@"\n')
    world.file(f"{pyenv}/version", "3.10.14\n")
    world.env["PATH"] = f"{pyenv}/shims:{ML}/bin:{BASE}/condabin:/usr/bin:/bin"
    report = world.doctor()
    found = finding(report, "python-outside-active-env")
    assert "pyenv" in found["detail"]
    python = report["facts"]["commands"]["python"]
    assert python["via"] == "pyenv"
    assert python["interpreter"]["prefix"] == f"{pyenv}/versions/3.10.14"


def test_pyenv_local_version_file_and_prefix_match(world: World) -> None:
    pyenv = "/home/u/.pyenv"
    world.python_install(f"{pyenv}/versions/3.12.1", "3.12")
    world.python_install(f"{pyenv}/versions/3.12.7", "3.12")
    world.python_install(f"{pyenv}/versions/3.11.9", "3.11")
    world.file(f"{pyenv}/shims/python", "#!/usr/bin/env bash\n")
    world.file(f"{pyenv}/version", "3.11.9\n")
    world.file("/home/u/proj/.python-version", "3.12  # pinned by the project\n")
    world.env["PWD"] = "/home/u/proj/src"
    world.mkdir("/home/u/proj/src")
    world.env["PATH"] = f"{pyenv}/shims:/usr/bin"
    report = world.doctor()
    assert report["target"]["prefix"] == f"{pyenv}/versions/3.12.7"
    assert "/home/u/proj/.python-version" in report["facts"]["commands"]["python"]["detail"]
    world.env["PYENV_VERSION"] = "3.11.9"
    assert world.doctor()["target"]["prefix"] == f"{pyenv}/versions/3.11.9"


# -- pip-other-interpreter ----------------------------------------------------------------------


def test_pip_from_user_bin_in_a_venv_without_pip(world: World) -> None:
    world.system_python("3.11", pip=False)
    world.venv("/home/u/proj/.venv", pip=False)
    world.script("/home/u/.local/bin/pip", "/usr/bin/python3")
    world.activate_venv("/home/u/proj/.venv")
    world.env["PATH"] = "/home/u/proj/.venv/bin:/home/u/.local/bin:/usr/bin:/bin"
    report = world.doctor()
    assert_diagnosis(
        report,
        must=["pip-other-interpreter"],
        primary="pip-other-interpreter",
        must_not=["python-outside-active-env"],
    )
    fix = finding(report, "pip-other-interpreter")["fix"]
    # without --default-pip ensurepip installs pip3 and pip3.X only (checked with a real venv)
    assert "/home/u/proj/.venv/bin/python -m ensurepip --upgrade --default-pip" in fix
    assert any(step.startswith("rm /home/u/.local/bin/pip") for step in fix)


def test_pip_whose_shebang_is_the_envs_python_via_a_symlink(world: World) -> None:
    world.system_python("3.11", pip=True)
    world.venv("/home/u/proj/.venv")  # bin/pip: #!/home/u/proj/.venv/bin/python → /usr/bin/...
    world.activate_venv("/home/u/proj/.venv")
    assert_diagnosis(world.doctor(), max_severity="info", must_not=["pip-other-interpreter"])


def test_pip_with_a_long_path_trampoline_is_recognised(world: World) -> None:
    world.system_python("3.11", pip=False)
    prefix = "/home/u/" + "deep/" * 30 + "venv"
    world.venv(prefix, pip=False)
    world.script(f"{prefix}/bin/pip", f"{prefix}/bin/python", style="trampoline")
    world.activate_venv(prefix)
    report = world.doctor()
    assert_diagnosis(report, max_severity="info")
    assert report["facts"]["commands"]["pip"]["interpreter"]["prefix"] == prefix


def test_pip_whose_interpreter_was_deleted(world: World) -> None:
    world.system_python("3.11", pip=False)
    world.venv("/home/u/new/.venv")
    world.script("/home/u/new/.venv/bin/pip", "/home/u/old/.venv/bin/python")
    world.activate_venv("/home/u/new/.venv")
    report = world.doctor()
    found = finding(report, "pip-other-interpreter")
    assert "no longer exists" in found["detail"]


def test_pip_through_usr_bin_env_follows_path(world: World) -> None:
    world.system_python("3.11", pip=False)
    world.venv("/home/u/a/.venv")
    world.script("/home/u/a/.venv/bin/pip", "python3", style="env")
    world.activate_venv("/home/u/a/.venv")
    assert_diagnosis(world.doctor(), max_severity="info")


def test_system_python3_and_pip_agree(world: World) -> None:
    world.system_python("3.11", pip=True)
    report = world.doctor()
    assert report["target"]["chosen_by"] == "PATH"
    assert report["target"]["kind"] == "system"
    assert_diagnosis(report, max_severity="info")


def test_pip3_for_an_older_python_than_python3(world: World) -> None:
    world.system_python("3.12", pip=False)
    world.file("/usr/bin/python3.10", "stand-in\n")
    world.file("/usr/lib/python3.10/os.py", "#\n")
    world.script("/usr/bin/pip3", "/usr/bin/python3.10")
    report = world.doctor()
    found = finding(report, "pip-other-interpreter")
    assert "Python 3.10" in found["detail"]


# -- conda-env-not-activated --------------------------------------------------------------------


def test_conda_env_used_without_activation(world: World) -> None:
    ml_world(world)
    for name in ("CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_SHLVL", "CONDA_PREFIX_1"):
        del world.env[name]
    world.env["PATH"] = f"{ML}/bin:/usr/bin:/bin"
    report = world.doctor()
    assert_diagnosis(report, must=["conda-env-not-activated"], max_severity="warning")
    found = finding(report, "conda-env-not-activated")
    assert found["severity"] == "warning"
    assert "conda activate ml" in found["fix"]


def test_explicit_python_of_another_env_while_base_is_active(world: World) -> None:
    ml_world(world)
    world.activate_conda(BASE)
    report = world.doctor("--python", f"{ML}/bin/python")
    assert report["target"]["prefix"] == ML
    assert_diagnosis(
        report,
        must=["conda-env-not-activated"],
        must_not=["python-outside-active-env", "pip-other-interpreter"],
    )


def test_container_base_on_path_is_only_a_note(world: World) -> None:
    world.conda_base("/opt/conda")
    world.env["PATH"] = "/opt/conda/bin:/usr/bin:/bin"
    report = world.doctor()
    assert finding(report, "conda-env-not-activated")["severity"] == "info"
    assert_diagnosis(report, max_severity="info")


def test_properly_activated_env_is_not_flagged(world: World) -> None:
    ml_world(world)
    assert "conda-env-not-activated" not in world.codes()


# -- venv-over-conda ----------------------------------------------------------------------------


def test_venv_over_conda_without_system_site_packages(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "pytorch", "2.5.1", "cuda124_py311_0")
    world.venv("/home/u/app/.venv", base_bin=f"{ML}/bin", version="3.11")
    world.activate_venv("/home/u/app/.venv")
    report = world.doctor()
    found = finding(report, "venv-over-conda")
    assert "pytorch" in found["detail"]
    assert report["target"]["kind"] == "venv"


def test_venv_over_conda_with_system_site_packages_is_fine(world: World) -> None:
    ml_world(world)
    world.venv("/home/u/app/.venv", base_bin=f"{ML}/bin", version="3.11", system_site=True)
    world.activate_venv("/home/u/app/.venv")
    assert "venv-over-conda" not in world.codes()


# -- pythonhome-set -----------------------------------------------------------------------------


def test_pythonhome_from_another_installation(world: World) -> None:
    ml_world(world)
    world.file("/opt/python/3.8.2/lib/python3.8/os.py", "#\n")
    world.env["PYTHONHOME"] = "/opt/python/3.8.2"
    report = world.doctor()
    assert_diagnosis(report, must=["pythonhome-set"], primary="pythonhome-set")
    assert any(
        "no python3.11 standard library" in e for e in finding(report, "pythonhome-set")["evidence"]
    )


def test_pythonhome_equal_to_the_env_is_a_warning(world: World) -> None:
    ml_world(world)
    world.env["PYTHONHOME"] = ML
    assert finding(world.doctor(), "pythonhome-set")["severity"] == "warning"


def test_empty_pythonhome_is_unset(world: World) -> None:
    ml_world(world)
    world.env["PYTHONHOME"] = ""
    assert "pythonhome-set" not in world.codes()


# -- python-not-found ---------------------------------------------------------------------------


def test_no_python_anywhere_is_a_note_not_an_error(world: World) -> None:
    report = world.doctor()
    assert report["target"]["chosen_by"] == "none"
    assert_diagnosis(report, must=["python-not-found"], max_severity="info")


@pytest.mark.parametrize("old_kept", [True, False])
def test_a_venv_copied_with_cp_r_is_said_to_be_copied(world: World, old_kept: bool) -> None:
    """`cp -r old/.venv new/.venv`: the copy's own pip still runs the old path's python."""
    world.system_python("3.11")
    world.venv("/home/u/old/.venv")
    shutil.copytree(world.real("/home/u/old/.venv"), world.real("/home/u/new/.venv"), symlinks=True)
    if not old_kept:
        shutil.rmtree(world.real("/home/u/old/.venv"))
    world.activate_venv("/home/u/new/.venv")
    report = world.doctor()
    assert_diagnosis(report, must=["pip-other-interpreter"], primary="pip-other-interpreter")
    found = finding(report, "pip-other-interpreter")
    assert "was copied or moved from /home/u/old/.venv" in found["detail"]
    assert found["fix"][0].startswith("/home/u/new/.venv/bin/python -m pip install --force")
    assert not any(step.startswith("rm ") for step in found["fix"])  # its own pip: keep it


def test_a_venv_whose_python_is_gone(world: World) -> None:
    """Made from Debian's Python 3.9, which a release upgrade replaced with 3.11: the venv's
    bin/python dangles. That is the cause; pip of another interpreter is its consequence."""
    world.system_python("3.11")
    world.venv("/home/u/proj/.venv", base_bin="/usr/bin", version="3.9")  # -> /usr/bin/python3.9
    world.activate_venv("/home/u/proj/.venv")
    report = world.doctor()
    assert_diagnosis(
        report,
        must=["venv-interpreter-missing"],
        primary="venv-interpreter-missing",
        must_not=["pip-other-interpreter"],
    )
    found = finding(report, "venv-interpreter-missing")
    assert "python3 -m venv --clear /home/u/proj/.venv" in found["fix"][1]
    # --prefix says the same
    del world.env["VIRTUAL_ENV"]
    by_prefix = world.doctor("--prefix", "/home/u/proj/.venv")
    assert "venv-interpreter-missing" in [f["code"] for f in by_prefix["findings"]]


def test_python_option_takes_a_pyenv_shim_as_python_on_path_does(world: World) -> None:
    """`--python ~/.pyenv/shims/python` is the interpreter pyenv selects, not the shims dir."""
    pyenv = "/home/u/.pyenv"
    world.python_install(f"{pyenv}/versions/3.12.7", "3.12")
    world.file(f"{pyenv}/shims/python", "#!/usr/bin/env bash\n", 0o755)
    world.file(f"{pyenv}/version", "3.12.7\n")
    world.env["PATH"] = f"{pyenv}/shims:/usr/bin"
    plain = world.doctor()["target"]
    chosen = world.doctor("--python", f"{pyenv}/shims/python")["target"]
    assert chosen["prefix"] == plain["prefix"] == f"{pyenv}/versions/3.12.7"


def test_python_option_refuses_a_directory_and_a_file_that_is_no_python(world: World) -> None:
    import io
    import json
    from contextlib import redirect_stderr

    from cudaenv._cli import main

    world.system_python("3.11")
    world.file("/home/u/notes.txt", "not a program\n")
    env = world.write_env()
    for given, message in (("/usr/lib", "a directory"), ("/home/u/notes.txt", "not a Python")):
        err = io.StringIO()
        argv = ["doctor", "--root", str(world.root), "--env-file", str(env), "--python", given]
        with redirect_stderr(err):
            assert main(argv, io.StringIO()) == 2
        assert message in err.getvalue()
        assert err.getvalue().count("\n") == 1
    assert json.loads(json.dumps(world.doctor("--python", "/usr/bin/python3.11")))["target"]


def test_python_option_takes_a_version_and_prefix_takes_a_conda_env_name(world: World) -> None:
    """As uv users write `--python 3.12` and conda users `-n ml`: a version is that
    pythonX.Y on PATH, a name without a slash is the conda environment of that name."""
    ml_world(world)
    world.python_install("/opt/py310", "3.10")
    world.env["PATH"] += ":/opt/py310/bin"
    assert world.doctor("--python", "3.10")["target"]["prefix"] == "/opt/py310"
    # the first python3.12 on PATH: conda base's
    assert world.doctor("--python", "3.12")["target"]["prefix"] == BASE
    assert world.doctor("--prefix", "ml")["target"]["prefix"] == ML
    import io
    from contextlib import redirect_stderr

    from cudaenv._cli import main

    env = world.write_env()
    for option, value, message in (
        ("--python", "3.7", "no python3.7 on PATH"),
        ("--prefix", "nope", "no conda environment of that name; conda knows: "),
    ):
        err = io.StringIO()
        argv = ["doctor", "--root", str(world.root), "--env-file", str(env), option, value]
        with redirect_stderr(err):
            assert main(argv, io.StringIO()) == 2
        assert message in err.getvalue()
