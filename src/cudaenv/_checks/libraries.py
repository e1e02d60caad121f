"""Which copy of each CUDA library the loader picks for the frameworks, and what is wrong
with it: missing, shadowed, lacking symbols, a driver stub, mixed wheel families, unmet pins."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from typing import Optional

from .._formats.metadata import canonicalize_name, requirement_name
from .._formats.pyversion import version_tuple
from .._formats.requirements import contains, evaluate_marker, simple_requirement
from .._knowledge.cuda_libs import (
    DRIVER_LIBRARIES,
    WHEEL_FOR_LIBRARY,
    cuda_library_stem,
    library_major,
    nvidia_wheel,
)
from .._knowledge.drivers import parse_version
from ..actions import Action, drop_path, manual, pip_install
from ..findings import Finding
from ..snapshot import Distribution, LibraryTree, LoadedLibrary, Snapshot
from ._common import finding, quote
from ._gpu import CPU_FALLBACK, cuda_major, gpu_expected

__all__ = [
    "cuda_wheel_requirements_unmet",
    "cudnn_version_mismatch",
    "driver_stub_shadowing",
    "ld_cache_stale",
    "library_missing",
    "library_shadowed",
    "mixed_cuda_wheel_families",
    "symbol_version_missing",
]

_WHEEL = re.compile(r"^(nvidia-.+?)(?:-cu(\d+))?$")
_VERSIONED_LIKE_CUDA = frozenset(
    {
        "nvidia-cuda-runtime",
        "nvidia-cuda-nvrtc",
        "nvidia-cuda-nvcc",
        "nvidia-cuda-cupti",
        "nvidia-cuda-crt",
        "nvidia-cuda-cccl",
        "nvidia-nvjitlink",
        "nvidia-nvvm",
        "nvidia-cublas",
    }
)
"""Suffixless wheels (CUDA 13+) whose version is the CUDA version."""


def _framework_trees(s: Snapshot) -> list[LibraryTree]:
    return [t for t in s.libraries.trees if not t.consumer.startswith("nvidia-")]


def _all_objects(s: Snapshot) -> Iterable[tuple[LibraryTree, LoadedLibrary]]:
    for tree in s.libraries.trees:
        for obj in tree.objects:
            yield tree, obj


def _is_driver(name: str) -> bool:
    return cuda_library_stem(posixpath.basename(name)) in DRIVER_LIBRARIES


def _ld_library_path_fix(s: Snapshot, directory: str) -> str:
    keep = [d for d in s.libraries.ld_library_path if d != directory]
    if keep:
        return f"export LD_LIBRARY_PATH={quote(':'.join(keep))}"
    return "unset LD_LIBRARY_PATH"


def _written_entries(s: Snapshot, directory: str) -> list[str]:
    """LD_LIBRARY_PATH entries as written that lead to ``directory`` (the loader searches
    them lexically normalised)."""
    raw = s.environ.get("LD_LIBRARY_PATH", "")
    found = [e for e in raw.split(":") if e and posixpath.normpath(e) == directory]
    return found or [directory]


def _drop_ld_path(entries: list[str], why: str) -> Action:
    return drop_path("LD_LIBRARY_PATH", tuple(dict.fromkeys(entries)), why)


def _wheel_dists(s: Snapshot) -> list[Distribution]:
    return [
        d
        for site in s.site_dirs
        if site.role in ("site", "user", "pythonpath", "pth")
        for d in site.distributions
        if canonicalize_name(d.name).startswith("nvidia-")
    ]


def library_missing(s: Snapshot) -> Iterator[Finding]:
    shipped_names = {lib.name for lib in s.libraries.shipped}
    missing: dict[str, list[str]] = {}
    openers: dict[str, list[str]] = {}  # framework -> the names it opens that are missing
    for tree, obj in _all_objects(s):
        if not obj.cuda or obj.path is not None or obj.error or _is_driver(obj.name):
            continue
        if tree.consumer.startswith("nvidia-") and obj.name in shipped_names:
            continue  # another wheel ships it: consumers load wheels in dependency order
        missing.setdefault(obj.name, []).append(f"{tree.consumer}: needed by {obj.needed_by}")
    for obj in s.libraries.opened_by_name:
        if obj.needed_by == "tensorflow" and not any(
            gpu_expected(s, f) for f in s.frameworks if f.name.startswith(CPU_FALLBACK)
        ):
            continue  # TensorFlow on a CPU machine runs on the CPU: nothing is missing
        if obj.path is None and not obj.error and not _is_driver(obj.name):
            by = f" by {obj.needed_by}" if obj.needed_by else ""
            missing.setdefault(obj.name, []).append(f"opened by name (dlopen) at run time{by}")
            if obj.needed_by:
                openers.setdefault(obj.needed_by, []).append(obj.name)
    if not missing:
        return
    names = sorted(missing)
    trace = next(
        (o for _, o in _all_objects(s) if o.name == names[0] and o.tried),
        next((o for o in s.libraries.opened_by_name if o.name == names[0]), None),
    )
    evidence = [f"{name} — {'; '.join(sorted(set(why))[:3])}" for name, why in missing.items()]
    if trace is not None and trace.tried:
        evidence.append(
            f"the loader tried for {names[0]}: "
            + ", ".join(f"{a.path} ({a.via})" for a in trace.tried[:6])
        )
    requires = _unmet_requirements(s)
    fixes = (
        [f"python -m pip install {' '.join(sorted({r for r, _, _ in requires}))}"]
        if requires
        else []
    )
    actions = (
        [pip_install(tuple(sorted({r for r, _, _ in requires})), "the libraries' wheels")]
        if requires
        else []
    )
    for framework, names_opened in openers.items():
        fixes += _opened_fix(s, framework, names_opened)
    fixes.append(
        "reinstall the framework with its dependencies (no --no-deps), from the index "
        "matching its CUDA build"
    )
    yield finding(
        "library-missing",
        f"{len(names)} CUDA librar{'y' if len(names) == 1 else 'ies'} cannot be found: "
        + ", ".join(names[:4]),
        "An installed framework needs these libraries (linked, or opened by name), and the "
        "loader finds them nowhere: not in the frameworks' RPATH/RUNPATH, LD_LIBRARY_PATH, the "
        "ld.so cache or the default directories. The import (or the first GPU call) fails with "
        f"'{names[0]}: cannot open shared object file'.",
        evidence,
        fixes,
        actions=actions,
    )


def _opened_fix(s: Snapshot, framework: str, names: list[str]) -> list[str]:
    """What brings the libraries a framework opens by name: CuPy 14's ``[ctk]`` extra or the
    NVIDIA wheels of its CUDA major; TensorFlow's ``[and-cuda]``."""
    built = next((f for f in s.frameworks if f.name.startswith(framework) and f.cuda), None)
    if built is None:
        return []
    if framework == "tensorflow":
        return [f"python -m pip install 'tensorflow[and-cuda]=={built.version}'"]
    major = cuda_major(built.cuda)
    wheels = sorted(
        {
            nvidia_wheel(WHEEL_FOR_LIBRARY[stem], major)
            for stem in (cuda_library_stem(n) for n in names)
            if stem in WHEEL_FOR_LIBRARY
        }
    )
    fixes = []
    if framework == "cupy" and (parse_version(built.version) or (0,))[0] >= 14:
        fixes.append(f"python -m pip install '{built.name}[ctk]=={built.version}'")
    if wheels:
        fixes.append(f"{'or ' if fixes else ''}python -m pip install {' '.join(wheels)}")
    return fixes


