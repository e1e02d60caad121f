"""What the installed frameworks were built for, read from their files (never imported).

For now torch: ``torch/version.py`` (``cuda = '12.1'``, or None for CPU and ROCm builds) and
the local version tag (``2.5.1+cu124``).
"""

from __future__ import annotations

import posixpath
import re
from typing import Optional

from .._formats.metadata import canonicalize_name
from .._host import Host
from ..snapshot import Framework, SiteDir

__all__ = ["frameworks"]

_VERSION_PY_CUDA = re.compile(
    r"""^cuda\s*(?::[^=]*)?=\s*(?:'([^']*)'|"([^"]*)"|None)""", re.MULTILINE
)
_LOCAL_CUDA = re.compile(r"\+cu(\d+)(\d)$")


def _torch_cuda(host: Host, package_dir: str, version: str) -> tuple[Optional[str], str]:
    text = host.read_text(posixpath.join(package_dir, "version.py"), limit=1 << 16)
    if text is not None:
        match = _VERSION_PY_CUDA.search(text)
        if match:
            return (match.group(1) or match.group(2) or None), "torch/version.py"
    local = _LOCAL_CUDA.search(version)
    if local:
        return f"{local.group(1)}.{local.group(2)}", "version tag"
    return None, "unknown"


def frameworks(host: Host, site_dirs: tuple[SiteDir, ...]) -> tuple[Framework, ...]:
    """The first copy of each framework on sys.path (the one ``import`` gets)."""
    found: dict[str, Framework] = {}
    for site in site_dirs:
        for dist in site.distributions:
            name = canonicalize_name(dist.name)
            if name != "torch" or name in found:
                continue
            package_dir = posixpath.join(site.path, "torch")
            cuda, cuda_from = _torch_cuda(host, package_dir, dist.version)
            found[name] = Framework(
                name="torch",
                version=dist.version,
                site=site.path,
                package_dir=package_dir,
                installer=dist.installer,
                cuda=cuda,
                cuda_from=cuda_from,
                requires_dist=dist.requires_dist,
            )
    return tuple(found.values())
