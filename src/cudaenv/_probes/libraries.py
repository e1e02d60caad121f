"""The target interpreter's process as the loader would build it, CUDA libraries first.

One :class:`LoaderModel` stands for the process: the interpreter starts (with LD_PRELOAD);
each installed framework's entry objects are ``dlopen()``ed in import order, so a later
extension (``torchvision/_C.so``) resolves against what an earlier framework loaded; then
every NVIDIA wheel library not yet loaded is opened by path, as torch's preload and
cuda-pathfinder do; then the names frameworks ``dlopen()`` at run time (``libcuda.so.1``,
CuPy's NVRTC).  Each CUDA library gets its owner (the wheel, conda package or toolkit that
put it there) and version; versioned symbols the loader's choice lacks are recorded.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Sequence
from typing import Optional

from .._formats.elffile import ELFError, ELFFile, SymbolVersions
from .._formats.metadata import canonicalize_name
from .._host import Host, open_regular
from .._knowledge.builds import tensorflow_libraries
from .._knowledge.cuda_libs import (
    CONDA_PACKAGE_FOR_LIBRARY,
    WHEEL_DIR_DISTRIBUTION,
    cuda_library_stem,
    is_cuda_library,
)
from .._knowledge.frameworks import ENTRY_OBJECTS, OPENED_BY_NAME
from ..snapshot import (
    Environment,
    Framework,
    Libraries,
    LibraryTree,
    LoadedLibrary,
    Resolution,
    ShippedLibrary,
    SiteDir,
    SymbolGap,
    Target,
    Toolkit,
    UncachedLibraries,
)
from .loader import LoaderModel

__all__ = ["glob_files", "library_facts"]

_REAL_VERSION = re.compile(r"\.so\.(\d+(?:\.\d+)+)$")
_CU13_DISTRIBUTION = {
    "libcudart": "nvidia-cuda-runtime",
    "libcublas": "nvidia-cublas",
    "libcublasLt": "nvidia-cublas",
    "libnvrtc": "nvidia-cuda-nvrtc",
    "libnvrtc-builtins": "nvidia-cuda-nvrtc",
    "libnvJitLink": "nvidia-nvjitlink",
    "libcusparse": "nvidia-cusparse",
    "libcufft": "nvidia-cufft",
    "libcurand": "nvidia-curand",
    "libcusolver": "nvidia-cusolver",
    "libcupti": "nvidia-cuda-cupti",
    "libnvvm": "nvidia-nvvm",
    "libcufile": "nvidia-cufile",
}
_MAX_GAPS_PER_PAIR = 10


def glob_files(host: Host, base: str, pattern: str) -> list[str]:
    """``pattern`` (``/``-separated, wildcards per component) under ``base``, sorted."""
    paths = [base]
    for part in pattern.split("/"):
        matched = []
        for path in paths:
            if any(c in part for c in "*?["):
                literal = re.split(r"[*?\[]", part, maxsplit=1)[0]  # cheap test first
                matched += [
                    posixpath.join(path, n)
                    for n in host.listdir(path)
                    if n.startswith(literal) and fnmatch.fnmatchcase(n, part)
                ]
            else:
                matched.append(posixpath.join(path, part))
        paths = matched
    return sorted(p for p in paths if host.is_file(p))


class _Owners:
    """Which package put a library file where it is, and the version that makes it."""

    def __init__(
        self,
        host: Host,
        env: Optional[Environment],
        sites: list[SiteDir],
        toolkits: tuple[Toolkit, ...],
    ) -> None:
        self.host = host
        self.by_dir: dict[str, list[tuple[Optional[str], str, Optional[str]]]] = {}
        self.shipped: list[ShippedLibrary] = []
        for site in sites:
            self._wheels(site)
            self._bundled(site)
        if env is not None and env.has_conda_meta:
            self._conda(env)
        for toolkit in toolkits:
            if toolkit.source in ("system", "distro", "given"):
                for directory in toolkit.lib_dirs:
                    self._add(directory, None, f"toolkit {toolkit.root}", toolkit.version)

    def _add(self, directory: str, stem: Optional[str], owner: str, version: Optional[str]) -> None:
        key = self.host.resolve(directory) or directory
        self.by_dir.setdefault(key, []).append((stem, owner, version))

    def _wheels(self, site: SiteDir) -> None:
        base = posixpath.join(site.path, "nvidia")
        if not self.host.is_dir(base):
            return
        dists = {canonicalize_name(d.name): d.version for d in site.distributions}

        def installed(prefix: str) -> Optional[tuple[str, str]]:
            for name in sorted(dists):
                if name == prefix or re.fullmatch(re.escape(prefix) + r"-cu\d+", name):
                    return name, dists[name]
            return None

        for component in self.host.listdir(base):
            libdir = posixpath.join(base, component, "lib")
            if not self.host.is_dir(libdir):
                continue
            for filename in self.host.listdir(libdir):
                stem = cuda_library_stem(filename)
                if stem is None:
                    continue
                prefix = (
                    _CU13_DISTRIBUTION.get(stem)
                    if component == "cu13"
                    else WHEEL_DIR_DISTRIBUTION.get(component)
                )
                dist = installed(prefix) if prefix else None
                owner = f"pip {dist[0]}" if dist else f"pip (nvidia/{component})"
                version = dist[1] if dist else None
                self._add(libdir, stem, owner, version)
                self.shipped.append(
                    ShippedLibrary(filename, posixpath.join(libdir, filename), owner, version)
                )

    def _bundled(self, site: SiteDir) -> None:
        """CUDA libraries a framework wheel carries in its own lib dir (torch ≤ 1.12 from
        PyPI: ``torch/lib/libcublas.so.10`` behind DT_RUNPATH ``$ORIGIN``). Their version is
        the framework's CUDA, which the check reads from the framework."""
        if not any(canonicalize_name(d.name) == "torch" for d in site.distributions):
            return
        libdir = posixpath.join(site.path, "torch", "lib")
        for filename in self.host.listdir(libdir):
            if cuda_library_stem(filename) is None or "-" in filename.split(".so")[0]:
                continue  # hashed names (libcudart-e409450e.so.11.0) are nobody else's
            self.shipped.append(
                ShippedLibrary(filename, posixpath.join(libdir, filename), "bundled torch", None)
            )

    def _conda(self, env: Environment) -> None:
        packages = {p.name: p.version for p in env.conda_packages}
        libdirs = [posixpath.join(env.prefix, "lib")] + [
            posixpath.join(env.prefix, "targets", t, "lib") for t in ("x86_64-linux", "sbsa-linux")
        ]
        for libdir in libdirs:
            for filename in self.host.listdir(libdir):
                stem = cuda_library_stem(filename)
                if stem is None:
                    continue
                package = CONDA_PACKAGE_FOR_LIBRARY.get(stem)
                if package not in packages:
                    package = "cudatoolkit" if "cudatoolkit" in packages else package
                if package in packages:
                    owner, version = f"conda {package}", packages[package]
                    self._add(libdir, stem, owner, version)
                    self.shipped.append(
                        ShippedLibrary(filename, posixpath.join(libdir, filename), owner, version)
                    )

    def describe(self, path: str) -> tuple[Optional[str], Optional[str]]:
        """(owner, version) of a library file; the version of its real file name otherwise."""
        real = self.host.resolve(path) or path
        real_version = _REAL_VERSION.search(posixpath.basename(real))
        stem = cuda_library_stem(posixpath.basename(path))
        directory = self.host.resolve(posixpath.dirname(path)) or posixpath.dirname(path)
        for entry_stem, owner, version in self.by_dir.get(directory, ()):
            if entry_stem in (None, stem):
                if owner.startswith("toolkit") and real_version:
                    return owner, real_version.group(1)
                return owner, version or (real_version.group(1) if real_version else None)
        return None, real_version.group(1) if real_version else None


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def _is_stub(host: Host, path: Optional[str]) -> bool:
    if path is None:
        return False
    real = host.resolve(path) or path
    return "/stubs/" in real + "/" or "/stubs/" in path


