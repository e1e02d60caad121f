"""pythonpath-other-env, pythonpath-version-mismatch, user-site-shadowing, cwd-shadows-package."""

from __future__ import annotations

from worlds import ML_SITE, World, assert_diagnosis, finding, ml_world


def with_frameworks(world: World) -> World:
    ml_world(world)
    world.dist(ML_SITE, "numpy", "2.1.3")
    world.dist(ML_SITE, "torch", "2.5.1")
    return world


# -- PYTHONPATH ---------------------------------------------------------------------------------


def test_pythonpath_with_another_envs_site_packages(world: World) -> None:
    with_frameworks(world)
    other = "/home/u/miniconda3/envs/old"
    world.conda_env(other, python="3.11.4")
    world.dist(f"{other}/lib/python3.11/site-packages", "numpy", "1.26.4")
    world.env["PYTHONPATH"] = f"/home/u/src:{other}/lib/python3.11/site-packages"
    world.mkdir("/home/u/src")
    report = world.doctor()
    assert_diagnosis(
        report, must=["pythonpath-other-env"], must_not=["pythonpath-version-mismatch"]
    )
    found = finding(report, "pythonpath-other-env")
    assert found["severity"] == "error"  # numpy 1.26.4 shadows the env's 2.1.3
    assert "export PYTHONPATH=/home/u/src" in found["fix"]


def test_pythonpath_of_another_env_without_shared_packages_is_a_warning(world: World) -> None:
    with_frameworks(world)
    world.venv("/opt/tools", version="3.11")
    world.dist("/opt/tools/lib/python3.11/site-packages", "rich", "13.9.0")
    world.env["PYTHONPATH"] = "/opt/tools/lib/python3.11/site-packages"
    assert finding(world.doctor(), "pythonpath-other-env")["severity"] == "warning"


def test_pythonpath_with_a_source_dir_is_fine(world: World) -> None:
    with_frameworks(world)
    world.file("/home/u/project/src/mypkg/__init__.py")
    world.env["PYTHONPATH"] = "/home/u/project/src"
    assert_diagnosis(world.doctor(), max_severity="info")


def test_pythonpath_pointing_at_the_envs_own_site_packages_is_fine(world: World) -> None:
    with_frameworks(world)
    world.env["PYTHONPATH"] = ML_SITE
    codes = world.codes()
    assert "pythonpath-other-env" not in codes
    assert "pythonpath-version-mismatch" not in codes


def test_pythonpath_package_dir_made_with_pip_target(world: World) -> None:
    with_frameworks(world)
    world.dist("/shared/pylibs", "torch", "1.13.1")
    world.env["PYTHONPATH"] = "/shared/pylibs"
    found = finding(world.doctor(), "pythonpath-other-env")
    assert any("package directory" in e for e in found["evidence"])
    assert found["severity"] == "error"


def test_pythonpath_version_mismatch(world: World) -> None:
    with_frameworks(world)
    world.conda_env("/sw/envs/py39", python="3.9.18")
    world.dist("/sw/envs/py39/lib/python3.9/site-packages", "numpy", "1.24.4")
    world.env["PYTHONPATH"] = "/sw/envs/py39/lib/python3.9/site-packages"
    report = world.doctor()
    assert_diagnosis(
        report,
        must=["pythonpath-version-mismatch", "pythonpath-other-env"],
        primary="pythonpath-version-mismatch",
    )
    assert "unset PYTHONPATH" in finding(report, "pythonpath-version-mismatch")["fix"]


def test_pythonpath_user_site_of_the_same_version_is_not_another_env(world: World) -> None:
    with_frameworks(world)
    world.mkdir("/home/u/.local/lib/python3.11/site-packages")
    world.env["PYTHONPATH"] = "/home/u/.local/lib/python3.11/site-packages"
    codes = world.codes()
    assert "pythonpath-other-env" not in codes
    assert "pythonpath-version-mismatch" not in codes


# -- user site ----------------------------------------------------------------------------------

USER_SITE = "/home/u/.local/lib/python3.11/site-packages"


def test_user_site_holding_a_distribution_the_env_has(world: World) -> None:
    with_frameworks(world)
    world.dist(USER_SITE, "torch", "2.0.1+cpu")
    report = world.doctor()
    found = finding(report, "user-site-shadowing")
    assert found["severity"] == "error"
    assert "conda env config vars set PYTHONNOUSERSITE=1 -n ml" in found["fix"]


def test_user_site_holding_a_cuda_wheel_the_env_lacks(world: World) -> None:
    with_frameworks(world)
    world.dist(USER_SITE, "nvidia-cudnn-cu12", "9.1.0.70")
    assert finding(world.doctor(), "user-site-shadowing")["severity"] == "warning"


def test_user_installed_torch_for_the_bare_system_python_is_its_normal_home(world: World) -> None:
    world.system_python("3.11")
    world.dist(USER_SITE, "torch", "2.5.1")
    world.dist(USER_SITE, "nvidia-cublas-cu12", "12.4.5.8")
    report = world.doctor()
    assert report["target"]["kind"] == "system"
    assert_diagnosis(report, max_severity="info")


def test_another_cupy_in_the_user_site_is_shadowing_not_two_cupys(world: World) -> None:
    """cupy-cuda12x in ~/.local and cupy-cuda11x in the env are two sys.path entries: the
    earlier wins. Two distributions in one directory is cupy-multiple-packages."""
    with_frameworks(world)
    world.dist(ML_SITE, "cupy-cuda11x", "13.3.0")
    world.dist(USER_SITE, "cupy-cuda12x", "13.3.0")
    report = world.doctor()
    assert_diagnosis(report, must=["user-site-shadowing"], must_not=["cupy-multiple-packages"])
    found = finding(report, "user-site-shadowing")
    assert (
        "shadows: cupy-cuda12x 13.3.0 (hides the environment's cupy-cuda11x 13.3.0)"
        in (found["evidence"])
    )
    world.dist(ML_SITE, "cupy-cuda12x", "13.3.0")  # now two in the env's own directory
    assert "cupy-multiple-packages" in world.codes()


