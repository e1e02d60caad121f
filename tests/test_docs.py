"""The documentation and the code name the same things."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from cudaenv._checks.codes import CODES

ROOT = Path(__file__).resolve().parent.parent

# The first table of the spec's findings.md: the codes this project's first issue must raise.
SPEC_INTERPRETER_CODES = (
    "pip-other-interpreter",
    "env-without-python",
    "python-outside-active-env",
    "conda-env-not-activated",
    "venv-over-conda",
    "pythonpath-other-env",
    "pythonpath-version-mismatch",
    "user-site-shadowing",
    "cwd-shadows-package",
    "pip-install-redirected",
    "pythonhome-set",
    "conda-pip-duplicate",
    "kernel-other-interpreter",
)


def test_every_spec_code_is_implemented() -> None:
    assert set(SPEC_INTERPRETER_CODES) <= set(CODES)


def test_every_code_is_documented() -> None:
    text = (ROOT / "docs" / "findings.md").read_text()
    documented = set(re.findall(r"^### `([a-z0-9-]+)`", text, flags=re.MULTILINE))
    assert documented == set(CODES)


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.DOTALL)
    return [line.strip() for block in blocks[:2] for line in block.splitlines() if line.strip()]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme_test = readme_commands()[-1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_test in ci.splitlines()
    assert "pytest" in shlex.split(readme_test)


def test_changelog_mentions_the_current_version() -> None:
    from cudaenv import __version__

    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_nothing_tells_users_to_install_cudaenv_from_pypi() -> None:
    """`cudaenv` is not a name this project holds on PyPI: `pip install cudaenv` would install
    whatever someone else registers under it. Install from a clone; Dask as `dask[distributed]`."""
    pattern = re.compile(r"pip install\s+['\"]?cudaenv\b")
    places = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    places += list((ROOT / "src" / "cudaenv").rglob("*.py"))
    offenders = [str(p.relative_to(ROOT)) for p in places if pattern.search(p.read_text())]
    assert offenders == []


def test_the_license_ships_with_the_package() -> None:
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License")
    project = (ROOT / "pyproject.toml").read_text()
    assert 'license-files = ["LICENSE"]' in project
    for classifier in (
        "Environment :: GPU :: NVIDIA CUDA",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.13",
        "Development Status :: 4 - Beta",
    ):
        assert classifier in project
