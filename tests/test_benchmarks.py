"""The benchmarks keep working: each runs once on a small input (timings are not judged here;
speed is measured by running them, never by a timed test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def benchmark(script: str, *args: str) -> str:
    """Run ``benchmarks/SCRIPT`` as a user does; its standard output."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_envs_speed_runs_on_a_small_machine(tmp_path: Path) -> None:
    stdout = benchmark(
        "envs_speed.py",
        *("--machine", str(tmp_path / "m"), "--envs", "4", "--packages", "12", "--runs", "1"),
    )
    # 4 envs + base + 2 pixi = 7 conda prefixes; 3 venvs, a uv project, pipx, a uv tool,
    # pyenv; and the system Python when PATH (/usr/bin:/bin) has one
    summary = re.search(
        r"(\d+) environments found by cudaenv, ([\d,]+) conda-meta records in (\d+)", stdout
    )
    assert summary is not None, stdout
    assert int(summary.group(3)) == 7
    system = any(Path("/usr/bin", name).exists() for name in ("python3", "python"))
    assert int(summary.group(1)) == 7 + 3 + 1 + 1 + 1 + 1 + system
    for row in ("read+parse every record", "cudaenv envs --jobs 1", "python -c pass"):
        assert re.search(rf"^{re.escape(row)}\s+\d+\.\d+", stdout, re.MULTILINE), row


def test_fleet_speed_runs_and_checks_its_answer() -> None:
    stdout = benchmark("fleet_speed.py", "--nodes", "20", "--variants", "2", "--runs", "1")
    assert "20 node snapshots" in stdout
    assert re.search(r"^aggregate\(\) on parsed documents\s+\d+\.\d+", stdout, re.MULTILINE)


def test_the_peer_harness_measures_and_reports(tmp_path: Path) -> None:
    """benchmarks/run.py with this venv (no peers here) and the envs group on a small
    machine: the tables and the targets come out, unmeasured targets said so."""
    report = tmp_path / "benchmarks.md"
    venv = Path(sys.executable).parent.parent
    benchmark(
        "run.py",
        *("--venv", str(venv), "--groups", "envs", "--envs", "4", "--packages", "12"),
        *("--runs", "1", "--cache", str(tmp_path / "cache"), "--write", str(report)),
    )
    text = report.read_text()
    assert "### Every environment: 4 conda envs \u00d7 12 packages" in text
    row = re.search(r"^\| `cudaenv envs` \| (\d+\.\d+) \|", text, re.MULTILINE)
    assert row is not None, text
    target = r"^\| envs vs reading every record \| \u2264 1\u00d7 \| \d+\.\d+\u00d7 \|"
    assert re.search(target, text, re.MULTILINE), text
    assert "| doctor vs collect_env | | not measured | |" in text