def _shipped_copy(
    s: Snapshot, obj: LoadedLibrary, *, declared_only: bool = False
) -> Optional[tuple[str, str, Optional[str]]]:
    """The copy the framework ships (bundled in its own lib dir) or pins (an ``nvidia-*``
    wheel it requires), other than ``obj``; with ``declared_only``, wheels and bundles only."""
    base = posixpath.basename(obj.name)
    for lib in s.libraries.shipped:
        if lib.name != base or lib.path == obj.path:
            continue
        if declared_only and not lib.owner.startswith(("pip", "bundled")):
            continue
        version = lib.version
        if version is None and lib.owner.startswith("bundled "):
            version = _bundled_version(s, lib.owner.split(" ", 1)[1], base)
        return lib.path, lib.owner, version
    return None


def _bundled_version(s: Snapshot, framework: str, name: str) -> Optional[str]:
    """A bundled CUDA toolkit library is of the framework's CUDA release (X.Y); cuDNN and
    NCCL have versions of their own, unknown from a file name."""
    if cuda_library_stem(name) in ("libcudnn", "libnccl"):
        return None
    built = next((f for f in s.frameworks if f.name == framework and f.cuda), None)
    return built.cuda if built is not None else None


def _same_release(version: str, cuda: str) -> bool:
    """A library version of CUDA release ``cuda`` (X.Y): same major and minor."""
    return version_tuple(version)[:2] == version_tuple(cuda)[:2]


