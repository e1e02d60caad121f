"""The command line: exit codes, one-line errors, formats, colour, demos, the live machine."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from cudaenv._cli import main
from cudaenv._demos import DEMOS, materialize
from worlds import World, assert_diagnosis


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def broken_world(world: World) -> World:
    world.system_python("3.11", pip=False)
    world.venv("/home/u/a/.venv", pip=False)
    world.script("/home/u/.local/bin/pip", "/usr/bin/python3")
    world.activate_venv("/home/u/a/.venv")
    world.env["PATH"] = "/home/u/a/.venv/bin:/home/u/.local/bin:/usr/bin"
    return world


def test_missing_root_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["doctor", "--root", str(tmp_path / "nope")], capsys)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("cudaenv: error: --root")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["PATH"]', "expected a JSON object"),
        ('{"PATH": 1}', "not a string"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_env_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, message: str
) -> None:
    env = tmp_path / "env.json"
    if isinstance(content, bytes):
        env.write_bytes(content)
    else:
        env.write_text(content)
    status, _, err = run(["doctor", "--root", str(tmp_path), "--env-file", str(env)], capsys)
    assert status == 2
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_missing_env_file_and_bad_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["doctor", "--env-file", str(tmp_path / "none.json")], capsys)
    assert (status, "no such file" in err) == (2, True)
    status, _, err = run(["doctor", "--format", "yaml"], capsys)
    assert status == 2
    assert err.count("\n") == 1
    status, _, err = run(["doctor", "--python", "/a", "--prefix", "/b"], capsys)
    assert status == 2
    assert "not allowed with" in err


def test_explicit_target_that_does_not_exist(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    env = world.write_env()
    status, _, err = run(
        [
            "doctor",
            "--root",
            str(world.root),
            "--env-file",
            str(env),
            "--python",
            "/nope/bin/python",
        ],
        capsys,
    )
    assert status == 2
    assert "--python /nope/bin/python: no such file" in err


def test_fail_on(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    broken_world(world)
    base = ["doctor", "--root", str(world.root), "--env-file", str(world.write_env())]
    assert run(base, capsys)[0] == 0
    assert run([*base, "--fail-on", "error"], capsys)[0] == 1
    world.env["PATH"] = "/home/u/a/.venv/bin:/usr/bin"
    world.script("/home/u/a/.venv/bin/pip", "/home/u/a/.venv/bin/python")
    base = ["doctor", "--root", str(world.root), "--env-file", str(world.write_env())]
    assert run([*base, "--fail-on", "warning"], capsys)[0] == 0


def test_root_and_env_file_default_to_the_cudaenv_variables(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CUDAENV_ROOT/CUDAENV_ENV_FILE stand for --root/--env-file; an option given wins."""
    broken_world(world)
    env_file = str(world.write_env())
    explicit = run(
        ["doctor", "--root", str(world.root), "--env-file", env_file, "--format", "json"], capsys
    )
    monkeypatch.setenv("CUDAENV_ROOT", str(world.root))
    monkeypatch.setenv("CUDAENV_ENV_FILE", env_file)
    assert run(["doctor", "--format", "json"], capsys) == explicit
    assert json.loads(explicit[1])["findings"]
    monkeypatch.setenv("CUDAENV_ROOT", str(world.base / "elsewhere"))
    status, _, err = run(["doctor", "--root", str(world.root), "--env-file", env_file], capsys)
    assert status == 0, err


