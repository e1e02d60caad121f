"""``cudaenv fleet --from DIR``: nodes grouped by CUDA stack, the odd ones out and why.

Each node is a world of real ELF files (a pip-installed CUDA torch, the NVIDIA wheels, a
driver), snapshotted by ``cudaenv snapshot`` as a node would; one node differs in one way.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from cudaenv._cli import main
from cudaenv._fleet import NodeInput, aggregate, cuda_stack, fleet_to_dict
from cudaworld import node_world
from worlds import World


def run_cli(*argv: str, expect: int = 0) -> str:
    from io import StringIO

    out = StringIO()
    assert main(list(argv), stdout=out) == expect
    return out.getvalue()


def snapshot_of(world: World, out: Path) -> dict[str, Any]:
    run_cli(
        "snapshot", "--root", str(world.root), "--env-file", str(world.write_env()), "-o", str(out)
    )
    data: dict[str, Any] = json.loads(out.read_text())
    return data


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gpu01..gpu06 alike; gpu04 with an older libnvJitLink first on LD_LIBRARY_PATH."""
    base = tmp_path_factory.mktemp("fleet")
    directory = base / "snapshots"
    directory.mkdir()
    plain = snapshot_of(node_world(base / "plain"), base / "plain.json")
    odd = snapshot_of(node_world(base / "odd", odd_ld_path=True), base / "odd.json")
    for i in range(1, 7):
        (directory / f"gpu{i:02d}.json").write_text(json.dumps(odd if i == 4 else plain))
    return directory


def test_the_odd_node_is_named_with_why(snapshots: Path) -> None:
    fleet = json.loads(run_cli("fleet", "--from", str(snapshots), "--format", "json"))
    assert fleet["schema"] == "cudaenv.fleet/1"
    jsonschema = pytest.importorskip("jsonschema")
    schema = resources.files("cudaenv").joinpath("schemas/fleet.schema.json").read_text()
    jsonschema.validate(fleet, json.loads(schema))
    assert fleet["nodes"] == 6
    assert [g["nodes"] for g in fleet["groups"]] == [
        ["gpu01", "gpu02", "gpu03", "gpu05", "gpu06"],
        ["gpu04"],
    ]
    [outlier] = fleet["outliers"]
    assert outlier["node"] == "gpu04"
    differs = "\n".join(outlier["differs"])
    assert "libraries[libnvJitLink.so.12]" in differs  # the loader picks another file there
    assert "12.1.105" in differs
    assert "environ.LD_LIBRARY_PATH" in differs  # and why
    codes = {f["code"] for f in outlier["findings"]}
    assert {"symbol-version-missing", "library-shadowed"} <= codes
    per_code = {f["code"]: f["nodes"] for f in fleet["findings"]}
    assert per_code["symbol-version-missing"] == ["gpu04"]
    assert fleet["failed"] == []


def test_text_view(snapshots: Path) -> None:
    text = run_cli("fleet", "--from", str(snapshots))
    assert text.startswith("cudaenv fleet — 6 nodes: 5 alike, 1 outlier, 0 failed")
    assert "Majority (5): gpu01, gpu02, gpu03, gpu05, gpu06" in text
    assert "driver 550.54.15" in text
    assert "1x NVIDIA H100 80GB HBM3 (9.0)" in text
    assert "  gpu04  (group 2)" in text
    assert "✗ symbol-version-missing" in text
    assert "     1/6  ✗ symbol-version-missing" in text
    markdown = run_cli("fleet", "--from", str(snapshots), "--format", "markdown")
    assert "### Outlier `gpu04` (group 2)" in markdown


def test_fail_on_gates(snapshots: Path, tmp_path: Path) -> None:
    run_cli("fleet", "--from", str(snapshots), "--fail-on", "outlier", expect=1)
    run_cli("fleet", "--from", str(snapshots), "--fail-on", "failed", expect=0)
    alike = tmp_path / "alike"
    alike.mkdir()
    for name in ("gpu01.json", "gpu02.json"):
        shutil.copy(snapshots / name, alike / name)
    run_cli("fleet", "--from", str(alike), "--fail-on", "outlier", expect=0)


