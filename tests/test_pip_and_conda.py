"""pip-install-redirected (with pip's own precedence rules) and conda-pip-duplicate."""

from __future__ import annotations

from worlds import ML, ML_SITE, World, assert_diagnosis, finding, ml_world

VENV = "/home/u/app/.venv"


def venv_world(world: World) -> World:
    world.system_python("3.11")
    world.venv(VENV)
    world.activate_venv(VENV)
    return world


# -- pip-install-redirected ---------------------------------------------------------------------


def test_pip_target_variable(world: World) -> None:
    ml_world(world)
    world.env["PIP_TARGET"] = "/home/u/pylibs"
    found = finding(world.doctor(), "pip-install-redirected")
    assert found["severity"] == "error"
    assert "unset PIP_TARGET" in found["fix"]


def test_user_true_in_the_user_config_inside_a_venv(world: World) -> None:
    venv_world(world)
    world.file(
        "/home/u/.config/pip/pip.conf",
        "[global]\nindex-url = https://x\n\n[install]\nuser = true\n",
    )
    found = finding(world.doctor(), "pip-install-redirected")
    assert found["severity"] == "error"  # pip refuses --user in such a venv
    assert "python -m pip config --user unset install.user" in found["fix"]
    assert any("pip.conf:5" in e for e in found["evidence"])


def test_user_true_in_a_conda_env_is_a_warning(world: World) -> None:
    ml_world(world)
    world.file("/etc/pip.conf", "[global]\nuser = yes\n")
    found = finding(world.doctor(), "pip-install-redirected")
    assert found["severity"] == "warning"
    assert found["fix"] == ["edit /etc/pip.conf: delete line 2 (user = yes)"]


def test_pip_prefix_equal_to_the_env_is_fine(world: World) -> None:
    ml_world(world)
    world.env["PIP_PREFIX"] = ML
    world.env["PIP_TARGET"] = ML_SITE
    assert "pip-install-redirected" not in world.codes()


def test_config_without_install_location_is_fine(world: World) -> None:
    venv_world(world)
    world.file("/home/u/.config/pip/pip.conf", "[global]\nindex-url = https://mirror/simple\n")
    assert_diagnosis(world.doctor(), max_severity="info")


def test_environment_variable_overrides_files(world: World) -> None:
    venv_world(world)
    world.file("/home/u/.pip/pip.conf", "[global]\nuser = true\n")
    world.env["PIP_USER"] = "0"
    assert "pip-install-redirected" not in world.codes()


def test_install_section_beats_global_section_of_a_later_file(world: World) -> None:
    venv_world(world)
    world.file("/etc/pip.conf", "[install]\nuser = false\n")
    world.file("/home/u/.config/pip/pip.conf", "[global]\nuser = true\n")
    assert "pip-install-redirected" not in world.codes()


def test_site_config_of_the_env_and_pip_config_file(world: World) -> None:
    venv_world(world)
    world.file(f"{VENV}/pip.conf", "[install]\ntarget = /tmp/elsewhere\n")
    assert "pip-install-redirected" in world.codes()
    world.env["PIP_CONFIG_FILE"] = "/dev/null"  # pip loads no file at all
    assert "pip-install-redirected" not in world.codes()


def test_pip_config_file_hides_the_user_files(world: World) -> None:
    venv_world(world)
    world.file("/home/u/.config/pip/pip.conf", "[global]\ntarget = /tmp/x\n")
    world.file("/home/u/ci-pip.conf", "[global]\ntimeout = 60\n")
    world.env["PIP_CONFIG_FILE"] = "/home/u/ci-pip.conf"
    report = world.doctor()
    assert "pip-install-redirected" not in [f["code"] for f in report["findings"]]
    scopes = [(f["path"], f["scope"]) for f in report["facts"]["pip"]["files"]]
    assert ("/home/u/ci-pip.conf", "env") in scopes
    assert all(scope != "user" for _, scope in scopes)


# -- conda-pip-duplicate ------------------------------------------------------------------------


def test_pip_torch_over_conda_pytorch(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "pytorch", "2.1.0", "py3.11_cuda12.1_cudnn8.9.2_0")
    world.dist(ML_SITE, "torch", "2.3.0", installer="pip")
    report = world.doctor()
    found = finding(report, "conda-pip-duplicate")
    assert found["severity"] == "error"
    assert "python -m pip uninstall torch    # drop pip's copy" in found["fix"]


def test_two_dist_infos_of_one_conda_package(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "numpy", "1.26.4", "py311h64a7726_0")
    world.dist(ML_SITE, "numpy", "1.26.4", installer="conda")
    world.dist(ML_SITE, "numpy", "2.0.0", installer=None)
    assert finding(world.doctor(), "conda-pip-duplicate")["severity"] == "warning"


def test_conda_cupy_and_pip_cupy_cuda12x(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "cupy", "13.3.0", "py311h0_0")
    world.dist(ML_SITE, "cupy", "13.3.0", installer="conda")
    world.dist(ML_SITE, "cupy-cuda12x", "13.3.0", installer="pip")
    assert "conda-pip-duplicate" in world.codes()


def test_conda_package_with_its_own_dist_info_is_fine(world: World) -> None:
    ml_world(world)
    world.conda_record(ML, "numpy", "1.26.4", "py311h64a7726_0")
    world.dist(ML_SITE, "numpy", "1.26.4", installer="conda")
    world.dist(ML_SITE, "requests", "2.32.3", installer="pip")  # pip-only: not a duplicate
    assert_diagnosis(world.doctor(), max_severity="info")


def test_pip_upgrading_itself_in_a_conda_env_is_only_a_note(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "pip", "24.3.1", installer="pip")
    report = world.doctor()
    assert finding(report, "conda-pip-duplicate")["severity"] == "info"
    assert_diagnosis(report, max_severity="info")