def _newer(a: str, b: str) -> bool:
    return version_tuple(a) > version_tuple(b)


def library_shadowed(s: Snapshot) -> Iterator[Finding]:
    hits = []
    worst = "info"
    seen: set[str] = set()
    # what frameworks load: their NEEDED trees, and what they dlopen() by name (TensorFlow)
    loaded = [(tree.consumer, obj) for tree, obj in _all_objects(s)] + [
        (obj.needed_by, obj) for obj in s.libraries.opened_by_name if obj.needed_by
    ]
    for consumer, obj in loaded:
        if not obj.cuda or obj.path is None or obj.via == "loaded" or obj.path in seen:
            continue
        if obj.owner is not None and obj.owner.startswith(("pip", "bundled")):
            continue  # the copy the framework declares
        # A conda package's copy is the environment's, but not the framework's when the
        # framework pins a wheel of its own (TF's nvidia-cudnn-cu11 beside conda's cudnn):
        # judge by the copy the framework declares, not by who owns the file that loads.
        conda = obj.owner is not None and obj.owner.startswith("conda")
        shipped = _shipped_copy(s, obj, declared_only=conda)
        if shipped is None or obj.version is None or shipped[2] is None:
            continue
        ours_version = shipped[2]
        if shipped[1].startswith("bundled ") and _same_release(obj.version, ours_version):
            continue
        if (
            obj.version == ours_version
            or ours_version.startswith(obj.version + ".")
            or obj.version.startswith(ours_version + ".")
        ):
            continue
        seen.add(obj.path)
        older = not _newer(obj.version, ours_version)
        worst = "warning" if older else worst
        hits.append((consumer, obj, shipped, older))
    if not hits:
        return
    evidence = []
    fixes: list[str] = []
    dropped: list[str] = []
    for consumer, obj, (path, owner, version), older in hits:
        evidence.append(
            f"{obj.name}: the loader takes {obj.path} ({obj.via}, {obj.owner or 'version'} "
            f"{obj.version}) — {consumer} ships {path} ({owner} {version}); the one taken is "
            f"{'older' if older else 'newer'}"
        )
        if obj.via == "ld_library_path" and obj.path is not None:
            fix = _ld_library_path_fix(s, posixpath.dirname(obj.path))
            if fix not in fixes:
                fixes.append(fix)
            dropped += _written_entries(s, posixpath.dirname(obj.path))
    fixes.append(
        "or put the environment's own copies first: "
        "export LD_LIBRARY_PATH=<the wheel's lib dir>:$LD_LIBRARY_PATH"
    )
    yield finding(
        "library-shadowed",
        f"{len(hits)} CUDA librar{'y is' if len(hits) == 1 else 'ies are'} not the copy the "
        "framework ships or pins, at another version",
        "The loader picks a copy of these libraries other than the one the framework installed "
        "with it, because LD_LIBRARY_PATH (or the cache) comes first in its search. An older "
        "copy lacks newer symbols (undefined symbol errors); a newer one usually works but is not "
        "what was tested.",
        evidence,
        fixes,
        severity=worst,
        actions=[_drop_ld_path(dropped, "the environment's own copies are found")]
        if dropped
        else [],
    )


