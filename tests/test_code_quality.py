"""The linters the project holds itself to, run as part of the test command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.slow
def test_ruff_check() -> None:
    result = tool("ruff", "check", "src", "tests", "benchmarks", "fuzz")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_ruff_format() -> None:
    result = tool("ruff", "format", "--check", "src", "tests", "benchmarks", "fuzz")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.skipif(sys.version_info < (3, 10), reason="mypy 2 runs on Python 3.10+ only")
def test_mypy_strict() -> None:
    result = tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
