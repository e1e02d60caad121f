"""The pytest plugin, through pytester: opt-in, one header line, the report in JUnit XML."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest

from cudaenv.api import diagnose

pytest_plugins = ["pytester"]

PASSING = "def test_one():\n    assert True\n"


def junit_properties(path: Path) -> dict[str, str]:
    root = ET.parse(path).getroot()  # noqa: S314 - the file pytest just wrote
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    return {p.get("name", ""): p.get("value", "") for p in suite.iter("property")}


def test_without_the_option_nothing_happens(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PASSING)
    result = pytester.runpytest("--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    assert not [line for line in result.outlines if line.startswith("cudaenv:")]
    assert not any(n.startswith("cudaenv") for n in junit_properties(pytester.path / "junit.xml"))


def test_sessions_without_junitxml_are_untouched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PASSING)
    pytester.runpytest("-p", "no:junitxml").assert_outcomes(passed=1)
    on = pytester.runpytest("-p", "no:junitxml", "--cudaenv")
    on.assert_outcomes(passed=1)
    assert [line for line in on.outlines if line.startswith("cudaenv: ")]


def test_header_line_and_junit_properties(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PASSING)
    result = pytester.runpytest("--cudaenv", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    expected = diagnose(python=sys.executable)
    header = [line for line in result.outlines if line.startswith("cudaenv: ")]
    assert len(header) == 1
    # the same environment, frameworks and verdict as a diagnosis of this interpreter
    assert f"Python {sys.version_info[0]}.{sys.version_info[1]}" in header[0]
    primary = expected.primary
    if primary is not None and primary.severity != "info":
        assert f"[{primary.code}]" in header[0]
    else:
        assert "✓ no problems found" in header[0]

    properties = junit_properties(pytester.path / "junit.xml")
    assert set(properties) == {"cudaenv", "cudaenv.findings", "cudaenv.report"}
    assert properties["cudaenv"].startswith("cudaenv: ")
    report = json.loads(properties["cudaenv.report"])
    jsonschema = pytest.importorskip("jsonschema")
    schema = resources.files("cudaenv").joinpath("schemas/report.schema.json").read_text()
    jsonschema.validate(report, json.loads(schema))
    codes = [f["code"] for f in report["findings"]]
    assert codes == [f.code for f in expected.findings]
    assert properties["cudaenv.findings"].split() == [
        f"{f.code}:{f.severity}" for f in expected.findings
    ]
    # shared by default: identity redacted, as in a Markdown report or a snapshot
    assert "home" in report["facts"]["redacted"]


def test_ini_option_turns_it_on_and_command_line_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PASSING)
    pytester.makeini("[pytest]\ncudaenv = true\n")
    on = pytester.runpytest()
    assert [line for line in on.outlines if line.startswith("cudaenv: ")]


def test_secrets_never_reach_the_junit_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # variables the report keeps (pip's, NVIDIA's, PYTHONPATH), each carrying a secret
    secrets = {
        "PIP_TARGET": "https://ana:SECRET-0101@pkgs.example.com/target",
        "NVIDIA_API_KEY": "nvapi-SECRET-0103",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", f"/opt/x?token=SECRET-0104:{sys.path[0]}")
    pytester.makepyfile(PASSING)
    result = pytester.runpytest("--cudaenv", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    written = (pytester.path / "junit.xml").read_text()
    assert "SECRET-0104" not in "\n".join(result.outlines)  # nor in the header
    planted = ("SECRET-0101", "SECRET-0103", "SECRET-0104")
    for secret in planted:
        assert secret not in written, secret
    # the variables were there, and were redacted
    assert "<redacted>" in junit_properties(pytester.path / "junit.xml")["cudaenv.report"]

    kept = pytester.runpytest("--cudaenv", "--cudaenv-no-redact", "--junitxml=kept.xml")
    kept.assert_outcomes(passed=1)
    unredacted = (pytester.path / "kept.xml").read_text()
    assert all(secret in unredacted for secret in planted)  # so the check above can fail


def test_a_failing_diagnosis_never_breaks_the_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cudaenv.api

    def broken(**_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cudaenv.api, "diagnose", broken)
    pytester.makepyfile(PASSING)
    result = pytester.runpytest("--cudaenv", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    assert "cudaenv: the diagnosis failed (RuntimeError: boom)" in result.outlines
    properties = junit_properties(pytester.path / "junit.xml")
    assert properties == {"cudaenv": "cudaenv: the diagnosis failed (RuntimeError: boom)"}
