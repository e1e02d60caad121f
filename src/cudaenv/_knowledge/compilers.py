"""The host compilers nvcc accepts, per CUDA release (Linux x86_64, major versions).

The toolkit itself is the authority: ``include/crt/host_config.h`` stops a build with
"gcc versions later than N are not supported" and "clang version must be less than N" unless
``-allow-unsupported-compiler`` is given.  :func:`limits_from_host_config` reads those two
lines from a toolkit at hand; ``NVCC_HOST_COMPILERS`` is for toolkits whose header is not.

Sources for the table: the headers of CUDA 11.0, 11.8, 12.6 and 13.0 (read; 13.0 checked by a
test against the toolkit on the build machine), NVIDIA's CUDA Installation Guide "Supported
Compilers" tables (13.0 U1, 13.2), and the packaging metadata that tracks the header (Gentoo's
nvidia-cuda-toolkit ebuilds, spack's cuda conflicts, nixpkgs' nvcc-compatibilities).  Where
patch releases differ (11.4.1 allows gcc 11, 11.4.0 does not) the table takes the later,
more permissive value: a false alarm costs more than a missed one.  The minimums (gcc 6,
clang 7 from CUDA 11) are documented but not enforced by the header.
"""

from __future__ import annotations

import re
from typing import Optional

from .drivers import parse_version

__all__ = ["NVCC_HOST_COMPILERS", "host_compiler_range", "limits_from_host_config"]

NVCC_HOST_COMPILERS: dict[str, tuple[int, int, int, int]] = {
    # CUDA: (gcc min, gcc max, clang min, clang max)
    "10.0": (5, 7, 6, 6),
    "10.1": (5, 8, 6, 8),
    "10.2": (5, 8, 6, 8),
    "11.0": (6, 9, 7, 9),
    "11.1": (6, 10, 7, 11),
    "11.2": (6, 10, 7, 11),
    "11.3": (6, 10, 7, 11),
    "11.4": (6, 11, 7, 12),
    "11.5": (6, 11, 7, 12),
    "11.6": (6, 11, 7, 13),
    "11.7": (6, 11, 7, 13),
    "11.8": (6, 11, 7, 14),
    "12.0": (6, 12, 7, 14),
    "12.1": (6, 12, 7, 15),
    "12.2": (6, 12, 7, 16),
    "12.3": (6, 12, 7, 16),
    "12.4": (6, 13, 7, 17),
    "12.5": (6, 13, 7, 17),
    "12.6": (6, 13, 7, 18),
    "12.8": (6, 14, 7, 19),
    "12.9": (6, 14, 7, 19),
    "13.0": (6, 15, 7, 20),
    "13.1": (6, 15, 7, 21),
    "13.2": (6, 15, 7, 21),
    "13.3": (6, 15, 7, 21),
    "13.4": (6, 16, 7, 22),
}

_GCC_LIMIT = re.compile(r"gcc versions later than (\d+) are not supported")
_CLANG_LIMIT = re.compile(r"unsupported clang version! clang version must be less than (\d+)")


def limits_from_host_config(text: str) -> tuple[Optional[int], Optional[int]]:
    """(newest gcc major, newest clang major) that a toolkit's ``host_config.h`` accepts.

    The generic clang message is matched, not the Grace or HOS ones that precede it."""
    gcc = _GCC_LIMIT.search(text)
    clang = _CLANG_LIMIT.search(text)
    return (int(gcc.group(1)) if gcc else None, int(clang.group(1)) - 1 if clang else None)


def host_compiler_range(cuda: str, compiler: str) -> Optional[tuple[int, int]]:
    """(oldest, newest) major of ``compiler`` (gcc or clang) for toolkit ``cuda`` X.Y."""
    key = ".".join(str(x) for x in parse_version(cuda)[:2])
    row = NVCC_HOST_COMPILERS.get(key)
    if row is None:
        return None
    return (row[0], row[1]) if compiler == "gcc" else (row[2], row[3])