def symbol_version_missing(s: Snapshot) -> Iterator[Finding]:
    gaps = s.libraries.symbol_gaps
    if not gaps:
        return
    by_pair: dict[tuple[str, str], list[str]] = {}
    for gap in gaps:
        label = (
            f"version `{gap.version}' (node missing)"
            if gap.node_missing
            else f"{gap.symbol}, version {gap.version}"
        )
        by_pair.setdefault((gap.importer, gap.provider), []).append(label)
    providers = {gap.provider for gap in gaps}
    via = {o.path: o for _, o in _all_objects(s) if o.path in providers}
    evidence = []
    fixes: list[str] = []
    dropped: list[str] = []
    for (importer, provider), labels in by_pair.items():
        how = via.get(provider)
        evidence.append(
            f"{posixpath.basename(importer)} needs {', '.join(labels[:4])} — the "
            f"loader gives it {provider}"
            + (f" ({how.via}, {how.owner or 'version'} {how.version or '?'})" if how else "")
        )
        if how is not None and how.via == "ld_library_path":
            fix = _ld_library_path_fix(s, posixpath.dirname(provider))
            if fix not in fixes:
                fixes.append(fix)
            dropped += _written_entries(s, posixpath.dirname(provider))
    first = gaps[0]
    fixes.append(
        f"make the loader find a copy of {posixpath.basename(first.provider)} at least as "
        f"new as {posixpath.basename(first.importer)} expects (the matching nvidia-* wheel)"
    )
    yield finding(
        "symbol-version-missing",
        f"{posixpath.basename(first.importer)} would fail with 'undefined symbol: "
        f"{first.symbol or first.version}'",
        "A library the loader picks is older than the one its user was built against: it has the "
        "version node but lacks newer symbols. Loading fails with 'undefined symbol: "
        f"{first.symbol}, version {first.version}' (or 'version not found').",
        evidence,
        fixes,
        actions=[_drop_ld_path(dropped, "a new enough copy is found")] if dropped else [],
    )


def driver_stub_shadowing(s: Snapshot) -> Iterator[Finding]:
    stubs = [o for o in s.libraries.opened_by_name if o.stub and o.path]
    stubs += [o for _, o in _all_objects(s) if o.stub and o.path and o not in stubs]
    stubs += [o for o in s.libraries.preload if o.stub and o.path]
    if not stubs:
        return
    stub = stubs[0]
    assert stub.path is not None  # filtered above
    fixes = []
    actions = []
    if stub.via == "ld_library_path":
        fixes.append(_ld_library_path_fix(s, posixpath.dirname(stub.path)))
        actions.append(
            _drop_ld_path(
                _written_entries(s, posixpath.dirname(stub.path)), "the real driver is found"
            )
        )
    elif stub.via == "preload":
        fixes.append("remove the stub from LD_PRELOAD")
        actions.append(drop_path("LD_PRELOAD", (stub.path,), "the real driver is found"))
    fixes.append(
        f"never put a toolkit's stubs/ directory (here {posixpath.dirname(stub.path)}) on "
        "a run-time search path; it is for linking only"
    )
    yield finding(
        "driver-stub-shadowing",
        "The loader would load a stub libcuda instead of the NVIDIA driver",
        f"{stub.name} resolves to {stub.path} ({stub.via}), a link-time stub from a toolkit or "
        "conda package. Any CUDA call then fails with 'CUDA driver is a stub library' (error 34), "
        "even where a driver is installed.",
        [f"{o.name} → {o.path} ({o.via})" for o in stubs],
        fixes,
        actions=actions,
    )


def _family(dist: Distribution) -> Optional[tuple[str, int]]:
    name = canonicalize_name(dist.name)
    match = _WHEEL.match(name)
    if not match:
        return None
    component, suffix = match.group(1), match.group(2)
    if suffix:
        return component, int(suffix)
    if component in _VERSIONED_LIKE_CUDA and dist.version.split(".")[0].isdigit():
        return component, int(dist.version.split(".")[0])
    return None


