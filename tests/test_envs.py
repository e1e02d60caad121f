"""`cudaenv envs` / `doctor --all`: every environment on a machine, each diagnosed as if alone.

The machine is real: 100 conda envs of 300 packages installed by py-rattler (clones of three
rattler-installed templates, hard-linked as conda links from its package cache), pixi
projects, venvs made by `python -m venv` (plain, uv projects, pipx and uv tools), a pyenv
version and a Jupyter kernel.
"""

from __future__ import annotations

import io
import json
import os
import time
from contextlib import redirect_stderr
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cudaenv import api
from cudaenv._cli import main
from cudaenv._envscli import _ProgressBar
from cudaenv._host import Host, SharedReads
from cudaenv._survey import survey
from cudaenv._surveyed import Survey, headline, summarize
from cudaenv._workers import run_tasks
from machine import Machine, build_machine
from realenv import PY
from worlds import World


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> Machine:
    built = build_machine(tmp_path_factory.mktemp("machine"))
    # conda keeps listing an environment after its directory is deleted by hand
    registry = built.home / ".conda" / "environments.txt"
    stale = built.home / "deleted-env"
    registry.write_text(registry.read_text() + f"{stale}\n")
    return built


def host_factory(environ: dict[str, str]) -> Any:
    def make(shared: SharedReads | None) -> Host:
        return Host("/", environ, live_cwd=environ["PWD"], shared=shared)

    return make


@pytest.fixture(scope="module")
def kept(machine: Machine) -> Survey:
    """The survey with each environment's full report kept (one process)."""
    return survey(host_factory(machine.environ), keep_reports=True)


def run_cli(*argv: str, expect: int = 0) -> str:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        status = main(list(argv), out)
    assert status == expect, (status, err.getvalue())
    return out.getvalue() if expect != 2 else err.getvalue()


def env_file(machine: Machine) -> str:
    path = machine.home.parent / "env.json"
    path.write_text(json.dumps(machine.environ))
    return str(path)


# -- discovery --------------------------------------------------------------------------------


def test_every_environment_is_found_once(machine: Machine, kept: Survey) -> None:
    prefixes = [e.prefix for e in kept.entries]
    assert len(prefixes) == len(set(prefixes))
    expected = {
        str(machine.conda_root),
        *map(str, machine.conda_envs),
        *map(str, machine.pixi_envs),
        *map(str, machine.venvs),
        str(machine.home / ".pyenv" / "versions" / f"{PY}.1"),
        str(machine.home / "deleted-env"),
    }
    assert expected <= set(prefixes)
    # Anything else is what `cudaenv doctor` alone would diagnose: the python on PATH.
    extra = set(prefixes) - expected
    assert all(e.active for e in kept.entries if e.prefix in extra)
    assert len(extra) <= 1
    assert len(machine.conda_envs) == 100


def test_sources_say_how_each_was_found(machine: Machine, kept: Survey) -> None:
    sources = {e.prefix: e.sources for e in kept.entries}
    envs_dir = machine.conda_root / "envs"
    assert sources[str(envs_dir / "env000")] == (f"conda (envs_dirs ({envs_dir}))",)
    assert sources[str(machine.home / "elsewhere" / "env009")] == ("conda (environments.txt)",)
    # the Jupyter kernel starts env001's python: one row, found both ways
    assert sources[str(envs_dir / "env001")][-1] == 'jupyter kernel "env001"'
    pixi = machine.projects / "pixi0"
    assert sources[str(pixi / ".pixi" / "envs" / "default")] == (f"pixi project {pixi}",)
    uv = machine.projects / "uvproject"
    assert sources[str(uv / ".venv")] == (f"uv project {uv}",)
    app = machine.projects / "app0"
    assert sources[str(app / ".venv")] == (f"venv under {app}",)
    share = machine.home / ".local" / "share"
    assert sources[str(share / "pipx" / "venvs" / "black")] == ("pipx",)
    assert sources[str(share / "uv" / "tools" / "ruff")] == ("uv tool",)


