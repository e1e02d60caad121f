"""CUDA toolkits wherever they are, what each holds, and the one each consumer would use.

Sources: the variables (``CUDA_HOME``, ``CUDA_PATH``, ``CUDA_ROOT``), ``nvcc`` on PATH, the
usual system places (``/usr/local/cuda``, ``/usr/local/cuda-X.Y``, ``/opt/cuda``,
``/opt/cuda-X.Y``), the target environment's conda packages, and NVIDIA's pip wheels in its
site directories.

A root's version comes from, in order: ``version.json``, ``version.txt``, NVIDIA wheel
dist-infos kept in the root, the ``CUDA_VERSION`` macro of ``include/cuda.h``, conda-meta
(``cuda-version``, ``cuda-nvcc``, ``cudatoolkit``), the directory name (``cuda-12.4``).

Consumers, each by its own rules: torch's ``cpp_extension`` (CUDA_HOME, CUDA_PATH, the
directory above ``nvcc`` on PATH, ``/usr/local/cuda``), CuPy (CUDA_PATH, ``nvcc`` on PATH,
``/usr/local/cuda``), XLA (``--xla_gpu_cuda_data_dir`` in XLA_FLAGS, the pip ``cuda_nvcc``
wheel, ``/usr/local/cuda``).
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Optional

from .._formats.conda import parse_conda_meta_filename
from .._formats.metadata import canonicalize_name, parse_dist_dirname
from .._host import Host
from .._knowledge.compilers import limits_from_host_config
from .._knowledge.cuda_libs import is_cuda_library
from .._knowledge.drivers import parse_version
from ..snapshot import Command, Environment, SiteDir, Toolkit, ToolkitChoice

__all__ = ["discover_toolkits"]

_CUDA_H_VERSION = re.compile(rb"#define\s+CUDA_VERSION\s+(\d+)")
_EXEC_WRAPPER = re.compile(r"""^\s*exec\s+["']?(/[^\s"']+)""", re.MULTILINE)
_TRIPLES = ("x86_64-linux", "sbsa-linux", "aarch64-linux")


def _short(version: str) -> str:
    return ".".join(version.split(".")[:3])


def _version_json(data: bytes) -> str:
    """The toolkit version in ``version.json`` ("" when it has none)."""
    try:
        cuda = json.loads(data.decode("utf-8", errors="replace")).get("cuda", {})
    except (ValueError, AttributeError, RecursionError):  # RecursionError: [[[[... nested
        return ""
    if isinstance(cuda, dict) and isinstance(cuda.get("version"), str):
        return _short(cuda["version"])
    return ""


def _host_config_limits(data: bytes) -> tuple[Optional[int], Optional[int]]:
    return limits_from_host_config(data.decode("utf-8", errors="replace"))


def _cuda_files(names: list[str]) -> tuple[str, ...]:
    return tuple(n for n in names if is_cuda_library(n))


class _Examiner:
    def __init__(self, host: Host) -> None:
        self.host = host

    def version(self, root: str) -> tuple[Optional[str], Optional[str]]:
        host = self.host
        from_json = host.parsed(
            posixpath.join(root, "version.json"), "version.json", _version_json, 1 << 20
        )
        if from_json:
            return from_json, "version.json"
        text = host.read_text(posixpath.join(root, "version.txt"), limit=4096)
        if text:
            match = re.search(r"CUDA Version\s+(\d+\.\d+(?:\.\d+)?)", text)
            if match:
                return match.group(1), "version.txt"
        for entry in host.listdir(posixpath.join(root, "dist-info")):
            parsed = parse_dist_dirname(entry)
            if parsed and canonicalize_name(parsed[0]) in (
                "nvidia-cuda-nvcc",
                "nvidia-cuda-runtime",
            ):
                return _short(parsed[1]), f"dist-info:{entry}"
        for include in self._include_dirs(root):
            head = host.read_bytes(posixpath.join(include, "cuda.h"), limit=1 << 16)
            macro = _CUDA_H_VERSION.search(head or b"")
            if macro:
                number = int(macro.group(1))
                return f"{number // 1000}.{number % 1000 // 10}", f"{include}/cuda.h"
        for filename in host.listdir(posixpath.join(root, "conda-meta")):
            parsed_meta = parse_conda_meta_filename(filename)
            if parsed_meta and parsed_meta[0] in (
                "cuda-version",
                "cuda-nvcc",
                "cudatoolkit",
                "cuda-cudart",
                "cuda-toolkit",
            ):
                return parsed_meta[1], f"conda-meta:{parsed_meta[0]}"
        match_dir = re.search(r"cuda-(\d+\.\d+)", root)
        if match_dir:
            return match_dir.group(1), "path"
        return None, None

    def real_program(self, path: str) -> str:
        """The binary behind a symlink or an ``exec /real/path "$@"`` shell wrapper."""
        resolved = self.host.resolve(path) or path
        head = self.host.read_bytes(resolved, limit=4096) or b""
        if head.startswith(b"#!"):
            match = _EXEC_WRAPPER.search(head.decode("utf-8", errors="replace"))
            if match and match.group(1) != resolved:
                return self.host.resolve(match.group(1)) or match.group(1)
        return resolved

    def compiler_limits(
        self, include_dirs: list[str]
    ) -> tuple[Optional[str], Optional[int], Optional[int]]:
        """(header, newest gcc, newest clang) from the first ``crt/host_config.h`` found."""
        for include in include_dirs:
            header = posixpath.join(include, "crt", "host_config.h")
            limits = self.host.parsed(header, "host_config.h", _host_config_limits, 1 << 17)
            if limits is not None:
                return header, limits[0], limits[1]
        return None, None, None

    def _include_dirs(self, root: str) -> list[str]:
        dirs = [posixpath.join(root, "include")]
        dirs += [posixpath.join(root, "targets", t, "include") for t in _TRIPLES]
        return dirs

    def examine(self, root: str, source: str, named_by: tuple[str, ...]) -> Toolkit:
        host = self.host
        if not host.is_dir(root):
            return Toolkit(root=root, source=source, exists=False, named_by=named_by)
        version, version_from = self.version(root)

        def file(*parts: str) -> Optional[str]:
            path = posixpath.join(root, *parts)
            return path if host.is_file(path) else None

        nvcc = file("bin", "nvcc")
        nvcc_toolkit = None
        nvcc_version = version
        if nvcc is not None:
            real = self.real_program(nvcc)
            real_root = posixpath.dirname(posixpath.dirname(real))
            if posixpath.basename(posixpath.dirname(real_root)) == "targets":
                real_root = posixpath.dirname(posixpath.dirname(real_root))  # targets/<triple>
            if real_root != root:
                nvcc_toolkit = real_root
                nvcc_version = self.version(real_root)[0] or version

        has_include = bool(
            file("include", "cuda_runtime.h") and file("include", "cuda_runtime_api.h")
        )
        targets_include = None
        for triple in _TRIPLES:
            if file("targets", triple, "include", "cuda_runtime.h") and file(
                "targets", triple, "include", "cuda_runtime_api.h"
            ):
                targets_include = posixpath.join(root, "targets", triple, "include")
                break
        lib_dirs = [
            d
            for d in (
                posixpath.join(root, "lib64"),
                posixpath.join(root, "lib"),
                *(posixpath.join(root, "targets", t, "lib") for t in _TRIPLES),
            )
            if host.is_dir(d)
        ]
        libraries = sorted(
            {n for d in lib_dirs for n in host.listdir_parsed(d, "cuda-files", _cuda_files) or ()}
        )
        stubs = [
            posixpath.join(d, "stubs", "libcuda.so")
            for d in lib_dirs
            if host.is_file(posixpath.join(d, "stubs", "libcuda.so"))
        ]
        libdevice = next(
            (
                p
                for p in (
                    posixpath.join(root, "nvvm", "libdevice", "libdevice.10.bc"),
                    posixpath.join(root, "lib", "libdevice.10.bc"),
                )
                if host.is_file(p)
            ),
            None,
        )
        host_config, gcc_max, clang_max = self.compiler_limits(
            [posixpath.join(root, "include")]
            + [posixpath.join(root, "targets", t, "include") for t in _TRIPLES]
            if nvcc
            else []
        )
        return Toolkit(
            root=root,
            source=source,
            exists=True,
            version=version,
            version_from=version_from,
            gcc_max=gcc_max,
            clang_max=clang_max,
            host_config=host_config,
            nvcc=nvcc,
            nvcc_toolkit=nvcc_toolkit,
            nvcc_version=nvcc_version if nvcc else None,
            ptxas=file("bin", "ptxas"),
            runtime_headers=has_include or targets_include is not None,
            include_dir=posixpath.join(root, "include") if has_include else None,
            targets_include=targets_include,
            has_include=has_include,
            has_lib64=host.is_dir(posixpath.join(root, "lib64")),
            lib_dirs=tuple(lib_dirs),
            libraries=tuple(libraries),
            libdevice=libdevice,
            stubs=tuple(stubs),
            named_by=named_by,
        )


def _pip_toolkit(host: Host, site: SiteDir) -> Optional[Toolkit]:
    """NVIDIA's CUDA wheels in one site directory, seen as one (partial) toolkit."""
    base = posixpath.join(site.path, "nvidia")
    if not host.is_dir(base):
        return None
    dists = {canonicalize_name(d.name): d.version for d in site.distributions}
    version = None
    version_from = None
    for wanted in ("nvidia-cuda-runtime", "nvidia-cuda-nvcc"):  # the runtime is what loads
        match = next((n for n in sorted(dists) if n.startswith(wanted)), None)
        if match is not None:
            version, version_from = _short(dists[match]), f"dist-info:{match}"
            break
    # ptxas and NVVM are the nvcc wheel's, whose version can differ from the runtime's (torch
    # pins the runtime; `pip install nvidia-cuda-nvcc-cu12` takes the newest compiler)
    compiler = next((n for n in sorted(dists) if n.startswith("nvidia-cuda-nvcc")), None)
    compiler_version = _short(dists[compiler]) if compiler else None
    parts = [
        p for p in ("cu13", "cuda_nvcc", "cuda_runtime") if host.is_dir(posixpath.join(base, p))
    ]
    nvcc = next(
        (f"{base}/{p}/bin/nvcc" for p in parts if host.is_file(f"{base}/{p}/bin/nvcc")), None
    )
    ptxas = next(
        (f"{base}/{p}/bin/ptxas" for p in parts if host.is_file(f"{base}/{p}/bin/ptxas")), None
    )
    include = next(
        (
            f"{base}/{p}/include"
            for p in ("cu13", "cuda_runtime")
            if host.is_file(f"{base}/{p}/include/cuda_runtime.h")
        ),
        None,
    )
    lib_dirs = [
        f"{base}/{entry}/lib" for entry in host.listdir(base) if host.is_dir(f"{base}/{entry}/lib")
    ]
    libraries = sorted({n for d in lib_dirs for n in host.listdir(d) if is_cuda_library(n)})
    libdevice = next(
        (
            f"{base}/{p}/nvvm/libdevice/libdevice.10.bc"
            for p in ("cu13", "cuda_nvcc")
            if host.is_file(f"{base}/{p}/nvvm/libdevice/libdevice.10.bc")
        ),
        None,
    )
    if not (libraries or nvcc or ptxas):
        return None
    return Toolkit(
        root=base,
        source="pip",
        exists=True,
        version=version,
        version_from=version_from,
        nvcc=nvcc,
        nvcc_version=compiler_version or (version if nvcc else None),
        ptxas=ptxas,
        runtime_headers=include is not None,
        include_dir=include,
        has_include=include is not None,
        lib_dirs=tuple(lib_dirs),
        libraries=tuple(libraries),
        libdevice=libdevice,
        named_by=(f"pip wheels in {site.path}",),
    )


def discover_toolkits(
    host: Host,
    env: Optional[Environment],
    site_dirs: tuple[SiteDir, ...],
    nvcc: Optional[Command],
) -> tuple[tuple[Toolkit, ...], tuple[ToolkitChoice, ...]]:
    examiner = _Examiner(host)
    roots: dict[str, list[str]] = {}  # resolved root -> how it is named
    given: dict[str, str] = {}  # variable -> its value as written

    def add(path: str, name: str) -> None:
        names = roots.setdefault(host.resolve(path) or path, [])
        if name not in names:
            names.append(name)

    for variable in ("CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"):
        value = host.env(variable)
        if not value:
            continue
        given[variable] = value
        if value.startswith("/") and ":" not in value and ";" not in value:
            add(host.normalize(value), variable)
    nvcc_root = None
    if nvcc is not None and nvcc.path:
        nvcc_root = posixpath.dirname(posixpath.dirname(nvcc.path))
        add(nvcc_root, "nvcc on PATH")
    ptxas = next(iter(host.which("ptxas", host.env_path_list("PATH"))), None)
    ptxas_root = posixpath.dirname(posixpath.dirname(ptxas)) if ptxas else None
    if ptxas_root is not None:
        add(ptxas_root, "ptxas on PATH")
    for path in ("/usr/local/cuda", "/opt/cuda"):
        if host.is_dir(path):
            add(path, path)
    for parent in ("/usr/local", "/opt"):
        for entry in host.listdir(parent):
            if re.fullmatch(r"cuda-\d+(\.\d+)?", entry):
                add(f"{parent}/{entry}", f"{parent}/{entry}")
    if env is not None and env.has_conda_meta and _conda_source(env) is not None:
        add(env.prefix, "the environment")
    toolkits = [
        examiner.examine(root, _source(host, root, env), tuple(named_by))
        for root, named_by in roots.items()
    ]
    seen_pip: set[str] = set()
    for site in site_dirs:
        if (
            site.role in ("site", "user", "pythonpath")
            and site.exists
            and site.path not in seen_pip
        ):
            seen_pip.add(site.path)
            pip_toolkit = _pip_toolkit(host, site)
            if pip_toolkit is not None:
                toolkits.append(pip_toolkit)
    jaxlib = next(
        (
            d.version
            for site in site_dirs
            for d in site.distributions
            if canonicalize_name(d.name) == "jaxlib"
        ),
        None,
    )
    xla = ToolkitChoice("xla", *_xla_ptxas(host, toolkits, jaxlib, ptxas_root))
    return tuple(toolkits), (*_choices(host, given, nvcc_root), xla)


_PTXAS_MINIMUM = (11, 8)
_PTXAS_EXCLUDED = ("12.3.103",)


def _xla_ptxas(
    host: Host, toolkits: list[Toolkit], jaxlib: Optional[str], ptxas_root: Optional[str]
) -> tuple[Optional[str], str]:
    """The CUDA root whose ptxas XLA runs, in jaxlib's order (openxla/xla
    ``FindCudaExecutable``; jax's ``_cuda_path`` sets ``--xla_gpu_cuda_data_dir``):

    * jax points the data dir at ``CUDA_ROOT`` (jaxlib 0.4.35+) or the pip ``nvidia/cuda_nvcc``
      wheel; ``XLA_FLAGS=--xla_gpu_cuda_data_dir`` names one by hand;
    * jaxlib ≤ 0.4.23: ``ptxas`` on PATH first (``PreferPtxasFromPath()`` is true), then the
      data dir, then the candidate roots (``/usr/local/cuda``, the pip wheel);
    * 0.4.24+: the data dir, then PATH, then the candidate roots;
    * 0.4.26+: a ptxas older than 11.8, or 12.3.103, is passed over."""
    version = parse_version(jaxlib) if jaxlib else (0, 4, 30)
    by_root = {t.root: t for t in toolkits}

    def usable(root: Optional[str]) -> bool:
        toolkit = by_root.get(_resolved(host, root) or "") if root else None
        if toolkit is None or not toolkit.exists or toolkit.ptxas is None:
            return False
        if version < (0, 4, 26):
            return True
        found = toolkit.nvcc_version or toolkit.version
        if found is None:
            return True
        return parse_version(found)[:2] >= _PTXAS_MINIMUM and found not in _PTXAS_EXCLUDED

    flags = host.env("XLA_FLAGS") or ""
    given = re.search(r"--xla_gpu_cuda_data_dir=(\S+)", flags)
    pip_nvcc = next((t.root for t in toolkits if t.source == "pip" and t.ptxas), None)
    cuda_root = host.env("CUDA_ROOT") if version >= (0, 4, 35) else None
    data_dir: tuple[Optional[str], str] = (
        (given.group(1), "XLA_FLAGS --xla_gpu_cuda_data_dir")
        if given
        else (cuda_root, "CUDA_ROOT (jax's data dir)")
        if cuda_root
        else (pip_nvcc, "pip cuda_nvcc wheel (jax's data dir)")
    )
    path = (ptxas_root, "ptxas on PATH")
    local = ("/usr/local/cuda" if host.exists("/usr/local/cuda") else None, "/usr/local/cuda")
    wheel = (pip_nvcc, "pip cuda_nvcc wheel")
    order = (
        [path, data_dir, local, wheel] if version < (0, 4, 24) else [data_dir, path, local, wheel]
    )
    for root, rule in order:
        if usable(root):
            return _resolved(host, root), rule
    # nothing usable: name where XLA looks first, so findings can say what is missing there
    first = next(((r, why) for r, why in order if r), (None, "none found"))
    return _resolved(host, first[0]), first[1]


def _conda_source(env: Environment) -> Optional[str]:
    names = {p.name for p in env.conda_packages}
    if "cudatoolkit" in names and not names & {"cuda-nvcc", "cuda-toolkit", "cudatoolkit-dev"}:
        return "conda-cudatoolkit"
    cuda_packages = {
        "cuda-nvcc",
        "cuda-cudart",
        "cuda-cudart-dev",
        "cuda-toolkit",
        "cuda-version",
        "cudatoolkit",
        "cudatoolkit-dev",
    }
    return "conda" if names & cuda_packages else None


def _source(host: Host, root: str, env: Optional[Environment]) -> str:
    if env is not None and root == env.prefix and env.has_conda_meta:
        return _conda_source(env) or "conda"
    if host.is_dir(posixpath.join(root, "conda-meta")):
        return "conda"
    if root == "/usr":
        return "distro"
    return "system"


def _resolved(host: Host, path: Optional[str]) -> Optional[str]:
    if path is None or not path.startswith("/"):
        return path
    return host.resolve(host.normalize(path)) or path


def _choices(
    host: Host, given: dict[str, str], nvcc_root: Optional[str]
) -> tuple[ToolkitChoice, ...]:
    local_cuda = "/usr/local/cuda" if host.exists("/usr/local/cuda") else None

    def first(*candidates: tuple[Optional[str], str]) -> tuple[Optional[str], str]:
        for value, rule in candidates:
            if value:
                return value, rule
        return None, "none found"

    torch = first(
        (given.get("CUDA_HOME"), "CUDA_HOME"),
        (given.get("CUDA_PATH"), "CUDA_PATH"),
        (nvcc_root, "nvcc on PATH"),
        (local_cuda, "/usr/local/cuda"),
    )
    cupy = first(
        (given.get("CUDA_PATH"), "CUDA_PATH"),
        (nvcc_root, "nvcc on PATH"),
        (local_cuda, "/usr/local/cuda"),
    )
    return tuple(
        ToolkitChoice(consumer, _resolved(host, root), rule)
        for consumer, (root, rule) in (("torch", torch), ("cupy", cupy))
    )