def test_text_output_has_verdict_first_and_no_colour_off_a_terminal(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    broken_world(world)
    _, out, _ = run(
        ["doctor", "--root", str(world.root), "--env-file", str(world.write_env())], capsys
    )
    lines = out.splitlines()
    assert lines[0].startswith("cudaenv doctor — venv /home/u/a/.venv")
    assert lines[2].startswith("✗ 1 error: `pip` installs for another interpreter")
    assert "\033[" not in out
    assert "Fix" in out


def test_colour_is_forced_or_refused(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_world(world)
    args = ["doctor", "--root", str(world.root), "--env-file", str(world.write_env())]
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\033[1;31m" in run(args, capsys)[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in run(args, capsys)[1]
    assert "\033[" in run([*args, "--color", "always"], capsys)[1]


def test_markdown_output(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    broken_world(world)
    _, out, _ = run(
        [
            "doctor",
            "--root",
            str(world.root),
            "--env-file",
            str(world.write_env()),
            "--format",
            "markdown",
        ],
        capsys,
    )
    assert out.startswith("## cudaenv doctor: 1 error")
    assert "(`pip-other-interpreter`, error)" in out
    assert "<details>" in out


def test_healthy_world_text(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.system_python("3.11")
    world.venv("/home/u/ok")
    world.activate_venv("/home/u/ok")
    _, out, _ = run(
        ["doctor", "--root", str(world.root), "--env-file", str(world.write_env())], capsys
    )
    assert "✓ No problems found." in out


@pytest.mark.parametrize("name", list(DEMOS))
def test_every_demo_finds_what_it_promises(name: str, tmp_path: Path) -> None:
    demo = DEMOS[name]
    root, env_file = materialize(demo, str(tmp_path))
    out = io.StringIO()
    assert main(["doctor", "--root", root, "--env-file", env_file, "--format", "json"], out) == 0
    report = json.loads(out.getvalue())
    if demo.expect:
        assert_diagnosis(report, must=demo.expect, primary=demo.expect[0])
    else:
        assert_diagnosis(report, max_severity="info")


def test_demo_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, _ = run(["demo"], capsys)
    assert status == 0
    assert "env-without-python" in out
    assert "conda install -n ml python=3.12 pip" in out
    status, out, _ = run(["demo", "--list"], capsys)
    assert status == 0
    assert out.count("\n") == len(DEMOS)
    status, out, _ = run(["demo", "healthy-venv", "--extract", str(tmp_path / "w")], capsys)
    assert status == 0
    assert (tmp_path / "w/env.json").is_file()
    assert (tmp_path / "w/root/home/eve/app/.venv/pyvenv.cfg").is_file()
    status, _, err = run(["demo", "nope"], capsys)
    assert status == 2
    assert "choose from" in err
    # a non-empty directory, a file, a missing parent: refused, nothing written
    for target, message in (
        (tmp_path / "w", "not empty"),
        (tmp_path / "w/env.json", "not a directory"),
        (tmp_path / "no/such/w", "no such directory"),
    ):
        before = sorted(p.name for p in tmp_path.rglob("*"))
        status, _, err = run(["demo", "healthy-venv", "--extract", str(target)], capsys)
        assert (status, err.count("\n")) == (2, 1), err
        assert message in err
        assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_live_machine_gives_schema_valid_json() -> None:
    """`cudaenv doctor --root /` on this very machine, as a user would run it."""
    result = subprocess.run(
        [sys.executable, "-m", "cudaenv", "doctor", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    schema = json.loads(
        resources.files("cudaenv").joinpath("schemas/report.schema.json").read_text()
    )
    jsonschema.validate(report, schema)
    assert report["facts"]["root"] == "/"


def test_console_script_and_module_agree() -> None:
    exe = Path(sys.executable).parent / "cudaenv"
    if not exe.exists():
        pytest.fail(f"the console script is not installed next to {sys.executable}")
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    module = subprocess.run(
        [sys.executable, "-m", "cudaenv", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout == module.stdout
    assert version.stdout.startswith("cudaenv ")


def test_every_command_says_its_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    from cudaenv._cli import _build_parser
    from cudaenv._exitcodes import EXIT_STATUS

    parser = _build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(commands) == set(EXIT_STATUS)  # a new command needs its line in the table
    for name in commands:
        with pytest.raises(SystemExit):
            main([name, "--help"], io.StringIO())
        out = " ".join(capsys.readouterr().out.split())  # argparse wraps the epilog
        assert "exit status: " in out, name
        assert "2 usage error" in out, name


def test_doctor_text_fits_80_columns(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COLUMNS=80: the header, titles, details and evidence wrap; only a fix command (which
    must copy whole) or a single word longer than the line may pass the edge."""
    from test_contract import busy_world

    busy_world(world)
    env = tmp_path / "env.json"
    env.write_text(json.dumps(world.env))
    monkeypatch.setenv("COLUMNS", "80")
    out = io.StringIO()
    main(["doctor", "--root", str(world.root), "--env-file", str(env)], out)
    fix_step = False
    for line in out.getvalue().splitlines():
        if line.strip() == "Fix":
            fix_step = True
        elif not line.startswith("     "):
            fix_step = False
        if fix_step or len(line) <= 80:
            continue
        assert len(line.split()) == 1 or max(len(w) for w in line.split()) > 40, line