def test_readiness_of_each_kind_of_environment(machine: Machine, kept: Survey) -> None:
    by_prefix = {e.prefix: e for e in kept.entries}
    envs = machine.conda_root / "envs"
    torch_env = by_prefix[str(envs / "env001")]
    assert torch_env.summary is not None
    assert [(f.name, f.cuda) for f in torch_env.summary.frameworks] == [("torch", "12.4")]
    # no GPU and no driver here: a CUDA build is blocked by an error
    assert torch_env.readiness == "blocked"
    assert headline(torch_env) is not None
    assert by_prefix[str(envs / "env000")].readiness == "no-framework"
    no_python = by_prefix[str(envs / "env003")]
    assert no_python.readiness == "no-python"
    headline_finding = headline(no_python)
    assert headline_finding is not None
    assert headline_finding.code == "env-without-python"
    assert by_prefix[str(machine.home / "deleted-env")].readiness == "missing"
    # a conda env the shell has not activated: that is not the environment's fault
    assert headline(by_prefix[str(envs / "env000")]) is None
    assert any(
        f.code == "conda-env-not-activated" for f in by_prefix[str(envs / "env000")].findings
    )


# -- identical to each environment alone ------------------------------------------------------


def test_each_environment_is_diagnosed_as_if_alone(machine: Machine, kept: Survey) -> None:
    compared = 0
    for entry in kept.entries:
        if entry.report is None:
            assert entry.summary is None
            continue
        alone = api.diagnose("/", machine.environ, prefix=entry.prefix)
        assert entry.report.snapshot == alone.snapshot, entry.prefix
        assert entry.findings == alone.findings, entry.prefix
        assert entry.summary == summarize(alone)
        compared += 1
    assert compared >= 100


def test_forked_workers_give_the_same_entries(machine: Machine, kept: Survey) -> None:
    forked = survey(host_factory(machine.environ), workers=2)
    assert [e.prefix for e in forked.entries] == [e.prefix for e in kept.entries]
    for a, b in zip(forked.entries, kept.entries):
        assert (a.summary, a.findings, a.error, a.active) == (
            b.summary,
            b.findings,
            b.error,
            b.active,
        )
        assert a.report is None


# -- the command line ---------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    text = resources.files("cudaenv").joinpath("schemas/envs.schema.json").read_text()
    result: dict[str, Any] = json.loads(text)
    return result


def test_json_follows_its_schema_and_doctor_all_is_envs(machine: Machine, kept: Survey) -> None:
    args = ["--env-file", env_file(machine), "--under", str(machine.projects)]
    document = json.loads(run_cli("envs", *args, "--format", "json"))
    jsonschema.validate(document, schema())
    assert len(document["environments"]) == len(kept.entries)
    assert sum(document["summary"].values()) == len(kept.entries)
    assert json.loads(run_cli("doctor", "--all", *args, "--format", "json")) == document
    detailed = json.loads(run_cli("envs", *args, "--format", "json", "--details", "--jobs", "1"))
    jsonschema.validate(detailed, schema())
    first = next(e for e in detailed["environments"] if e["readiness"] == "blocked")
    assert first["report"]["schema"] == "cudaenv.report/1"
    assert first["report"]["findings"] == first["findings"]


def test_text_shows_one_row_per_environment(machine: Machine, kept: Survey) -> None:
    text = run_cli("envs", "--env-file", env_file(machine), "--color", "never")
    lines = text.splitlines()
    assert lines[0].startswith(f"{len(kept.entries)} environments: ")
    for entry in kept.entries:
        shown = (
            "~" + entry.prefix[len(str(machine.home)) :]
            if entry.prefix.startswith(str(machine.home))
            else entry.prefix
        )
        rows = [
            line for line in lines if line.rstrip().endswith(shown) or f"{shown}  (default)" in line
        ]
        assert len(rows) == 1, entry.prefix
        assert rows[0].startswith(entry.readiness)
    assert "registered (conda (environments.txt)) but the directory is gone" in text
    assert "✗ env-without-python" in text


def test_details_and_markdown(machine: Machine) -> None:
    args = ["--env-file", env_file(machine), "--jobs", "2"]
    details = run_cli("envs", *args, "--details", "--color", "never")
    assert details.count("[env-without-python]") == 20
    markdown = run_cli("envs", *args, "--format", "markdown", "--details")
    assert str(machine.home) not in markdown  # the home is redacted for sharing
    assert "| ❌ blocked | conda-env | env001 |" in markdown
    # one collapsed report per environment that exists (the stale registration has none)
    environments = json.loads(run_cli("envs", *args, "--format", "json"))["environments"]
    assert markdown.count("<details><summary>`") == len(environments) - 1


def test_github_annotations_and_fail_on(machine: Machine) -> None:
    args = ["--env-file", env_file(machine)]
    github = run_cli("envs", *args, "--format", "github")
    assert "::error title=" in github
    assert "conda-env-not-activated" not in github
    run_cli("envs", *args, "--fail-on", "error", expect=1)


