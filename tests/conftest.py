from __future__ import annotations

from pathlib import Path

import pytest

from worlds import World


@pytest.fixture(autouse=True)
def _scrub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own shell must not leak into the CLI's choices (colour, debug)."""
    for name in ("NO_COLOR", "FORCE_COLOR", "CUDAENV_DEBUG", "TERM"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "world")
