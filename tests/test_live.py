"""--live: the driver and the frameworks asked in child processes, with a timeout, on a real
interpreter (a venv made here) importing stand-in frameworks written for each case."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import venv
from pathlib import Path
from typing import Any

import pytest

from cudaenv._cli import main

HAS_DRIVER = Path("/proc/driver/nvidia/version").exists()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("live") / "venv"
    venv.create(prefix, with_pip=False, symlinks=True)
    return prefix


def site(prefix: Path) -> Path:
    return next(prefix.glob("lib/python*/site-packages"))


def stand_in_torch(prefix: Path, init: str, cuda: str = "12.4") -> None:
    """A torch package whose behaviour the test chooses, with the files a CUDA build has."""
    packages = site(prefix)
    shutil.rmtree(packages / "torch", ignore_errors=True)
    (packages / "torch").mkdir()
    (packages / "torch" / "__init__.py").write_text(init)
    (packages / "torch" / "version.py").write_text(f"__version__ = '2.5.1'\ncuda = '{cuda}'\n")
    info = packages / "torch-2.5.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1\n")


UNAVAILABLE = """
import warnings
__version__ = '2.5.1'
class version:
    cuda = '12.4'
class cuda:
    @staticmethod
    def is_available():
        warnings.warn('CUDA initialization: Found no NVIDIA driver on your system.')
        return False
"""

AVAILABLE = """
__version__ = '2.5.1'
class version:
    cuda = '12.4'
class _T:
    def __mul__(self, other): return self
    def sum(self): return self
    def item(self): return 16.0
def ones(n, device=None): return _T()
class cuda:
    is_available = staticmethod(lambda: True)
    get_arch_list = staticmethod(lambda: ['sm_80', 'sm_90'])
    device_count = staticmethod(lambda: 1)
    get_device_name = staticmethod(lambda i: 'NVIDIA H100 80GB HBM3')
    get_device_capability = staticmethod(lambda i: (9, 0))
"""


def live(prefix: Path, *extra: str) -> dict[str, Any]:
    out = io.StringIO()
    argv = ["doctor", "--live", "--python", str(prefix / "bin" / "python"), "--format", "json"]
    assert main([*argv, *extra], out) == 0
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def answers(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["subject"]: c for c in report["facts"]["live"]}


def test_live_needs_the_running_machine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--live", "--root", str(tmp_path)], io.StringIO()) == 2
    assert "--live asks the running machine" in capsys.readouterr().err


def test_driver_answer_is_recorded(target: Path) -> None:
    stand_in_torch(target, UNAVAILABLE)
    driver = answers(live(target))["driver"]
    if HAS_DRIVER:
        assert driver["answer"]["cuda_version"]
    else:
        assert "libcuda.so.1" in driver["error"]


@pytest.mark.skipif(HAS_DRIVER, reason="the static verdict differs on a machine with a driver")
def test_agreeing_answers_raise_nothing(target: Path) -> None:
    stand_in_torch(target, UNAVAILABLE)
    report = live(target)
    torch = answers(report)["torch"]
    assert torch["ok"] is True
    assert torch["answer"]["available"] is False
    assert "Found no NVIDIA driver" in torch["answer"]["warnings"][0]
    codes = [f["code"] for f in report["findings"]]
    assert "driver-missing" in codes
    assert "live-disagrees" not in codes


@pytest.mark.skipif(HAS_DRIVER, reason="the static verdict differs on a machine with a driver")
def test_a_gpu_where_the_files_said_none_is_a_disagreement(target: Path) -> None:
    stand_in_torch(target, AVAILABLE)
    report = live(target)
    found = next(f for f in report["findings"] if f["code"] == "live-disagrees")
    assert any("driver-missing" in e for e in found["evidence"])
    assert any("a kernel ran" in e for e in found["evidence"])


def test_import_failure_without_a_static_cause(target: Path) -> None:
    stand_in_torch(
        target,
        "raise ImportError('libcudart.so.12: cannot open shared object file: No such file')",
    )
    report = live(target)
    assert "libcudart.so.12" in answers(report)["torch"]["error"]
    found = next(f for f in report["findings"] if f["code"] == "live-disagrees")
    assert any("importing torch fails" in e for e in found["evidence"])


def test_a_hanging_import_is_stopped(target: Path) -> None:
    stand_in_torch(target, "import time\ntime.sleep(60)\n")
    started = time.monotonic()
    report = live(target, "--live-timeout", "2")
    assert time.monotonic() - started < 30
    torch = answers(report)["torch"]
    assert torch["ok"] is False
    assert torch["error"] == "no answer within 2 s (killed)"


def test_text_output_shows_the_answers(target: Path) -> None:
    stand_in_torch(target, UNAVAILABLE)
    out = io.StringIO()
    argv = ["doctor", "--live", "--python", str(target / "bin" / "python"), "--color", "never"]
    assert main(argv, out) == 0
    text = out.getvalue()
    assert "Live (--live: the driver's and the frameworks' own answers)" in text
    assert "torch 2.5.1: GPU NOT available" in text


def test_without_live_nothing_is_started(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in_torch(target, "raise SystemExit('imported!')")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process was started without --live")

    monkeypatch.setattr("subprocess.Popen", refuse)
    monkeypatch.setattr(os, "fork", refuse)
    out = io.StringIO()
    argv = ["doctor", "--python", str(target / "bin" / "python"), "--format", "json"]
    assert main(argv, out) == 0
    assert json.loads(out.getvalue())["facts"]["live"] == []
