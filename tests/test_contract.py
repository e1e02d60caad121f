"""The JSON report against the schema shipped in the package; snapshots round-trip."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from cudaenv import collect
from cudaenv.errors import SnapshotFormatError
from cudaenv.snapshot import Snapshot
from worlds import World


def schema() -> dict[str, Any]:
    text = resources.files("cudaenv").joinpath("schemas/report.schema.json").read_text()
    result: dict[str, Any] = json.loads(text)
    return result


def busy_world(world: World) -> World:
    """One world that raises many findings, to exercise every part of the report."""
    base = "/home/u/miniconda3"
    world.system_python("3.11")
    world.conda_base(base)
    world.conda_env(f"{base}/envs/ml", python=None)
    world.conda_env(f"{base}/envs/old", python="3.9.18")
    world.dist(f"{base}/envs/old/lib/python3.9/site-packages", "numpy", "1.24.4")
    world.activate_conda(f"{base}/envs/ml")
    world.env["PATH"] += f":{base}/bin"
    world.env["PYTHONPATH"] = f"{base}/envs/old/lib/python3.9/site-packages"
    world.env["PIP_TARGET"] = "/tmp/x"
    world.env["PYTHONHOME"] = "/opt/py"
    world.file("/home/u/.local/share/jupyter/kernels/x/kernel.json", "[]")
    return world


def test_reports_validate_against_the_shipped_schema(world: World) -> None:
    report = busy_world(world).doctor()
    assert len(report["findings"]) >= 4
    jsonschema.validate(report, schema())


def test_schema_rejects_a_finding_without_a_fix_list(world: World) -> None:
    report = busy_world(world).doctor()
    del report["findings"][0]["fix"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, schema())


def test_snapshot_round_trips_through_json(world: World) -> None:
    busy_world(world)
    snap = collect(str(world.root), world.env)
    again = Snapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert again == snap


def test_snapshot_of_another_schema_is_refused() -> None:
    with pytest.raises(SnapshotFormatError, match="not a cudaenv snapshot"):
        Snapshot.from_dict({"schema": "something/1"})
    with pytest.raises(SnapshotFormatError, match="unsupported"):
        Snapshot.from_dict({"schema": "cudaenv.snapshot/9", "target": {"chosen_by": "none"}})
    with pytest.raises(SnapshotFormatError, match=r"\$\.target"):
        Snapshot.from_dict({"schema": "cudaenv.snapshot/1", "target": []})


def test_records_are_frozen_and_compare_by_value() -> None:
    from cudaenv.snapshot import Problem

    a = Problem("/x", "denied")
    assert a == Problem("/x", "denied")
    assert a != Problem("/x", "other")
    assert hash(a) == hash(Problem("/x", "denied"))
    assert repr(a) == "Problem(path='/x', error='denied')"
    with pytest.raises(AttributeError, match="frozen"):
        a.path = "/y"  # type: ignore[misc]
    assert not hasattr(a, "__dict__")


def test_which_all_takes_no_name(world: World, tmp_path: Any) -> None:
    """The spec's form: ``cudaenv which --from FILE --all --format json``, no NAME."""
    import io
    from contextlib import redirect_stderr

    from cudaenv._cli import main
    from cudaworld import pip_torch
    from worlds import ML_SITE, ml_world

    ml_world(world)
    pip_torch(world, ML_SITE)
    env = tmp_path / "env.json"
    env.write_text(json.dumps(world.env))
    common = ["--root", str(world.root), "--env-file", str(env), "--format", "json"]
    program = f"{ML_SITE}/torch/_C.cpython-311-x86_64-linux-gnu.so"
    out = io.StringIO()
    assert main(["which", "--from", program, "--all", *common], out) == 0
    names = [o["name"] for o in json.loads(out.getvalue())["objects"]]
    assert "libtorch_cuda.so" in names
    err = io.StringIO()
    with redirect_stderr(err):
        assert main(["which", *common], io.StringIO()) == 2
    assert "needs a library NAME" in err.getvalue()


def run_which(*argv: str) -> tuple[int, str, str]:
    import io
    from contextlib import redirect_stderr

    from cudaenv._cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        status = main(["which", *argv], out)
    return status, out.getvalue(), err.getvalue()


def test_which_exits_1_when_nothing_is_found_and_refuses_bad_input(
    world: World, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cudaworld import place, simple
    from worlds import ml_world

    ml_world(world)
    place(world, "/opt/lib/libfound.so.1", simple("libfound.so.1"))
    world.env["LD_LIBRARY_PATH"] = "/opt/lib"
    world.env["PWD"] = "/opt"
    world.file("/opt/notes.txt", "not a library\n")
    env = tmp_path / "env.json"
    env.write_text(json.dumps(world.env))
    common = ["--root", str(world.root), "--env-file", str(env), "--format", "json"]
    status, out, _ = run_which("libnothere.so.7", *common)
    assert status == 1
    assert json.loads(out)["path"] is None
    assert run_which("libfound.so.1", *common)[0] == 0
    assert run_which("", *common)[0] == 2
    status, _, err = run_which("libfound.so.1", "--from", "notes.txt", *common)
    assert status == 2
    assert "--from /opt/notes.txt: not an ELF file" in err  # relative to the world's PWD
    status, out, _ = run_which("libfound.so.1", "--from", "lib/libfound.so.1", *common)
    assert (status, json.loads(out)["path"]) == (0, "/opt/lib/libfound.so.1")
    # on the live root, relative to the working directory
    monkeypatch.chdir(world.real("/opt"))
    status, _, err = run_which("libc.so.6", "--from", "notes.txt")
    assert status == 2
    assert f"--from {world.real('/opt/notes.txt')}: not an ELF file" in err


def test_the_api_raises_what_the_command_line_reports(tmp_path: Any) -> None:
    """The library gives the CLI's errors, not a quiet report: a missing root is a
    WorldError, a dict is not a Snapshot."""
    from cudaenv import check, diagnose
    from cudaenv.errors import WorldError

    with pytest.raises(WorldError, match="no such directory"):
        diagnose(str(tmp_path / "nonexistent"), {})
    with pytest.raises(SnapshotFormatError, match="takes a Snapshot, not dict"):
        check({"schema": "cudaenv.snapshot/1"})  # type: ignore[arg-type]
