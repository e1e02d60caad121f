"""Sharing a diagnosis: snapshots diagnosed elsewhere, diffs, redaction, Markdown and GitHub
formats, `explain`, and a JSON Schema for every JSON output."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cudaenv._cli import main
from cudaenv._explain import sections
from cudaenv._schema import GENERATED, generate
from cudaworld import PROC_VERSION, driver, pip_torch
from gpucode import FIXTURES
from worlds import ML_SITE, World, ml_world

DOCS = Path(__file__).resolve().parent.parent / "docs"


def run(*argv: str, expect: int = 0) -> str:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        status = main(list(argv), out)
    assert status == expect, err.getvalue()
    return out.getvalue()


def world_args(world: World) -> list[str]:
    return ["--root", str(world.root), "--env-file", str(world.write_env())]


def schema(name: str) -> dict[str, Any]:
    text = resources.files("cudaenv").joinpath(f"schemas/{name}").read_text()
    result: dict[str, Any] = json.loads(text)
    return result


@pytest.fixture
def gpu_world(world: World) -> World:
    ml_world(world)
    pip_torch(world, ML_SITE)
    driver(world, "470.82.01", gpus=("NVIDIA GeForce RTX 3090",))
    world.env["PIP_TARGET"] = "/home/u/pkgs"  # a finding with a path under the home
    return world


# -- snapshot, check, diff ----------------------------------------------------------------------


def test_check_of_a_snapshot_is_the_live_diagnosis(gpu_world: World, tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    run("snapshot", *world_args(gpu_world), "--no-redact", "-o", str(snapshot))
    doctor = json.loads(run("doctor", *world_args(gpu_world), "--format", "json"))
    checked = json.loads(run("check", str(snapshot), "--format", "json"))
    assert checked["findings"] == doctor["findings"]
    assert checked["facts"] == doctor["facts"]
    codes = {f["code"] for f in doctor["findings"]}
    assert {"pip-install-redirected", "driver-too-old"} <= codes


def test_a_redacted_snapshot_diagnoses_the_same(gpu_world: World, tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    run("snapshot", *world_args(gpu_world), "-o", str(snapshot))
    data = json.loads(snapshot.read_text())
    assert set(data["redacted"]) >= {"secrets", "home"}
    assert "/home/u" not in snapshot.read_text()
    assert data["environ"]["PIP_TARGET"] == "~/pkgs"
    checked = json.loads(run("check", str(snapshot), "--format", "json"))
    doctor = json.loads(run("doctor", *world_args(gpu_world), "--format", "json"))
    assert [(f["code"], f["severity"]) for f in checked["findings"]] == [
        (f["code"], f["severity"]) for f in doctor["findings"]
    ]
    redirected = next(f for f in checked["findings"] if f["code"] == "pip-install-redirected")
    assert redirected["evidence"] == ["PIP_TARGET=~/pkgs"]


def test_snapshot_validates_against_its_schema(gpu_world: World) -> None:
    data = json.loads(run("snapshot", *world_args(gpu_world), "--no-redact"))
    jsonschema.validate(data, schema("snapshot.schema.json"))


def test_check_refuses_what_is_not_a_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert main(["check", str(bad)], io.StringIO()) == 2
    bad.write_text('{"schema": "cudaenv.snapshot/9", "target": {"chosen_by": "none"}}')
    assert main(["check", str(bad)], io.StringIO()) == 2
    assert main(["check", str(tmp_path / "missing.json")], io.StringIO()) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3
    assert all(line.startswith("cudaenv: error: ") for line in errors)


def test_diff_of_worlds_differing_in_one_fact(world: World, tmp_path: Path) -> None:
    ml_world(world)
    world.env["CUDA_VISIBLE_DEVICES"] = "0"
    first = tmp_path / "a.json"
    run("snapshot", *world_args(world), "-o", str(first))
    world.env["CUDA_VISIBLE_DEVICES"] = "1"
    second = tmp_path / "b.json"
    run("snapshot", *world_args(world), "-o", str(second))
    text = run("diff", str(first), str(second), expect=1)  # they differ, as diff(1) says
    assert text.splitlines() == [
        "1 difference (1 about CUDA)",
        '~ environ.CUDA_VISIBLE_DEVICES: "0" → "1"',
    ]
    document = json.loads(run("diff", str(first), str(second), "--format", "json", expect=1))
    assert run("diff", str(first), str(first)) == "No differences.\n"
    jsonschema.validate(document, schema("diff.schema.json"))
    assert document["differences"] == [
        {
            "path": "environ.CUDA_VISIBLE_DEVICES",
            "kind": "changed",
            "before": "0",
            "after": "1",
            "cuda": True,
        }
    ]


def test_diff_puts_cuda_first(world: World, tmp_path: Path) -> None:
    ml_world(world)
    driver(world, "535.104.05")
    first = tmp_path / "a.json"
    run("snapshot", *world_args(world), "--no-redact", "-o", str(first))
    world.env["EDITOR"] = "vim"
    world.env["SHELL"] = "/bin/zsh"
    world.file("/proc/driver/nvidia/version", PROC_VERSION["proprietary"].format(v="550.54.14"))
    second = tmp_path / "b.json"
    run("snapshot", *world_args(world), "--no-redact", "-o", str(second))
    lines = run("diff", str(first), str(second), expect=1).splitlines()[1:]
    assert lines[:2] == [
        '~ driver.cuda: "12.2" → "12.4"',
        '~ driver.version: "535.104.05" → "550.54.14"',
    ]
    assert lines[-1].startswith("~ environ.SHELL")


# -- redaction -----------------------------------------------------------------------------------


def test_no_output_carries_a_planted_secret(secret_world: World, tmp_path: Path) -> None:
    args = world_args(secret_world)
    outputs = {
        fmt: run("doctor", *args, "--format", fmt) for fmt in ("text", "json", "markdown", "github")
    }
    outputs["snapshot"] = run("snapshot", *args)
    outputs["fix"] = run("fix", *args)
    outputs["fix json"] = run("fix", *args, "--format", "json")
    snapshot = tmp_path / "s.json"
    snapshot.write_text(outputs["snapshot"])
    outputs["check"] = run("check", str(snapshot), "--format", "markdown")
    for name, text in outputs.items():
        for number in (1, 2, 3, 4, 6, 7, 8, 9):
            assert f"SECRET-000{number}" not in text, (name, number)
    # and they were there to leak: --no-redact keeps them
    kept = run("doctor", *args, "--format", "json", "--no-redact")
    assert "SECRET-0001" in kept
    assert "SECRET-0004" in kept
    assert "SECRET-0009" in kept


def test_markdown_redacts_home_user_and_host(gpu_world: World) -> None:
    gpu_world.file("/etc/hostname", "gpu-box-17\n")
    gpu_world.env["USER"] = "ana"
    text = run("doctor", *world_args(gpu_world), "--format", "markdown")
    assert "/home/u/" not in text
    assert "~/miniconda3/envs/ml" in text
    assert "gpu-box-17" not in text
    assert "redacted: secrets, home, user, host" in text
    kept = run("doctor", *world_args(gpu_world), "--format", "markdown", "--no-redact")
    assert "/home/u/miniconda3/envs/ml" in kept


def test_markdown_has_a_summary_and_collapsible_details(gpu_world: World) -> None:
    text = run("doctor", *world_args(gpu_world), "--format", "markdown")
    first = text.splitlines()[0]
    assert first.startswith("## cudaenv doctor: ")
    assert "error" in first
    assert "**Machine:** NVIDIA driver 470.82.01 (CUDA 11.4)" in text
    assert "<details><summary>Driver and GPUs</summary>" in text
    assert "<details><summary>Frameworks</summary>" in text
    assert "**Fix**" in text


def test_github_annotations(gpu_world: World) -> None:
    lines = run("doctor", *world_args(gpu_world), "--format", "github").splitlines()
    errors = [line for line in lines if line.startswith("::error title=")]
    assert any("[pip-install-redirected]::" in line for line in errors)
    assert all("\n" not in line for line in lines)
    assert lines[-1].startswith("cudaenv: ")
    drifted = next(line for line in errors if "[driver-too-old]" in line)
    assert "%0AFix:%0A1. " in drifted


# -- explain -----------------------------------------------------------------------------------


def test_explain_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    text = run("explain", "driver-missing")
    assert text.startswith("driver-missing\n==============\n")
    assert "CPU builds" in text
    assert main(["explain", "driver-mising"], io.StringIO()) == 2
    assert "did you mean driver-missing" in capsys.readouterr().err
    assert run("explain", "Driver-Missing") == text  # codes in any case
    assert "**" not in text  # text for a terminal, not Markdown
    assert "`" not in text
    listing = run("explain", "--list").splitlines()
    assert len(listing) == len(sections())
    assert listing[0].split() == ["pythonhome-set", "Interpreters,", "pip", "and", "conda"]
    assert main(["explain"], io.StringIO()) == 2


def test_dash_v_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["-V"], io.StringIO())
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith("cudaenv ")


def test_the_packaged_reference_is_the_docs() -> None:
    packaged = resources.files("cudaenv").joinpath("data/findings.md").read_text()
    assert packaged == (DOCS / "findings.md").read_text()


# -- schemas ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_schemas_are_current(name: str) -> None:
    assert schema(name) == json.loads(generate(name)), "run: python -m cudaenv._schema"


def test_every_json_output_validates(gpu_world: World) -> None:
    args = world_args(gpu_world)
    jsonschema.validate(
        json.loads(run("fix", *args, "--format", "json")), schema("plan.schema.json")
    )
    jsonschema.validate(
        json.loads(run("toolkits", *args, "--format", "json")), schema("toolkits.schema.json")
    )
    # not in this world: which exits 1, and still answers in JSON
    which = json.loads(run("which", "libcudart.so.12", *args, "--format", "json", expect=1))
    jsonschema.validate(which, schema("which.schema.json"))
    tree = json.loads(
        run(
            "which",
            "x",
            "--from",
            f"{ML_SITE}/torch/lib/libtorch_cuda.so",
            "--all",
            *args,
            "--format",
            "json",
        )
    )
    jsonschema.validate(tree, schema("which.schema.json"))
    archs = json.loads(run("archs", str(FIXTURES / "libsmall.so"), "--format", "json"))
    jsonschema.validate(archs, schema("archs.schema.json"))


def test_every_json_document_names_its_schema(gpu_world: World) -> None:
    """`schema` in every JSON document, equal to its JSON Schema's `$id`."""
    args = world_args(gpu_world)
    outputs = {
        "which.schema.json": run("which", "libc.so.6", *args, "--format", "json", expect=1),
        "toolkits.schema.json": run("toolkits", *args, "--format", "json"),
        "archs.schema.json": run("archs", str(FIXTURES / "libsmall.so"), "--format", "json"),
        "plan.schema.json": run("fix", *args, "--format", "json"),
    }
    for name, text in outputs.items():
        assert json.loads(text)["schema"] == schema(name)["$id"], name
