"""Plans: findings' actions merged into one coherent, ordered set of steps."""

from __future__ import annotations

from pathlib import Path

from cudaenv import actions as act
from cudaenv._fix.environ import apply_variables, path_value
from cudaenv._fix.plan import VariableChange, build_plan
from cudaenv._fix.render import plan_text
from cudaenv._fix.shells import command_line, variable_lines
from cudaenv.api import collect
from cudaenv.findings import Finding, Report
from worlds import ML, World, ml_world

CUDNN = "nvidia-cudnn-cu12==9.1.0.70"


def report(world: World, *findings: Finding) -> Report:
    return Report(collect(str(world.root), world.env), findings)


def found(
    code: str, *actions: act.Action, severity: str = "error", fix: tuple[str, ...] = ()
) -> Finding:
    return Finding(code, severity, code, code, (), fix, 0, actions)


def test_variables_merge_and_conflicts_are_reported(world: World) -> None:
    ml_world(world)
    plan = build_plan(
        report(
            world,
            found("cuda-home-invalid", act.set_var("CUDA_HOME", "/usr/local/cuda-12.4", "a")),
            found("cuda-home-unset", act.set_var("CUDA_HOME", "/opt/cuda-11.8", "b")),
            found("library-shadowed", act.drop_path("LD_LIBRARY_PATH", ("/old/lib",), "c")),
            found(
                "driver-library-unreachable",
                act.prepend_path("LD_LIBRARY_PATH", ("/usr/lib/wsl/lib",), "d"),
            ),
            found("stale-path-entry", act.drop_path("LD_LIBRARY_PATH", ("/old/lib",), "e")),
        )
    )
    variables = {v.name: v for v in plan.variables}
    assert variables["CUDA_HOME"].value == "/usr/local/cuda-12.4"
    assert variables["LD_LIBRARY_PATH"].prepend == ("/usr/lib/wsl/lib",)
    assert variables["LD_LIBRARY_PATH"].drop == ("/old/lib",)
    assert variables["LD_LIBRARY_PATH"].codes == (
        "library-shadowed",
        "driver-library-unreachable",
        "stale-path-entry",
    )
    assert len(plan.conflicts) == 1
    assert "cuda-home-unset wants CUDA_HOME set to /opt/cuda-11.8" in plan.conflicts[0]


def test_packages_merge_into_ordered_commands(world: World) -> None:
    ml_world(world)
    plan = build_plan(
        report(
            world,
            found("torch-cpu-build", act.pip_install(("torch",), "a", "--index-url", "URL")),
            found(
                "cuda-wheel-requirements-unmet",
                act.pip_install(("nvidia-cudnn-cu12==9.1.0.70",), "b"),
            ),
            found("library-missing", act.pip_install(("nvidia-cudnn-cu12==9.1.0.70",), "c")),
            found(
                "cupy-multiple-packages",
                act.pip_uninstall(("cupy-cuda11x", "cupy-cuda12x"), "d"),
                act.pip_install(("cupy-cuda12x",), "e"),
            ),
            found("torch-companion-mismatch", act.pip_install(("torch==2.4.0",), "f")),
        )
    )
    python = f"{ML}/bin/python"
    assert [step.argv for step in plan.packages] == [
        (python, "-m", "pip", "uninstall", "-y", "cupy-cuda11x", "cupy-cuda12x"),
        (python, "-m", "pip", "install", "--index-url", "URL", "torch"),
        (python, "-m", "pip", "install", "nvidia-cudnn-cu12==9.1.0.70", "cupy-cuda12x"),
    ]
    assert plan.packages[2].codes == (
        "cuda-wheel-requirements-unmet",
        "library-missing",
        "cupy-multiple-packages",
    )
    assert plan.conflicts == (
        "torch-companion-mismatch wants pip install torch==2.4.0; kept torch",
    )


