"""What the installed frameworks were built for, read from their files (never imported).

* torch: ``torch/version.py`` (``cuda = '12.1'``, ``hip = …``; both None for a CPU build), the
  conda build string of ``pytorch`` with ``pytorch-mutex``/``cpuonly``, the local version tag;
* torchvision / torchaudio: local tags, conda build strings, the CUDA runtime their ``_C``
  links;
* CuPy: the wheel's name (``cupy-cuda12x``), or conda's ``cuda-version``;
* JAX: ``jaxlib`` (old ``+cuda12.cudnn89`` tags, conda build strings) and its CUDA plugin and
  PJRT packages;
* TensorFlow: ``tensorflow/python/platform/build_info.py`` (CUDA, cuDNN, compute
  capabilities);
* Triton: the CUDA version of the ``cuda.h`` it bundles with its own ptxas;
* compiled extensions (vllm, flash-attn, xformers, PyG, bitsandbytes, onnxruntime-gpu …):
  local tags and the ``libcudart.so.N`` their shared objects list as NEEDED.

GPU code (the SASS/PTX in their binaries) is read only when the machine has a GPU to judge it
against: there is no question to answer otherwise, and the binaries are large.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from typing import Optional

from .._formats.elffile import ELFError, ELFFile
from .._formats.metadata import canonicalize_name
from .._host import Host, open_regular
from .._knowledge.builds import (
    EXTENSIONS,
    GPU_CODE_OBJECTS,
    conda_build_variant,
    cupy_variant_cuda,
    local_tag_variant,
)
from .._knowledge.frameworks import ENTRY_OBJECTS
from ..snapshot import CondaPackage, Distribution, Environment, Framework, GpuCode, SiteDir
from .archs import gpu_code
from .libraries import glob_files

__all__ = ["frameworks"]

_VERSION_PY = re.compile(
    r"""^(cuda|hip)\s*(?::[^=]*)?=\s*(?:'([^']*)'|"([^"]*)"|None)""", re.MULTILINE
)
_CUDA_H_VERSION = re.compile(r"#define\s+CUDA_VERSION\s+(\d+)")
_RUNTIME = re.compile(r"^libcudart\.so\.\d+(\.\d+)?$")
# Every format TensorFlow has shipped: module variables (2.1: cuda_version_number = '10.1'),
# a dict (2.3: 'cuda_version': '10.1'), an OrderedDict of pairs (2.4+: ('cuda_version', '11.8')).
_BUILD_INFO_VALUE = r"""['"]?{key}['"]?\s*[:=,]\s*['"]([\d.]+)['"]"""

_PACKAGE_DIRS = {
    "cupy": "cupy",
    "flash-attn": "flash_attn",
    "onnxruntime-gpu": "onnxruntime",
    "tf-nightly": "tensorflow",
    "numba-cuda": "numba_cuda",
}
_ENTRY = dict(ENTRY_OBJECTS)
_ENTRY_CONSUMER = {"jax-cuda12-plugin": "jax-cuda-plugin", "jax-cuda13-plugin": "jax-cuda-plugin"}


@functools.lru_cache(maxsize=4096)
def _family(name: str) -> Optional[str]:
    """Which kind of framework a canonical distribution name is, if any."""
    if name in ("torch", "torchvision", "torchaudio", "jax", "jaxlib", "triton"):
        return name
    if name == "cupy" or name.startswith(("cupy-cuda", "cupy-rocm")):
        return "cupy"
    if re.fullmatch(r"jax-cuda\d+-(plugin|pjrt)", name):
        return "jax-plugin"
    if re.fullmatch(r"(tensorflow|tf-nightly)(-cpu|-gpu|-intel)?", name):
        return "tensorflow"
    if name in ("numba", "numba-cuda"):
        return "numba"
    if name in EXTENSIONS:
        return "extension"
    if re.fullmatch(r"(?!nvidia-)[a-z0-9][a-z0-9-]*-cu\d+", name):
        return "cuda-suffixed"  # RAPIDS (cudf-cu12 ...), tensorrt-cu12: built for that major
    return None


def _package_dir(site: str, name: str, family: str) -> str:
    if family == "cupy":
        return posixpath.join(site, "cupy")
    if family == "tensorflow":
        return posixpath.join(site, "tensorflow")
    match = re.fullmatch(r"jax-cuda(\d+)-(plugin|pjrt)", name)
    if match:
        major, kind = match.groups()
        sub = f"jax_cuda{major}_plugin" if kind == "plugin" else f"jax_plugins/xla_cuda{major}"
        return posixpath.join(site, sub)
    return posixpath.join(site, _PACKAGE_DIRS.get(name, name.replace("-", "_")))