def _library(
    host: Host, owners: _Owners, resolution: Resolution, needed_by: Optional[str] = None
) -> LoadedLibrary:
    target = resolution.path
    cuda = is_cuda_library(posixpath.basename(resolution.name)) or (
        target is not None and is_cuda_library(posixpath.basename(target))
    )
    owner, version = owners.describe(target) if target and cuda else (None, None)
    return LoadedLibrary(
        name=resolution.name,
        path=target,
        via=resolution.via,
        needed_by=needed_by or resolution.needed_by,
        error=resolution.error,
        tried=resolution.tried if cuda else (),
        cuda=cuda,
        version=version,
        owner=owner,
        stub=_is_stub(host, target),
    )


class _Symbols:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.cache: dict[str, Optional[SymbolVersions]] = {}

    def of(self, path: str) -> Optional[SymbolVersions]:
        real = self.host.resolve(path) or path
        if real not in self.cache:
            try:
                with open_regular(self.host.real(real)) as handle:
                    elf = ELFFile(handle, os.fstat(handle.fileno()).st_size, real)
                    self.cache[real] = elf.symbol_versions
            except (OSError, ELFError):
                self.cache[real] = None
        return self.cache[real]


def _symbol_gaps(host: Host, model: LoaderModel) -> list[SymbolGap]:
    """Versioned imports of CUDA libraries that the library the loader picked does not define."""
    symbols = _Symbols(host)
    gaps: list[SymbolGap] = []
    for obj in model.loaded:
        if not is_cuda_library(posixpath.basename(obj.path)):
            continue
        wanted = symbols.of(obj.path)
        if wanted is None:
            continue
        for need in wanted.needed_versions:
            provider = model.object_for_name(need.file)
            if provider is None or not is_cuda_library(need.file):
                continue
            offered = symbols.of(provider.path)
            if offered is None:
                continue
            found = 0
            for node, weak in need.versions:
                if node not in offered.defined_versions and not weak:
                    gaps.append(SymbolGap(obj.path, provider.path, "", node, node_missing=True))
            for symbol, symbol_version, file in wanted.imports:
                if file != need.file or symbol_version is None:
                    continue
                if (symbol, symbol_version) in offered.exports:
                    continue
                gaps.append(SymbolGap(obj.path, provider.path, symbol, symbol_version))
                found += 1
                if found >= _MAX_GAPS_PER_PAIR:
                    break
    return gaps