def test_redacted_and_unredacted_snapshots_compare_alike(snapshots: Path, tmp_path: Path) -> None:
    """A node snapshotted with --no-redact (as a Dask worker's are), another user's home:
    neither is a difference in the CUDA stack."""
    directory = tmp_path / "mixed"
    shutil.copytree(snapshots, directory)
    (directory / "gpu04.json").unlink()  # the odd one
    world = node_world(tmp_path / "world")
    env_file = str(world.write_env())
    out = directory / "gpu07.json"
    run_cli(
        "snapshot", "--no-redact", "--root", str(world.root), "--env-file", env_file, "-o", str(out)
    )
    assert '"/home/u/miniconda3' in out.read_text()
    fleet = json.loads(run_cli("fleet", "--from", str(directory), "--format", "json"))
    assert [g["nodes"] for g in fleet["groups"]] == [
        ["gpu01", "gpu02", "gpu03", "gpu05", "gpu06", "gpu07"]
    ]
    assert fleet["outliers"] == []


def test_unreadable_and_foreign_files_are_failed_nodes(snapshots: Path, tmp_path: Path) -> None:
    directory = tmp_path / "mixed"
    shutil.copytree(snapshots, directory)
    (directory / "gpu07.json").write_text("{not json")
    (directory / "gpu08.json").write_text(json.dumps({"schema": "something/1"}))
    future = json.loads((snapshots / "gpu01.json").read_text())
    future["schema"] = "cudaenv.snapshot/99"
    (directory / "gpu09.json").write_text(json.dumps(future))
    (directory / "notes.txt").write_text("ignored")
    fleet = json.loads(run_cli("fleet", "--from", str(directory), "--format", "json"))
    assert fleet["nodes"] == 9
    assert [f["node"] for f in fleet["failed"]] == ["gpu07", "gpu08", "gpu09"]
    assert all(f["error"] for f in fleet["failed"])


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fleet", "--from", str(tmp_path / "nowhere")]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert main(["fleet", "--from", str(tmp_path)]) == 2
    assert "no snapshot files" in capsys.readouterr().err


def test_a_different_driver_is_its_own_group(tmp_path: Path) -> None:
    plain = snapshot_of(node_world(tmp_path / "a"), tmp_path / "a.json")
    older = snapshot_of(
        node_world(tmp_path / "b", driver_version="535.183.01"), tmp_path / "b.json"
    )
    nodes = [NodeInput(f"n{i}", plain) for i in range(3)] + [NodeInput("n9", older)]
    fleet = fleet_to_dict(aggregate(nodes))
    assert [len(g["nodes"]) for g in fleet["groups"]] == [3, 1]
    assert fleet["groups"][1]["stack"]["driver"]["version"] == "535.183.01"
    [outlier] = fleet["outliers"]
    assert any(d.startswith("~ driver.version") for d in outlier["differs"])
    assert cuda_stack(plain)["driver"]["version"] == "550.54.15"


def test_findings_sent_by_a_node_are_used_as_sent() -> None:
    empty: dict[str, Any] = {"schema": "cudaenv.snapshot/1", "target": {"chosen_by": "none"}}
    sent = [{"code": "driver-missing", "severity": "error", "title": "t"}]
    fleet = aggregate([NodeInput("a", empty, sent), NodeInput("b", empty, [])])
    assert fleet.findings["driver-missing"]["nodes"] == ["a"]


def test_a_fifo_among_the_snapshots_is_a_failed_node_not_a_hang(
    snapshots: Path, tmp_path: Path
) -> None:
    import os
    import shutil

    directory = tmp_path / "snaps"
    shutil.copytree(snapshots, directory)
    os.mkfifo(directory / "gpu99.json")  # opened for reading, it would wait for a writer
    document = json.loads(run_cli("fleet", "--from", str(directory), "--format", "json"))
    assert {"node": "gpu99", "error": "gpu99.json: a FIFO, not a file"} in document["failed"]
    assert document["nodes"] == 7  # every node, the failed one included