def test_findings_without_actions_become_manual_steps(world: World) -> None:
    ml_world(world)
    plan = build_plan(
        report(
            world,
            found("driver-missing", fix=("install the NVIDIA driver",)),
            found("cwd-shadows-package", fix=("cd elsewhere",), severity="warning"),
            found("stale-path-entry", act.drop_path("PATH", ("/gone",), ""), severity="info"),
        )
    )
    assert [m.text for m in plan.manual] == ["install the NVIDIA driver", "cd elsewhere"]
    assert plan.variables == ()  # info findings only with --info
    with_info = build_plan(
        report(
            world, found("stale-path-entry", act.drop_path("PATH", ("/gone",), ""), severity="info")
        ),
        info=True,
    )
    assert with_info.variables[0].drop == ("/gone",)


def test_shared_environments_are_protected(world: World) -> None:
    ml_world(world)
    world.env["CONDA_PREFIX"] = "/home/u/miniconda3"
    world.env["CONDA_DEFAULT_ENV"] = "base"
    world.env["CONDA_SHLVL"] = "1"
    world.env.pop("CONDA_PREFIX_1", None)
    world.env["PATH"] = "/home/u/miniconda3/bin:/usr/bin:/bin"
    finding = found("pip-install-redirected", act.unset_var("PIP_TARGET", ""))
    assert build_plan(report(world, finding)).protected is True
    assert build_plan(report(world, finding), force=True).protected is False


def test_path_values_keep_order_and_drop_duplicates() -> None:
    change = VariableChange("LD_LIBRARY_PATH", "path", None, ("/a",), ("/b",))
    assert path_value("/c:/b:/a:/d", change) == "/a:/c:/d"
    assert path_value(None, VariableChange("X", "path", None, (), ("/b",))) is None
    environ, changed = apply_variables(
        {"CUDA_HOME": "/x", "PIP_TARGET": "/t"},
        (
            VariableChange("CUDA_HOME", "set", "/x"),
            VariableChange("PIP_TARGET", "unset"),
            VariableChange("PYTHONNOUSERSITE", "set", "1"),
        ),
    )
    assert environ == {"CUDA_HOME": "/x", "PYTHONNOUSERSITE": "1"}
    assert changed == [("PIP_TARGET", "/t", None), ("PYTHONNOUSERSITE", None, "1")]


def test_each_shells_syntax() -> None:
    assert variable_lines("bash", "X", "a b") == ["export X='a b'"]
    assert variable_lines("zsh", "X", None) == ["unset X"]
    assert variable_lines("fish", "X", "it's") == ["set -gx X 'it\\'s'"]
    assert variable_lines("powershell", "X", "a'b") == ["$env:X = 'a''b'"]
    assert variable_lines("powershell", "X", None) == [
        "Remove-Item Env:X -ErrorAction SilentlyContinue"
    ]
    assert command_line("powershell", ["/p/python", "-m", "pip"]) == "& '/p/python' '-m' 'pip'"
    assert command_line("bash", ["/p y/python", "-c", "print(1)"]) == "'/p y/python' -c 'print(1)'"


def test_plan_text_for_a_world_names_no_files(world: World, tmp_path: Path) -> None:
    ml_world(world)
    plan = build_plan(report(world, found("cuda-home-unset", act.set_var("CUDA_HOME", "/c", ""))))
    text = plan_text(plan, world.env, "bash", applying=False, files=False)
    assert "CUDA_HOME=/c  [cuda-home-unset]" in text
    assert "export CUDA_HOME=/c" in text
    assert "files:" not in text


def test_ensurepip_comes_before_every_pip_step(world: World) -> None:
    """A plan that gives the environment its pip runs that first: the pip uninstall and
    install after it need it."""
    ml_world(world)
    plan = build_plan(
        report(
            world,
            found("cupy-multiple-packages", act.pip_uninstall(("cupy-cuda11x",), "one CuPy")),
            found("torch-cpu-build", act.pip_install(("torch",), "a CUDA torch")),
            found(
                "pip-other-interpreter",
                act.run_python(("-m", "ensurepip", "--upgrade"), "its own pip"),
            ),
        )
    )
    argvs = [step.argv[1:3] for step in plan.packages]
    assert argvs[0] == ("-m", "ensurepip")
    assert [a[:2] for a in argvs[1:]] == [("-m", "pip"), ("-m", "pip")]