def _versioned_cuda(names: list[str]) -> tuple[str, ...]:
    """The CUDA libraries of a directory listing that ldconfig would cache (``.so.N``)."""
    return tuple(n for n in names if is_cuda_library(n) and re.search(r"\.so\.\d+$", n))


def _cached_by_directory(host: Host, paths: set[str]) -> set[tuple[str, str]]:
    """The cache's entries as (directory, file name), each directory by what it resolves to.

    ldconfig scans a directory listed under two names once (``/lib/x86_64-linux-gnu`` and
    ``/usr/lib/x86_64-linux-gnu`` on a merged-/usr system) and records its libraries under the
    first name: the directory, not the spelling, says whether a library is cached."""
    entries = set()
    for path in paths:
        directory, _, name = path.rpartition("/")
        entries.add((host.resolve(directory or "/") or directory, name))
    return entries


_CUPY_PROBE = re.compile(r"cupy_backends/cuda/api/runtime\.cpython-[^,/]+\.so,[^,]*,(\d+)$")


def _overwritten_cupys(host: Host, sites: list[SiteDir]) -> set[str]:
    """CuPy distributions whose files are no longer on disk: two of them share one ``cupy``
    directory and the last install's files are the ones there. Which one that is, the files
    say: the size of ``cupy_backends/cuda/api/runtime*.so`` against each RECORD's."""
    lost: set[str] = set()
    for site in sites:
        cupys = [
            d
            for d in site.distributions
            if canonicalize_name(d.name).startswith("cupy-cuda") and d.path.endswith(".dist-info")
        ]
        if len(cupys) < 2:
            continue
        on_disk: dict[str, bool] = {}
        for dist in cupys:
            record = host.read_text(posixpath.join(dist.path, "RECORD"), limit=1 << 22) or ""
            for line in record.splitlines():
                match = _CUPY_PROBE.search(line)
                if match is None:
                    continue
                module = posixpath.join(site.path, line.split(",", 1)[0])
                st = host.stat(module)
                on_disk[canonicalize_name(dist.name)] = st is not None and st.st_size == int(
                    match.group(1)
                )
                break
        if any(on_disk.values()):  # undecidable without sizes: keep every name
            lost |= {name for name, here in on_disk.items() if not here}
    return lost