def _version_py(host: Host, package_dir: str) -> Optional[dict[str, Optional[str]]]:
    text = host.read_text(posixpath.join(package_dir, "version.py"), limit=1 << 16)
    if text is None:
        return None
    found: dict[str, Optional[str]] = {}
    for match in _VERSION_PY.finditer(text):
        found.setdefault(match.group(1), match.group(2) or match.group(3) or None)
    return found


def _needed_runtimes(host: Host, paths: list[str]) -> tuple[str, ...]:
    runtimes: set[str] = set()
    for path in paths:
        real = host.resolve(path) or path
        try:
            with open_regular(host.real(real)) as handle:
                elf = ELFFile(handle, os.fstat(handle.fileno()).st_size, real)
                runtimes.update(n for n in elf.needed if _RUNTIME.match(n))
        except (OSError, ELFError):
            continue
    return tuple(sorted(runtimes))


def _entry_objects(host: Host, site: str, name: str, package_dir: str) -> list[str]:
    consumer = _ENTRY_CONSUMER.get(name, "cupy" if name.startswith("cupy") else name)
    patterns = _ENTRY.get(consumer)
    if patterns:
        return [p for pattern in patterns for p in glob_files(host, site, pattern)]
    relative = posixpath.relpath(package_dir, site)
    found = glob_files(host, site, f"{relative}/*.so") + glob_files(
        host, site, f"{relative}/*/*.so"
    )
    stem = name.replace("-", "_")
    return found + glob_files(host, site, f"{stem}*.so")


def _conda(env: Optional[Environment], *names: str) -> Optional[CondaPackage]:
    if env is None:
        return None
    return next((p for p in env.conda_packages if p.name in names), None)


class _Build:
    """The facts being gathered for one framework."""

    def __init__(self) -> None:
        self.variant: Optional[str] = None
        self.variant_from = "unknown"
        self.cuda: Optional[str] = None
        self.cuda_from = "unknown"
        self.cudnn: Optional[str] = None
        self.conda_build: Optional[str] = None
        self.gpu_code: list[GpuCode] = []

    def set(self, variant: Optional[str], cuda: Optional[str], source: str) -> None:
        """Record what one source says, unless an earlier (better) source said it already."""
        if variant is not None and self.variant is None:
            self.variant, self.variant_from = variant, source
        if cuda is not None and self.cuda is None:
            self.cuda, self.cuda_from = cuda, source


def _from_conda(build: _Build, record: Optional[CondaPackage]) -> None:
    if record is None:
        return
    build.conda_build = record.build
    variant, cuda, cudnn = conda_build_variant(record.build)
    build.set(variant, cuda, f"conda build {record.name}={record.version}={record.build}")
    build.cudnn = build.cudnn or cudnn


def _torch(host: Host, build: _Build, package_dir: str, env: Optional[Environment]) -> None:
    values = _version_py(host, package_dir)
    if values is not None and ("cuda" in values or "hip" in values):
        if values.get("hip"):
            build.set("rocm", None, "torch/version.py")
        elif values.get("cuda"):
            build.set("cuda", values["cuda"], "torch/version.py")
        else:
            build.set("cpu", None, "torch/version.py")
    _from_conda(build, _conda(env, "pytorch"))
    mutex = _conda(env, "pytorch-mutex")
    if mutex is not None and mutex.build in ("cpu", "cuda"):
        build.set(mutex.build, None, f"conda pytorch-mutex={mutex.version}={mutex.build}")
    if _conda(env, "cpuonly") is not None:
        build.set("cpu", None, "conda cpuonly")


def _tensorflow(host: Host, build: _Build, name: str, package_dir: str) -> None:
    path = posixpath.join(package_dir, "python", "platform", "build_info.py")
    text = host.read_text(path, limit=1 << 16)
    if text is None:  # TF 2.0 and 2.1 keep it in tensorflow_core/, beside tensorflow/
        path = posixpath.join(
            posixpath.dirname(package_dir), "tensorflow_core", "python", "platform", "build_info.py"
        )
        text = host.read_text(path, limit=1 << 16)
    if text is not None:
        cuda = re.search(_BUILD_INFO_VALUE.format(key=r"cuda_version(?:_number)?"), text)
        cudnn = re.search(_BUILD_INFO_VALUE.format(key=r"cudnn_version(?:_number)?"), text)
        is_cuda = re.search(r"""['"]?is_cuda_build['"]?\s*[:=,]\s*(True|False)""", text)
        if is_cuda and is_cuda.group(1) == "False":
            build.set("cpu", None, "tensorflow build_info.py")
        elif cuda:
            build.set("cuda", cuda.group(1), "tensorflow build_info.py")
            build.cudnn = cudnn.group(1) if cudnn else None
        archs = re.search(r"""['"]cuda_compute_capabilities['"]\s*[:,]\s*\[([^\]]*)\]""", text)
        if archs and build.variant == "cuda":
            codes = re.findall(r"(sm_\d+a?|compute_\d+a?)", archs.group(1))
            build.gpu_code.append(
                GpuCode(
                    path=path,
                    sass=tuple(c for c in codes if c.startswith("sm_")),
                    ptx=tuple(c for c in codes if c.startswith("compute_")),
                )
            )
    if name == "tensorflow-cpu":
        build.set("cpu", None, "distribution name")


