"""The conda plugin, driven as conda drives it: through pluggy, by the ``conda`` entry point
group, against conda's hook contract (conda itself is not installed here).

The contract, from conda's plugin API (``conda.plugins.hookspec.CondaSpecs`` and
``conda.plugins.types.CondaHealthCheck``): plugins are found through the ``conda`` entry point
group; ``conda_health_checks()`` yields health checks with a unique ``name``, an
``action(prefix, verbose)`` that prints, and optionally ``fixer(prefix, args, confirm) -> int``
(``confirm(message)`` raises when the user declines or in a dry run), ``summary`` and ``fix``.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pluggy
import pytest

from cudaenv import conda_plugin
from cudaenv._explain import areas
from cudaenv.api import diagnose

hookspec = pluggy.HookspecMarker("conda")


class CondaSpecs:
    @hookspec
    def conda_health_checks(self) -> Iterable[Any]:  # type: ignore[empty-body]
        """Register health checks for conda doctor."""


@pytest.fixture
def health_checks() -> list[Any]:
    manager = pluggy.PluginManager("conda")
    manager.add_hookspecs(CondaSpecs)
    loaded = manager.load_setuptools_entrypoints("conda")
    assert loaded >= 1  # cudaenv's entry point, found as conda finds plugins
    assert manager.get_plugin("cudaenv") is conda_plugin
    return [check for result in manager.hook.conda_health_checks() for check in result]


@pytest.fixture
def no_python_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A conda prefix rattler installed without Python (conda create -n x zlib), and the
    conda that runs conda doctor: a stand-in that records what it is asked to do."""
    from realenv import conda_install, local_channel

    channel = local_channel(tmp_path / "channel")
    prefix = conda_install(channel, tmp_path / "envs" / "libs", tmp_path / "pkgs", ["zlib"])
    conda = tmp_path / "condabin" / "conda"
    conda.parent.mkdir()
    conda.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "conda.log"}\n')
    conda.chmod(0o755)
    monkeypatch.setenv("CONDA_EXE", str(conda))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    for name in ("CONDA_PREFIX", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_DEFAULT_ENV"):
        monkeypatch.delenv(name, raising=False)
    conda_plugin._reports.clear()
    return prefix


def test_health_checks_follow_condas_contract(health_checks: list[Any]) -> None:
    names = [c.name for c in health_checks]
    assert names == list(conda_plugin.HEALTH_CHECKS)
    assert all(n == n.lower().strip() for n in names)  # conda normalises names
    for check in health_checks:
        assert list(inspect.signature(check.action).parameters) == ["prefix", "verbose"]
        assert list(inspect.signature(check.fixer).parameters) == ["prefix", "args", "confirm"]
        assert check.summary
        assert check.fix
    # the fallback type, used without conda, has conda's fields in conda's order
    fields = [f.name for f in dataclasses.fields(conda_plugin.CondaHealthCheck)]
    assert fields == ["name", "action", "fixer", "summary", "fix"]


def printed_codes(text: str) -> list[str]:
    return re.findall(r"^  [A-Z]+: .* \[([a-z0-9-]+)\]$", text, flags=re.MULTILINE)


def test_each_finding_is_reported_by_the_check_of_its_part(
    health_checks: list[Any], no_python_prefix: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = diagnose(prefix=str(no_python_prefix))
    heading_of = areas()
    seen: list[str] = []
    for check in health_checks:
        check.action(str(no_python_prefix), True)
        out = capsys.readouterr().out
        heading, _ = conda_plugin.HEALTH_CHECKS[check.name]
        codes = printed_codes(out)
        problems = [
            c for c in codes if any(f.code == c and f.severity != "info" for f in expected.findings)
        ]
        mark = "❌" if problems else "✅"
        assert out.startswith(f"{mark} {heading}"), out
        for code in codes:
            part = heading_of.get(code, "About the diagnosis itself")
            assert part == heading or (
                part == "About the diagnosis itself" and check.name == "cuda-python"
            ), (check.name, code)
        seen += codes
        if check.name == "cuda-python":
            assert "env-without-python" in codes  # the env conda doctor was asked about
    # every finding exactly once; conda doctor -n ENV looks at an env the shell has not
    # activated, so that state is not a problem of the env
    wanted = [f.code for f in expected.findings if f.code != "conda-env-not-activated"]
    assert sorted(seen) == sorted(wanted)


def test_info_findings_only_when_verbose(
    health_checks: list[Any], no_python_prefix: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = diagnose(prefix=str(no_python_prefix))
    infos = {f.code for f in expected.findings if f.severity == "info"}
    quiet, loud = [], []
    for check in health_checks:
        check.action(str(no_python_prefix), False)
        quiet += printed_codes(capsys.readouterr().out)
        check.action(str(no_python_prefix), True)
        loud += printed_codes(capsys.readouterr().out)
    assert not infos & set(quiet)
    assert set(quiet) <= set(loud)


def test_fixer_shows_the_plan_and_changes_nothing_when_declined(
    health_checks: list[Any], no_python_prefix: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class DeclinedError(Exception):
        pass

    asked: list[str] = []

    def confirm(message: str) -> None:
        asked.append(message)
        raise DeclinedError  # as conda's confirm does when the user says no

    before = sorted(p.relative_to(no_python_prefix) for p in no_python_prefix.rglob("*"))
    fixer = next(c.fixer for c in health_checks if c.name == "cuda-python")
    with pytest.raises(DeclinedError):
        fixer(str(no_python_prefix), argparse.Namespace(), confirm)
    out = capsys.readouterr().out
    assert "python" in out  # the plan installs the env's own Python
    assert len(asked) == 1
    assert str(no_python_prefix.name) in asked[0]
    after = sorted(p.relative_to(no_python_prefix) for p in no_python_prefix.rglob("*"))
    assert before == after
    assert not (no_python_prefix.parent.parent / "conda.log").exists()


def test_fixer_applies_the_plan_once_confirmed(
    health_checks: list[Any], no_python_prefix: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = next(
        f for f in diagnose(prefix=str(no_python_prefix)).findings if f.code == "env-without-python"
    )
    python = re.search(r"python=[\d.]+", " ".join(planned.fix))  # the Python PATH falls to
    assert python is not None
    fixer = next(c.fixer for c in health_checks if c.name == "cuda-python")
    assert fixer(str(no_python_prefix), argparse.Namespace(), lambda message: None) == 0
    log = (no_python_prefix.parent.parent / "conda.log").read_text()
    assert log.split() == ["install", "-y", "-p", str(no_python_prefix), python.group(), "pip"]
    assert "ran: " in capsys.readouterr().out


def test_a_part_without_findings_has_nothing_to_apply(
    health_checks: list[Any], no_python_prefix: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = diagnose(prefix=str(no_python_prefix))
    heading_of = areas()
    for check in health_checks:
        heading, _ = conda_plugin.HEALTH_CHECKS[check.name]
        if any(heading_of.get(f.code) == heading for f in expected.findings):
            continue

        def never(message: str) -> None:
            raise AssertionError(message)

        assert check.fixer(str(no_python_prefix), argparse.Namespace(), never) == 0
        assert "Nothing cudaenv can apply itself." in capsys.readouterr().out


def test_a_broken_diagnosis_is_reported_not_raised(
    health_checks: list[Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(prefix: str) -> None:
        raise OSError(f"cannot read {prefix}")

    monkeypatch.setattr(conda_plugin, "_report", broken)
    health_checks[0].action(os.sep + "nowhere", False)
    assert "❌" in capsys.readouterr().out