def library_facts(
    host: Host,
    target: Target,
    env: Optional[Environment],
    site_dirs: tuple[SiteDir, ...],
    toolkits: tuple[Toolkit, ...],
    frameworks: tuple[Framework, ...] = (),
    conf_dirs: Sequence[tuple[str, str]] = (),
) -> Libraries:
    """What the target's Python loads, and the CUDA libraries around it; ``conf_dirs`` are
    the directories ``/etc/ld.so.conf`` lists (``searchpaths.ld_so_conf_dirs``)."""
    interp = target.interpreter
    program = interp.resolved if interp is not None and interp.exists else None
    model = LoaderModel(host, main=program)
    if program is not None and model.info(program).error is None:
        model.start_program(program)
    sites = [s for s in site_dirs if s.exists and s.role in ("site", "user", "pythonpath", "pth")]
    owners = _Owners(host, env, sites, toolkits)
    trees: list[LibraryTree] = []
    for consumer, patterns in ENTRY_OBJECTS:
        for site in sites:  # the first copy on sys.path is the one imported
            starts = [p for pattern in patterns for p in glob_files(host, site.path, pattern)]
            if starts:
                # One tree per framework: later entry objects add what the first did not load.
                merged: dict[str, LoadedLibrary] = {}
                for start in starts:
                    for resolution in model.dlopen(start, model.main):
                        if resolution.name not in merged:
                            merged[resolution.name] = _library(host, owners, resolution)
                trees.append(LibraryTree(consumer, starts[0], tuple(merged.values())))
                break
    # Names opened at run time, before anything else is loaded on the frameworks' behalf.
    versions = {canonicalize_name(d.name): d.version for s in sites for d in s.distributions}
    opened_by_name = [
        _library(host, owners, model.find(n, model.main))
        for n in ("libcuda.so.1", "libcuda.so", "libnvidia-ml.so.1")
    ]
    for built in frameworks:
        # TensorFlow dlopen()s the CUDA runtime and cuDNN it was built for from
        # libtensorflow_framework.so.2 (TSL's DsoLoader), so that object's DT_RUNPATH applies:
        # "$ORIGIN/" in 2.12, plus the nvidia/*/lib wheel dirs from 2.14 — after
        # LD_LIBRARY_PATH, as every RUNPATH.  Without that file to read: the wheels, then the
        # loader's path.
        if built.name.startswith(("tensorflow", "tf-nightly")) and built.variant == "cuda":
            framework_so = posixpath.join(built.package_dir, "libtensorflow_framework.so.2")
            requester = None
            if model.info(framework_so).error is None:
                model.dlopen(framework_so, model.main)
                requester = model.object_for(framework_so)
            for name in tensorflow_libraries(built.cuda, built.cudnn, built.version):
                shipped_copy = next((c for c in owners.shipped if c.name == name), None)
                if requester is not None:
                    opened_by_name.append(
                        _library(host, owners, model.find(name, requester), "tensorflow")
                    )
                elif shipped_copy is not None:
                    opened_by_name.append(
                        LoadedLibrary(
                            name=name,
                            path=shipped_copy.path,
                            via="wheel scan",
                            needed_by="tensorflow",
                            cuda=True,
                            version=shipped_copy.version,
                            owner=shipped_copy.owner,
                        )
                    )
                else:
                    opened_by_name.append(
                        _library(host, owners, model.find(name, model.main), "tensorflow")
                    )
    overwritten = _overwritten_cupys(host, sites)
    for framework, dist, names in OPENED_BY_NAME:
        if dist not in versions or dist in overwritten:
            continue
        # CuPy 14 finds CUDA libraries with cuda-pathfinder: NVIDIA wheels first, then dlopen.
        pathfinder = framework == "cupy" and _major(versions[dist]) >= 14
        for name in names:
            shipped_copy = next((c for c in owners.shipped if c.name == name), None)
            if pathfinder and shipped_copy is not None:
                opened_by_name.append(
                    LoadedLibrary(
                        name=name,
                        path=shipped_copy.path,
                        via="pathfinder",
                        needed_by=framework,
                        cuda=True,
                        version=shipped_copy.version,
                        owner=shipped_copy.owner,
                    )
                )
            else:
                opened_by_name.append(
                    _library(host, owners, model.find(name, model.main), framework)
                )
    # Then every wheel library by path, as torch's preload and cuda-pathfinder open them.
    for shipped in owners.shipped:
        versioned = re.search(r"\.so\.\d", shipped.name) is not None
        if shipped.owner.startswith("pip") and versioned and model.object_for(shipped.path) is None:
            loaded = model.dlopen(shipped.path, model.main)
            objects = tuple(_library(host, owners, r) for r in loaded)
            trees.append(LibraryTree(shipped.owner.split(" ", 1)[1], shipped.path, objects))
    cached: Optional[set[tuple[str, str]]] = None  # built only when a conf dir has CUDA libs
    uncached = []
    for conf, directory in conf_dirs:
        cuda_names = host.listdir_parsed(directory, "cuda-versioned", _versioned_cuda) or ()
        if cuda_names and cached is None:
            cached = _cached_by_directory(host, model.cached_paths())
        where = host.resolve(directory) or directory
        found = tuple(n for n in cuda_names if cached is not None and (where, n) not in cached)
        if found:
            uncached.append(UncachedLibraries(conf, directory, found))
    return Libraries(
        interpreter=program,
        machine=model.machine,
        ld_library_path=tuple(model.ld_library_path),
        preload=tuple(_library(host, owners, r) for r in model.preloaded),
        trees=tuple(trees),
        opened_by_name=tuple(opened_by_name),
        shipped=tuple(owners.shipped),
        symbol_gaps=tuple(_symbol_gaps(host, model)),
        cache_exists=model.cache_exists,
        cache_error=model.cache_error,
        uncached=tuple(uncached),
    )