def mixed_cuda_wheel_families(s: Snapshot) -> Iterator[Finding]:
    families: dict[int, list[str]] = {}
    components: dict[str, set[int]] = {}
    for dist in _wheel_dists(s):
        found = _family(dist)
        if found is None:
            continue
        component, major = found
        families.setdefault(major, []).append(f"{dist.name} {dist.version}")
        components.setdefault(component, set()).add(major)
    if len(families) < 2:
        return
    clashing = sorted(c for c, majors in components.items() if len(majors) > 1)
    summary = ", ".join(f"cu{m}: {len(v)}" for m, v in sorted(families.items()))
    yield finding(
        "mixed-cuda-wheel-families",
        f"NVIDIA wheels of different CUDA majors in one environment ({summary})",
        "Wheels built for different CUDA majors are installed side by side. The same component "
        "of two majors installs into the same directory and overwrites itself"
        + (f" (here: {', '.join(clashing)})" if clashing else "")
        + "; a framework may load the wrong major or mix them.",
        [f"CUDA {major}: {', '.join(sorted(names))}" for major, names in sorted(families.items())],
        [
            "python -m pip uninstall <the wheels of the major no framework here needs>",
            (
                "then reinstall the framework so its own wheels are restored: "
                "python -m pip install --force-reinstall <framework>"
            ),
        ],
        severity="error" if clashing else "warning",
    )


