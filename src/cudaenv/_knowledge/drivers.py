"""The NVIDIA driver and the CUDA versions it runs.

Sources (knowledge base §1, ``../shared/knowledge/cuda-facts.md``):

* ``TOOLKIT_MIN_DRIVER`` — NVIDIA CUDA Toolkit Release Notes, Table 3 "CUDA Toolkit and
  Corresponding Driver Versions" (Linux x86_64, GA releases; 13.1 U1 … 13.3 from second-hand
  copies of later release notes).
* ``MVC_MIN_DRIVER`` — the same notes, Table 2, and the CUDA Compatibility guide's
  "Minor Version Compatibility": any toolkit of a major runs on a driver at least this new.
* ``BRANCH_CUDA`` — the CUDA version a driver branch reports (``cuDriverGetVersion``, the
  "CUDA Version" of ``nvidia-smi``): the toolkit each branch was bundled with; 565 → 12.7 is
  observed in nvidia-smi output although no 12.7 toolkit exists.
"""

from __future__ import annotations

import re
from typing import Optional

__all__ = [
    "BRANCH_CUDA",
    "MVC_MIN_DRIVER",
    "TOOLKIT_MIN_DRIVER",
    "Compatibility",
    "cuda_of_driver",
    "driver_runs",
    "min_driver_for",
    "parse_version",
]

TOOLKIT_MIN_DRIVER: tuple[tuple[str, str], ...] = (
    ("10.0", "410.48"),
    ("10.1", "418.39"),
    ("10.2", "440.33"),
    ("11.0", "450.51.05"),
    ("11.1", "455.23"),
    ("11.2", "460.27.03"),
    ("11.3", "465.19.01"),
    ("11.4", "470.42.01"),
    ("11.5", "495.29.05"),
    ("11.6", "510.39.01"),
    ("11.7", "515.43.04"),
    ("11.8", "520.61.05"),
    ("12.0", "525.60.13"),
    ("12.1", "530.30.02"),
    ("12.2", "535.54.03"),
    ("12.3", "545.23.06"),
    ("12.4", "550.54.14"),
    ("12.5", "555.42.02"),
    ("12.6", "560.28.03"),
    ("12.8", "570.26"),
    ("12.9", "575.51.03"),
    ("13.0", "580.65.06"),
    ("13.1", "590.44.01"),
    ("13.2", "595.45.04"),
    ("13.3", "610.43.02"),
)
"""CUDA toolkit X.Y (GA) → the oldest Linux driver that runs everything it builds."""

MVC_MIN_DRIVER: dict[int, str] = {11: "450.80.02", 12: "525.60.13", 13: "580"}
"""CUDA major → the oldest driver that runs any X.* application by minor-version
compatibility (with two limits: no JIT of newer PTX, no newer driver APIs)."""

BRANCH_CUDA: tuple[tuple[int, str], ...] = (
    (410, "10.0"),
    (418, "10.1"),
    (440, "10.2"),
    (450, "11.0"),
    (455, "11.1"),
    (460, "11.2"),
    (465, "11.3"),
    (470, "11.4"),
    (495, "11.5"),
    (510, "11.6"),
    (515, "11.7"),
    (520, "11.8"),
    (525, "12.0"),
    (530, "12.1"),
    (535, "12.2"),
    (545, "12.3"),
    (550, "12.4"),
    (555, "12.5"),
    (560, "12.6"),
    (565, "12.7"),
    (570, "12.8"),
    (575, "12.9"),
    (580, "13.0"),
    (590, "13.1"),
    (595, "13.2"),
    (610, "13.3"),
)
"""Driver branch (the first number of its version) → the CUDA version it reports."""

_NUMBERS = re.compile(r"\d+(?:\.\d+)*")


def parse_version(text: str) -> tuple[int, ...]:
    """``535.104.05`` → (535, 104, 5); the first dotted number in ``text``; () if none."""
    match = _NUMBERS.search(text)
    return tuple(int(x) for x in match.group(0).split(".")) if match else ()


def cuda_of_driver(driver: str) -> Optional[str]:
    """The CUDA version a driver reports: its branch's, or the newest branch below it (a
    driver newer than every branch known here reports at least the newest known version)."""
    version = parse_version(driver)
    if not version:
        return None
    found = None
    for branch, cuda in BRANCH_CUDA:
        if version[0] >= branch:
            found = cuda
    return found


def min_driver_for(cuda: str) -> Optional[str]:
    """The oldest driver for toolkit ``cuda`` (X.Y): its own row, or the next release's when
    X.Y was never released (12.7)."""
    wanted = parse_version(cuda)[:2]
    for toolkit, driver in TOOLKIT_MIN_DRIVER:
        if parse_version(toolkit) >= wanted:
            return driver
    return None


class Compatibility:
    """How a driver runs code built for one CUDA version."""

    FULL = "full"
    """The driver's CUDA is at least as new."""
    MINOR_VERSION = "minor-version"
    """Same major, older minor, at or above that major's MVC minimum: runs, but cannot JIT
    PTX from the newer toolkit, and newer driver APIs fail."""
    TOO_OLD = "too-old"
    UNKNOWN = "unknown"


def driver_runs(driver: str, cuda: str) -> str:
    """Whether ``driver`` runs code built with CUDA ``cuda`` (a :class:`Compatibility`)."""
    reported = cuda_of_driver(driver)
    wanted = parse_version(cuda)[:2]
    if reported is None or not wanted:
        return Compatibility.UNKNOWN
    if parse_version(reported)[:2] >= wanted:
        return Compatibility.FULL
    minimum = MVC_MIN_DRIVER.get(wanted[0])
    same_major = parse_version(reported)[0] == wanted[0]
    if same_major and minimum is not None and parse_version(driver) >= parse_version(minimum):
        return Compatibility.MINOR_VERSION
    return Compatibility.TOO_OLD