def test_a_bare_python_has_a_user_site_too(world: World) -> None:
    world.system_python("3.11")
    world.dist("/usr/lib/python3/dist-packages", "cupy-cuda11x", "12.2.0", installer="debian")
    world.dist(USER_SITE, "cupy-cuda12x", "13.3.0")
    report = world.doctor()
    assert report["target"]["kind"] == "system"
    assert_diagnosis(report, must=["user-site-shadowing"], must_not=["cupy-multiple-packages"])


def test_user_site_with_unrelated_packages_is_fine(world: World) -> None:
    with_frameworks(world)
    world.dist(USER_SITE, "httpie", "3.2.4")
    assert_diagnosis(world.doctor(), max_severity="info")


def test_user_site_shadowing_a_plain_package_is_a_warning(world: World) -> None:
    with_frameworks(world)
    world.dist(USER_SITE, "numpy", "1.26.4")
    assert finding(world.doctor(), "user-site-shadowing")["severity"] == "warning"


def test_pythonnousersite_disables_the_user_site(world: World) -> None:
    with_frameworks(world)
    world.dist(USER_SITE, "torch", "2.0.1")
    world.env["PYTHONNOUSERSITE"] = "1"
    assert "user-site-shadowing" not in world.codes()


def test_a_venv_without_system_site_ignores_the_user_site(world: World) -> None:
    world.system_python("3.11")
    world.venv("/home/u/app/.venv")
    world.dist(world.site("/home/u/app/.venv", "3.11"), "torch", "2.5.1")
    world.activate_venv("/home/u/app/.venv")
    world.dist(USER_SITE, "torch", "2.0.1")
    report = world.doctor()
    assert "user-site-shadowing" not in [f["code"] for f in report["findings"]]
    assert report["facts"]["user_site"]["enabled"] is False


def test_a_venv_with_system_site_puts_the_user_site_after_its_own(world: World) -> None:
    """CPython's site.venv(): the venv's site-packages, then the user site, then the base's."""
    world.system_python("3.11")
    world.venv("/home/u/app/.venv", system_site=True)
    world.dist(world.site("/home/u/app/.venv", "3.11"), "torch", "2.5.1")
    world.dist("/usr/lib/python3/dist-packages", "numpy", "1.24.2", installer="debian")
    world.activate_venv("/home/u/app/.venv")
    world.dist(USER_SITE, "torch", "2.0.1")  # behind the venv's own torch: hides nothing
    report = world.doctor()
    roles = [s["role"] for s in report["facts"]["site_dirs"]]
    assert roles.index("user") == 1
    assert roles[0] == "site"
    assert "user-site-shadowing" not in [f["code"] for f in report["findings"]]
    world.dist(USER_SITE, "numpy", "2.0.0")  # ahead of the base's numpy: hides it
    found = finding(world.doctor(), "user-site-shadowing")
    assert any("numpy 2.0.0 (hides the environment's 1.24.2)" in e for e in found["evidence"])


def test_pythonuserbase_moves_the_user_site(world: World) -> None:
    with_frameworks(world)
    world.dist("/scratch/u/pyuser/lib/python3.11/site-packages", "torch", "2.0.1")
    world.env["PYTHONUSERBASE"] = "/scratch/u/pyuser"
    assert "user-site-shadowing" in world.codes()


# -- working directory --------------------------------------------------------------------------


def test_cwd_with_a_torch_package_shadows_the_installed_one(world: World) -> None:
    with_frameworks(world)
    world.file("/home/u/pytorch/torch/__init__.py", "")
    world.env["PWD"] = "/home/u/pytorch"
    report = world.doctor()
    assert_diagnosis(report, must=["cwd-shadows-package"], primary="cwd-shadows-package")


def test_cwd_with_a_module_file_shadows(world: World) -> None:
    with_frameworks(world)
    world.file("/home/u/work/torch.py", "print('hi')\n")
    world.env["PWD"] = "/home/u/work"
    assert "cwd-shadows-package" in world.codes()


def test_cwd_with_a_bare_directory_does_not_shadow(world: World) -> None:
    with_frameworks(world)
    world.mkdir("/home/u/work/torch")  # a namespace portion loses to the regular package
    world.env["PWD"] = "/home/u/work"
    assert_diagnosis(world.doctor(), max_severity="info")


def test_cwd_package_of_a_framework_that_is_not_installed(world: World) -> None:
    with_frameworks(world)
    world.file("/home/u/work/cupy/__init__.py")
    world.env["PWD"] = "/home/u/work"
    assert "cwd-shadows-package" not in world.codes()


def test_pythonsafepath_keeps_the_cwd_off_sys_path(world: World) -> None:
    with_frameworks(world)
    world.file("/home/u/pytorch/torch/__init__.py", "")
    world.env["PWD"] = "/home/u/pytorch"
    world.env["PYTHONSAFEPATH"] = "1"
    assert "cwd-shadows-package" not in world.codes()


def test_cwd_nvidia_namespace_package_with_init_shadows_the_wheels(world: World) -> None:
    with_frameworks(world)
    world.dist(ML_SITE, "nvidia-cublas-cu12", "12.4.5.8")
    world.file("/home/u/work/nvidia/__init__.py")
    world.env["PWD"] = "/home/u/work"
    assert "cwd-shadows-package" in world.codes()