def test_usage_errors(machine: Machine, tmp_path: Path) -> None:
    args = ["--env-file", env_file(machine)]
    assert "goes with --all" in run_cli("doctor", *args, "--details", expect=2)
    assert "no such directory" in run_cli("envs", *args, "--under", str(tmp_path / "x"), expect=2)
    assert "--jobs" in run_cli("envs", *args, "--jobs", "0", expect=2)
    assert "--depth" in run_cli("envs", *args, "--depth", "-1", expect=2)
    assert "not allowed with" in run_cli("doctor", "--all", "--prefix", "/x", expect=2)


# -- worlds: discovery rules, redaction ----------------------------------------------------------


def test_discovery_in_a_world(world: World) -> None:
    world.conda_base()
    world.conda_env("/home/u/miniconda3/envs/ml")
    world.system_python()
    world.venv("/home/u/code/app/.venv")
    world.venv("/home/u/code/deep/a/b/c/d/e/.venv")  # deeper than --depth 4
    world.venv("/home/u/code/.cache/x/.venv")  # hidden directories are not walked
    world.conda_env("/home/u/code/proj/.pixi/envs/default")
    world.conda_env("/home/u/code/proj/.pixi/envs/cuda")
    world.link("/home/u/code/loop", "/home/u/code")  # links are not followed
    world.python_install("/home/u/.pyenv/versions/3.12.3", "3.12")
    world.venv("/home/u/.local/share/pipx/venvs/httpie")
    world.file(
        "/home/u/.local/share/jupyter/kernels/ml/kernel.json",
        json.dumps({"argv": ["/home/u/miniconda3/envs/ml/bin/python", "-m", "ipykernel"]}),
    )
    world.env["PWD"] = "/home/u/code"
    world.activate_conda("/home/u/miniconda3")
    out = run_cli(
        "envs", "--root", str(world.root), "--env-file", str(world.write_env()), "--format", "json"
    )
    document = json.loads(out)
    jsonschema.validate(document, schema())
    found = {e["prefix"]: e["sources"] for e in document["environments"]}
    assert found == {
        "/home/u/miniconda3": ["active (CONDA_PREFIX)", "conda (installation)"],
        "/home/u/miniconda3/envs/ml": [
            "conda (envs_dirs (/home/u/miniconda3/envs))",
            'jupyter kernel "ml"',
        ],
        "/home/u/code/proj/.pixi/envs/cuda": ["pixi project /home/u/code/proj"],
        "/home/u/code/proj/.pixi/envs/default": ["pixi project /home/u/code/proj"],
        "/home/u/code/app/.venv": ["venv under /home/u/code/app"],
        "/home/u/.pyenv/versions/3.12.3": ["pyenv"],
        "/home/u/.local/share/pipx/venvs/httpie": ["pipx"],
    }
    assert document["environments"][0]["active"] is True
    deeper = json.loads(
        run_cli(
            "envs",
            "--root",
            str(world.root),
            "--env-file",
            str(world.write_env()),
            "--format",
            "json",
            "--depth",
            "8",
            "--under",
            "/home/u/code/deep",
        )
    )
    assert "/home/u/code/deep/a/b/c/d/e/.venv" in {e["prefix"] for e in deeper["environments"]}


def test_no_format_shows_planted_secrets(secret_world: World) -> None:
    args = ["envs", "--root", str(secret_world.root), "--env-file", str(secret_world.write_env())]
    for fmt in ("text", "json", "markdown", "github"):
        for extra in ([], ["--details"]):
            out = run_cli(*args, "--format", fmt, *extra)
            for number in (1, 2, 3, 4, 6, 7, 8):
                assert f"SECRET-000{number}" not in out, (fmt, extra, number)
    # and they were there to leak: --no-redact keeps them
    kept = run_cli(*args, "--format", "json", "--details", "--no-redact")
    assert "SECRET-0001" in kept
    assert "SECRET-0004" in kept


# -- the machinery --------------------------------------------------------------------------------


