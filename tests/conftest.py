from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from worlds import ML, World, ml_world

# Property and fuzz tests (tests/test_fuzz_*.py): the same examples on every CI run, within
# a time bound each; HYPOTHESIS_PROFILE=fuzz explores far more, at random (docs/hardening.md).
_HYPOTHESIS = settings(
    deadline=2000,  # ms per example: a parser that takes longer than this has a problem
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("ci", _HYPOTHESIS, max_examples=150, derandomize=True)
settings.register_profile("fuzz", _HYPOTHESIS, max_examples=20_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _scrub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own shell must not leak into the CLI's choices (colour, debug)."""
    for name in (
        "NO_COLOR",
        "FORCE_COLOR",
        "CUDAENV_DEBUG",
        "TERM",
        "CUDAENV_ROOT",
        "CUDAENV_ENV_FILE",
        "COLUMNS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "world")


# A world with a secret in every place a report may show: variables, aliases, kernel arguments
# and pip's configuration (tests/test_share.py, tests/test_envs.py).
SECRETS = {
    "NVIDIA_API_KEY": "nvapi-SECRET-0001",
    "CONDA_REPO_TOKEN": "SECRET-0002",
    "PIXI_AUTH_TOKEN": "SECRET-0003",
    "PIP_TARGET": "https://ana:SECRET-0004@pkgs.example.com/target",
    # a list variable: redacted whole, before it is split on ':' into entries
    "PYTHONPATH": "/srv/lib:https://ana:SECRET-0009@pkgs.example.com/py",
}


@pytest.fixture
def secret_world(world: World) -> World:
    ml_world(world)
    world.env.update(SECRETS)
    world.file(
        "/home/u/.bashrc", "alias python='HF_TOKEN=SECRET-0006 /home/u/miniconda3/bin/python'\n"
    )
    kernel = {
        "argv": [f"{ML}/bin/python", "-m", "ipykernel", "--IdentityProvider.token=SECRET-0007"],
        "display_name": "ml",
        "language": "python",
    }
    world.file("/home/u/.local/share/jupyter/kernels/ml/kernel.json", json.dumps(kernel))
    world.file(
        "/home/u/.config/pip/pip.conf",
        "[global]\nprefix = https://u:SECRET-0008@example.com/prefix\n",
    )
    return world