def _marker_environment(s: Snapshot) -> dict[str, str]:
    env = s.target_env
    version = (
        (env.python_version if env else None)
        or (s.target.interpreter.version if s.target.interpreter else None)
        or "3.11"
    )
    machine = s.libraries.machine
    return {
        "python_version": version,
        "python_full_version": f"{version}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": machine,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def _unmet_requirements(s: Snapshot) -> list[tuple[str, str, Optional[str]]]:
    """(requirement, required by, installed version or None) for nvidia-*/cuda-* pins."""
    everything = [
        d
        for site in s.site_dirs
        if site.role in ("site", "user", "pythonpath", "pth")
        for d in site.distributions
    ]
    candidates = [
        (dist, text, name)
        for dist in everything
        for text in dist.requires_dist
        if (name := requirement_name(text)) is not None and name.startswith(("nvidia-", "cuda-"))
    ]
    installed: dict[str, str] = {}
    for dist in everything:
        installed.setdefault(canonicalize_name(dist.name), dist.version)
    marker_env = _marker_environment(s)
    unmet = []
    rest = []
    for dist, text, name in candidates:  # most are plain: no requirement parser needed
        simple = simple_requirement(text)
        applies = None
        if simple is not None:
            applies = True if simple.marker is None else evaluate_marker(simple.marker, marker_env)
        if simple is None or applies is None:
            rest.append((dist, text, name))
            continue
        if not applies:  # for another platform, Python or extra
            continue
        have = installed.get(name)
        try:
            met = have is not None and contains(simple.specifiers, have)
        except ValueError:  # an unusual version or specifier: packaging decides
            rest.append((dist, text, name))
            continue
        if not met:
            unmet.append((str(simple), f"{dist.name} {dist.version}", have))
    if not rest:
        return unmet  # spared: the 20 ms import of packaging.requirements
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    for dist, text, name in rest:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        try:
            if requirement.marker is not None and not requirement.marker.evaluate(marker_env):
                continue
        except ValueError:  # packaging's UndefinedComparison: a marker it cannot evaluate
            continue
        have = installed.get(name)
        if have is None or (
            requirement.specifier and not requirement.specifier.contains(have, prereleases=True)
        ):
            unmet.append(
                (str(requirement).split(";")[0].strip(), f"{dist.name} {dist.version}", have)
            )
    return unmet


def cuda_wheel_requirements_unmet(s: Snapshot) -> Iterator[Finding]:
    unmet = _unmet_requirements(s)
    if not unmet:
        return
    missing = [u for u in unmet if u[2] is None]
    evidence = [
        f"{owner} requires {req}: " + (f"{have} installed" if have else "not installed")
        for req, owner, have in unmet
    ]
    install = " ".join(sorted({f'"{req}"' for req, _, _ in unmet}))
    yield finding(
        "cuda-wheel-requirements-unmet",
        f"{len(unmet)} NVIDIA wheel requirement(s) of installed packages are not met",
        "Packages here declare the NVIDIA wheels they were built with (Requires-Dist), but "
        + ("some are missing" if missing else "some are installed at other versions")
        + " — typical after --no-deps, a lockfile that dropped them, or a later install that "
        "replaced them. The libraries they carry are then absent or not the ones tested.",
        evidence,
        [f"python -m pip install {install}"],
        severity="error" if missing else "warning",
        actions=[
            pip_install(tuple(sorted({req for req, _, _ in unmet})), "the pinned NVIDIA wheels")
        ],
    )


def _cudnn_major_required(text: str) -> Optional[int]:
    """The cuDNN major an ``nvidia-cudnn-cuNN`` requirement asks for: its pin's or lower
    bound's (``==8.9.2.26``, ``(==8.9.2.26)``, ``<10.0,>=9.8``)."""
    requirement = simple_requirement(text.split(";", maxsplit=1)[0])
    if requirement is None or not requirement.name.lower().startswith("nvidia-cudnn-cu"):
        return None
    for op, version in requirement.specifiers:
        if op in ("==", "===", "~=", ">=", ">"):
            major = version.split(".")[0]
            if major.isdigit():
                return int(major)
    return None


def cudnn_version_mismatch(s: Snapshot) -> Iterator[Finding]:
    needs: dict[str, set[int]] = {}
    everything = [
        d
        for site in s.site_dirs
        if site.role in ("site", "user", "pythonpath", "pth")
        for d in site.distributions
    ]
    for dist in everything:
        for text in dist.requires_dist:
            major = _cudnn_major_required(text)
            if major is not None:
                needs.setdefault(f"{dist.name} {dist.version}", set()).add(major)
    for tree in _framework_trees(s):
        for obj in tree.objects:
            if cuda_library_stem(obj.name) == "libcudnn":
                major = library_major(obj.name)
                if major is not None:
                    needs.setdefault(tree.consumer, set()).add(major)
    majors = {m for ms in needs.values() for m in ms}
    if len(majors) < 2:
        return
    yield finding(
        "cudnn-version-mismatch",
        "Frameworks here need different cuDNN majors: " + ", ".join(str(m) for m in sorted(majors)),
        "cuDNN wheels of every major install into the same nvidia/cudnn/lib directory and one "
        "process loads one cuDNN, so at most one of these frameworks gets the cuDNN it was built "
        "for: the other fails with 'Loaded runtime CuDNN library ... but source was compiled "
        "with ...' or CUDNN_STATUS_NOT_INITIALIZED.",
        [f"{who} needs cuDNN {', '.join(str(m) for m in sorted(ms))}" for who, ms in needs.items()],
        ["keep the frameworks that need different cuDNN majors in separate environments"],
    )


def ld_cache_stale(s: Snapshot) -> Iterator[Finding]:
    uncached = s.libraries.uncached
    if not uncached:
        return
    cache = "/etc/ld.so.cache" if s.libraries.cache_exists else "no /etc/ld.so.cache at all"
    # A directory the loader searches anyway through LD_LIBRARY_PATH (a driver mounted into a
    # container after its cache was built: GKE's /usr/local/nvidia/lib64) loads fine: a note.
    searched = {posixpath.normpath(d) for d in s.libraries.ld_library_path}
    reached = all(posixpath.normpath(u.directory) in searched for u in uncached)
    yield finding(
        "ld-cache-stale",
        "CUDA libraries in an ld.so.conf directory are missing from the loader's cache",
        "ld.so.conf lists these directories, so whoever configured them meant the loader to find "
        "their libraries — but the loader reads only the cache ldconfig writes, and the cache "
        f"({cache}) does not hold them: ldconfig has not been run since they were installed "
        "(on WSL, ldconfig also skips /usr/lib/wsl/lib files that are not symlinks).",
        [f"{u.directory} (from {u.conf}): {', '.join(u.names[:6])}" for u in uncached]
        + (["every one is on LD_LIBRARY_PATH: the loader finds them there"] if reached else []),
        ["sudo ldconfig"],
        severity="info" if reached else None,
        actions=[manual("sudo ldconfig", "rebuild the loader's cache", "system")],
    )