def _triton(host: Host, build: _Build, package_dir: str) -> None:
    header = posixpath.join(package_dir, "backends", "nvidia", "include", "cuda.h")
    head = host.read_bytes(header, limit=1 << 16)  # the macro is near the top of cuda.h
    match = _CUDA_H_VERSION.search(head.decode("latin-1") if head else "")
    if match:
        number = int(match.group(1))
        build.set("cuda", f"{number // 1000}.{number % 1000 // 10}", "bundled cuda.h")


def _framework(
    host: Host,
    site: SiteDir,
    dist: Distribution,
    name: str,
    family: str,
    env: Optional[Environment],
    read_gpu_code: bool,
) -> Framework:
    package_dir = _package_dir(site.path, name, family)
    build = _Build()
    if family == "torch":
        _torch(host, build, package_dir, env)
    elif family in ("torchvision", "torchaudio"):
        _from_conda(build, _conda(env, family))
    elif family == "cupy":
        major = cupy_variant_cuda(name)
        if major is not None:
            build.set("cuda", major, "distribution name")
        elif name.startswith("cupy-rocm"):
            build.set("rocm", None, "distribution name")
        else:
            version = _conda(env, "cuda-version") or _conda(env, "cudatoolkit")
            if version is not None and _conda(env, "cupy", "cupy-core") is not None:
                build.set("cuda", ".".join(version.version.split(".")[:2]), f"conda {version.name}")
    elif family == "jax-plugin":
        plugin = re.search(r"cuda(\d+)", name)
        build.set("cuda", plugin.group(1) if plugin else None, "distribution name")
    elif family == "jaxlib":
        local = re.search(r"\+cuda(\d+)(?:\.cudnn(\d)(\d+))?", dist.version)
        if local:
            build.set("cuda", local.group(1), "version tag")
            if local.group(2):
                build.cudnn = f"{local.group(2)}.{local.group(3)}"
        _from_conda(build, _conda(env, "jaxlib"))
    elif family == "tensorflow":
        _tensorflow(host, build, name, package_dir)
        _from_conda(build, _conda(env, "tensorflow-base"))
    elif family == "triton":
        _triton(host, build, package_dir)
    elif family == "cuda-suffixed":
        build.set("cuda", name.rsplit("-cu", 1)[1], "distribution name")
    variant, cuda = local_tag_variant(dist.version)
    build.set(variant, cuda, "version tag")
    runtimes: tuple[str, ...] = ()
    if family not in ("jax", "numba", "triton", "cuda-suffixed"):
        runtimes = _needed_runtimes(host, _entry_objects(host, site.path, name, package_dir))
        if runtimes and family not in ("cupy", "jax-plugin"):
            major = runtimes[0].split(".so.", 1)[1].split(".")[0]
            build.set("cuda", major, f"NEEDED {runtimes[0]}")
    if read_gpu_code and build.variant != "cpu":
        key = "cupy" if family == "cupy" else name
        paths = [
            p
            for pattern in GPU_CODE_OBJECTS.get(key, ())
            for p in glob_files(host, site.path, pattern)
        ]
        if family not in ("jax", "numba", "triton", "cuda-suffixed"):
            paths += _entry_objects(host, site.path, name, package_dir)
        for path in dict.fromkeys(paths):
            code = gpu_code(host, path)
            if code.entries or code.error:
                build.gpu_code.append(code)
    return Framework(
        name=name,
        version=dist.version,
        site=site.path,
        package_dir=package_dir,
        installer=dist.installer,
        cuda=build.cuda,
        cuda_from=build.cuda_from,
        variant=build.variant,
        variant_from=build.variant_from,
        cudnn=build.cudnn,
        conda_build=build.conda_build,
        requires_dist=dist.requires_dist,
        runtime_needed=runtimes,
        gpu_code=tuple(build.gpu_code),
    )


def frameworks(
    host: Host,
    site_dirs: tuple[SiteDir, ...],
    env: Optional[Environment] = None,
    *,
    read_gpu_code: bool = False,
) -> tuple[Framework, ...]:
    """The first copy of each framework on sys.path (the one ``import`` gets)."""
    found: dict[str, Framework] = {}
    for site in site_dirs:
        if not site.exists or site.role not in ("site", "user", "pythonpath", "pth"):
            continue
        for dist in site.distributions:
            name = canonicalize_name(dist.name)
            family = _family(name)
            if family is None or name in found:
                continue
            found[name] = _framework(host, site, dist, name, family, env, read_gpu_code)
    return tuple(found.values())