def test_workers_report_errors_and_dead_children() -> None:
    def task(index: int) -> int:
        if index == 3:
            raise ValueError("bad three")
        if index == 4:
            os._exit(7)  # the whole worker process dies
        return index * 10

    results: dict[int, tuple[Any, Any]] = {}
    run_tasks(task, 10, 2, lambda i, r, e: results.__setitem__(i, (r, e)))
    assert sorted(results) == list(range(10))
    assert results[3] == (None, "ValueError: bad three")
    # index 4 ran in the worker of the even indexes: it and what that worker had left are lost
    for index in (4, 6, 8):
        assert results[index] == (None, "the worker process diagnosing it stopped")
    for index in (0, 1, 2, 5, 7, 9):
        assert results[index] == (index * 10, None)
    sequential: dict[int, tuple[Any, Any]] = {}
    run_tasks(lambda i: i, 3, 1, lambda i, r, e: sequential.__setitem__(i, (r, e)))
    assert sequential == {0: (0, None), 1: (1, None), 2: (2, None)}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_appears_only_after_a_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _Terminal()
    bar = _ProgressBar(stream)
    bar(1, 10, "/a")
    assert stream.getvalue() == ""  # a quick survey shows nothing
    bar.started -= 1.0
    bar(5, 10, "/b")
    assert "[###############...............] 5/10 environments" in stream.getvalue()
    bar(10, 10, "")
    assert stream.getvalue().endswith("\r\033[K")


def test_shared_reads_are_one_moment_of_the_disk(tmp_path: Path) -> None:
    calls: list[bytes] = []

    def parse(data: bytes) -> str:
        calls.append(data)
        return data.decode()

    shared = SharedReads()
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_text("one")
    os.link(tmp_path / "d" / "a", tmp_path / "hardlink")
    first = Host("/", {}, shared=shared)
    assert first.listdir(str(tmp_path / "d")) == ["a"]
    assert first.parsed(str(tmp_path / "d" / "a"), "text", parse, 100) == "one"
    second = Host("/", {}, shared=shared)
    assert second.parsed(str(tmp_path / "hardlink"), "text", parse, 100) == "one"
    assert len(calls) == 1  # conda's hard links: parsed once

    time.sleep(0.01)
    (tmp_path / "d" / "b").write_text("two")
    (tmp_path / "d" / "a").write_text("three")
    third = Host("/", {}, shared=shared)
    # a parsed file is keyed by its identity (inode, size, mtime): new content is read
    assert third.parsed(str(tmp_path / "d" / "a"), "text", parse, 100) == "three"
    # stat answers are kept: the survey lists the directory as it was when first asked
    assert third.listdir(str(tmp_path / "d")) == ["a"]
    assert Host("/", {}, shared=SharedReads()).listdir(str(tmp_path / "d")) == ["a", "b"]

    # failures other than absence are each host's own, never kept
    (tmp_path / "loop").symlink_to("loop")
    for host in (Host("/", {}, shared=shared), Host("/", {}, shared=shared)):
        assert host.parsed(str(tmp_path / "loop"), "text", parse, 100) is None
        assert [p.path for p in host.problems] == [str(tmp_path / "loop")]


def test_envs_under_the_root_never_walks_the_kernels_directories(world: World) -> None:
    """/proc, /sys, /dev and /run are the kernel's views: never walked, even with --under /."""
    world.system_python("3.11")
    world.venv("/home/u/app/.venv")
    world.venv("/proc/1/root/home/u/app/.venv")  # what /proc/<pid>/root shows: the same tree
    world.venv("/sys/fs/x/.venv")
    world.env["PWD"] = "/home/u"
    out = run_cli(
        "envs", "--root", str(world.root), "--env-file", str(world.write_env()),
        "--under", "/", "--depth", "6", "--format", "json",
    )  # fmt: skip
    found = {e["prefix"] for e in json.loads(out)["environments"]}
    assert "/home/u/app/.venv" in found
    assert not any(p.startswith(("/proc", "/sys")) for p in found)


def test_what_every_environment_shares_is_said_once_above_the_rows(world: World) -> None:
    """A machine without its driver and two CUDA torch envs: driver-missing once, above the
    table; each row's headline is what blocks that environment itself."""
    from cudaworld import pip_torch
    from worlds import ML_SITE, ml_world

    ml_world(world)
    pip_torch(world, ML_SITE)
    world.conda_env("/home/u/miniconda3/envs/old", python="3.11.9")
    old_site = "/home/u/miniconda3/envs/old/lib/python3.11/site-packages"
    pip_torch(world, old_site)
    world.dist(old_site, "torchvision", "0.22.1")  # pairs with torch 2.7, not 2.5.1
    world.file(
        "/home/u/.conda/environments.txt",
        "/home/u/miniconda3\n/home/u/miniconda3/envs/ml\n/home/u/miniconda3/envs/old\n",
    )
    out = run_cli("envs", "--root", str(world.root), "--env-file", str(world.write_env()))
    above, _, table = out.partition("GPU  ")
    assert "every environment: driver-missing" in above
    assert "driver-missing" not in table
    assert "torch-companion-mismatch" in table
