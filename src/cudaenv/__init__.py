"""cudaenv: why Python cannot find or use CUDA, answered from the files on disk.

The public API is small and imported lazily, so ``import cudaenv`` costs nothing:

* :func:`diagnose` — collect and check a machine (or a world under ``root``) → :class:`Report`
* :func:`collect` — the facts only → :class:`~cudaenv.snapshot.Snapshot`
* :func:`check` — findings for a snapshot (from this machine or any other)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "check", "collect", "diagnose"]

if TYPE_CHECKING:
    from .api import check, collect, diagnose


def __getattr__(name: str) -> Any:
    if name in ("check", "collect", "diagnose"):
        from . import api  # noqa: PLC0415  # keeps `import cudaenv` free

        return getattr(api, name)
    raise AttributeError(name)


def __dir__() -> list[str]:
    return list(__all__)
