"""What else ends up on ``sys.path``: PYTHONPATH, the user site, the working directory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from .._formats.metadata import canonicalize_name
from .._formats.pyversion import version_tuple
from .._knowledge.frameworks import import_name_for_distribution, is_cuda_relevant
from ..actions import Action, drop_path, set_var
from ..findings import Finding
from ..snapshot import Distribution, SiteDir, Snapshot
from ._common import by_name, env_distributions, env_label, finding, quote

__all__ = [
    "cwd_shadows_package",
    "pythonpath_other_env",
    "pythonpath_version_mismatch",
    "user_site_shadowing",
]


def _target_version(s: Snapshot) -> Optional[str]:
    env = s.target_env
    if env is not None and env.python_version:
        return env.python_version
    return s.target.interpreter.version if s.target.interpreter else None


def _own_prefixes(s: Snapshot) -> set[str]:
    own = {s.target.prefix} if s.target.prefix else set()
    env = s.target_env
    if env and env.venv and env.venv.include_system_site_packages and env.venv.base_prefix:
        own.add(env.venv.base_prefix)
    return own


def _pythonpath_unset_fix(s: Snapshot, entries: list[SiteDir]) -> list[str]:
    remaining = [
        e
        for e in s.environ.get("PYTHONPATH", "").split(":")
        if e and all(e.rstrip("/") != d.path.rstrip("/") for d in entries)
    ]
    if remaining:
        return [f"export PYTHONPATH={quote(':'.join(remaining))}"]
    return ["unset PYTHONPATH"]


def _pythonpath_action(s: Snapshot, entries: list[SiteDir]) -> Action:
    """Take exactly the entries found (as written in PYTHONPATH) off the variable."""
    written = [
        e
        for e in s.environ.get("PYTHONPATH", "").split(":")
        if e and any(e.rstrip("/") == d.path.rstrip("/") for d in entries)
    ]
    return drop_path(
        "PYTHONPATH",
        tuple(written or (d.path for d in entries)),
        "keep other environments' packages off this one's sys.path",
    )


def pythonpath_version_mismatch(s: Snapshot) -> Iterator[Finding]:
    version = _target_version(s)
    if version is None:
        return
    bad = [
        d
        for d in s.site_dirs
        if d.role == "pythonpath" and d.python_version and d.python_version != version
    ]
    if not bad:
        return
    versions = sorted({d.python_version or "" for d in bad}, key=version_tuple)
    yield finding(
        "pythonpath-version-mismatch",
        f"PYTHONPATH holds packages built for Python {', '.join(versions)}, not {version}",
        f"The interpreter in use is Python {version}, but PYTHONPATH puts lib/python"
        f"{'/'.join(versions)} directories ahead of its own site-packages. Compiled modules "
        "there (numpy, torch) do not load in another Python version, and pure-Python ones may "
        "not run.",
        [f"PYTHONPATH entry {d.path} is for Python {d.python_version}" for d in bad]
        + [f"interpreter: Python {version}"],
        _pythonpath_unset_fix(s, bad),
        actions=[_pythonpath_action(s, bad)],
    )


def _shadowed(entry: SiteDir, own: dict[str, list[Distribution]]) -> list[str]:
    found = []
    for dist in entry.distributions:
        mine = own.get(canonicalize_name(dist.name))
        if mine and any(m.version != dist.version for m in mine):
            found.append(f"{dist.name} {dist.version} (the environment has {mine[0].version})")
    return found


def pythonpath_other_env(s: Snapshot) -> Iterator[Finding]:
    own_prefixes = _own_prefixes(s)
    own = by_name(d for p in own_prefixes for d in env_distributions(s, p))
    hits: list[tuple[SiteDir, str]] = []
    severe = False
    for entry in s.site_dirs:
        if entry.role != "pythonpath" or not entry.exists or entry.owner_kind == "user":
            continue
        shadowed = _shadowed(entry, own)
        cuda = [d.name for d in entry.distributions if is_cuda_relevant(canonicalize_name(d.name))]
        if entry.owner is not None and entry.owner not in own_prefixes:
            where = env_label(s.environments.get(entry.owner), entry.owner)
            hits.append((entry, f"{entry.path} belongs to {where}"))
        elif entry.owner is None and entry.distributions and (shadowed or cuda):
            count = len(entry.distributions)
            hits.append((entry, f"{entry.path} is a package directory ({count} distributions)"))
        else:
            continue
        if shadowed:
            hits.append((entry, "it shadows " + ", ".join(shadowed)))
        if cuda:
            hits.append((entry, "it holds CUDA packages: " + ", ".join(sorted(cuda))))
        severe = severe or bool(shadowed or cuda)
    if not hits:
        return
    entries = list(dict.fromkeys(e for e, _ in hits))
    yield finding(
        "pythonpath-other-env",
        "PYTHONPATH mixes in another environment's packages",
        f"PYTHONPATH puts {len(entries)} directory(ies) from outside "
        f"{env_label(s.target_env, s.target.prefix)} ahead of its own site-packages, so "
        "imports come from there first: mismatched versions, a CPU or another CUDA build of "
        "a framework, or an import that works only while the variable is set.",
        [f"PYTHONPATH={s.environ.get('PYTHONPATH', '')}", *(why for _, why in hits)],
        [
            *_pythonpath_unset_fix(s, entries),
            "install what you need into the environment itself: python -m pip install ...",
        ],
        severity="error" if severe else None,
        actions=[_pythonpath_action(s, entries)],
    )


def _import_key(canonical_name: str) -> str:
    """What two distributions must share to hide one another: the import package of a CUDA
    framework family (``cupy`` for every cupy-cuda*), else the distribution's name; the
    ``nvidia`` and ``cuda`` namespaces are shared by design, so their wheels keep their names."""
    module = import_name_for_distribution(canonical_name)
    return module if module is not None and module not in ("nvidia", "cuda") else canonical_name


def user_site_shadowing(s: Snapshot) -> Iterator[Finding]:
    user = s.user_site
    if not user.enabled or user.path is None or s.target.prefix is None:
        return
    positions = [i for i, site in enumerate(s.site_dirs) if site.role == "user"]
    if not positions:
        return
    user_dists = s.site_dirs[positions[0]].distributions
    # The user site hides only what comes after it on sys.path: for a venv with system
    # site-packages that is the base's site-packages, never the venv's own. What is hidden
    # is an import package: cupy-cuda12x in the user site hides the env's cupy-cuda11x.
    after: dict[str, list[Distribution]] = {}
    for site in s.site_dirs[positions[0] + 1 :]:
        if site.role == "site":
            for d in site.distributions:
                after.setdefault(_import_key(canonicalize_name(d.name)), []).append(d)
    everywhere = by_name(
        d for site in s.site_dirs if site.role == "site" for d in site.distributions
    )
    env = s.target_env
    # For a bare installation (system, pyenv) the user site is where `pip install --user`
    # belongs; only an environment meant to be self-contained is polluted by it.
    isolated_env = env is not None and env.kind in ("conda-base", "conda-env", "pixi", "venv")
    shadowing: list[str] = []
    cuda_only: list[str] = []
    severe = False
    for dist in user_dists:
        name = canonicalize_name(dist.name)
        key = _import_key(name)
        if key in after:
            other = after[key][0]
            hidden = (
                other.version
                if canonicalize_name(other.name) == name
                else f"{other.name} {other.version}"
            )
            shadowing.append(f"{dist.name} {dist.version} (hides the environment's {hidden})")
            severe = severe or is_cuda_relevant(name)
        elif name not in everywhere and is_cuda_relevant(name) and isolated_env:
            cuda_only.append(f"{dist.name} {dist.version}")
    if not shadowing and not cuda_only:
        return
    if env is not None and env.kind in ("conda-base", "conda-env", "pixi"):
        selector = f"-n {env.name}" if env.name else f"-p {quote(env.prefix)}"
        persist = f"conda env config vars set PYTHONNOUSERSITE=1 {selector}"
    else:
        persist = "export PYTHONNOUSERSITE=1    # in the shell, or the venv's activate script"
    names = " ".join(item.split(" ", 1)[0] for item in shadowing + cuda_only)
    yield finding(
        "user-site-shadowing",
        f"Your user site-packages ({user.path}) overrides the environment",
        "The user site comes before the environment's site-packages on sys.path and is shared "
        "by every environment of this Python version, so packages installed there with "
        "`pip install --user` (or a pip outside any env) win over the environment's own.",
        [f"user site: {user.path} ({user.reason})"]
        + [f"shadows: {item}" for item in shadowing]
        + [f"CUDA package only in the user site: {item}" for item in cuda_only],
        [
            persist,
            (
                f"python -m pip uninstall {names}    # run without PYTHONNOUSERSITE: removes the "
                "user copy, which comes first"
            ),
        ],
        severity="error" if severe else None,
        actions=[set_var("PYTHONNOUSERSITE", "1", "keep the user site off this environment")],
    )


def cwd_shadows_package(s: Snapshot) -> Iterator[Finding]:
    workdir = s.workdir
    if workdir is None or not workdir.entries:
        return
    version = _target_version(s)
    if s.environ.get("PYTHONSAFEPATH") and version and version_tuple(version) >= (3, 11):
        return  # the working directory is not on sys.path
    if any(site.path == workdir.path for site in s.site_dirs):
        return
    installed: dict[str, str] = {}
    for site in s.site_dirs:
        if site.path == workdir.path:
            continue
        for dist in site.distributions:
            module = import_name_for_distribution(canonicalize_name(dist.name))
            if module is not None:
                installed.setdefault(module, f"{dist.name} {dist.version} in {site.path}")
    hits = [
        e
        for e in workdir.entries
        if e.kind in ("package", "module", "extension") and e.name in installed
    ]
    if not hits:
        return
    names = ", ".join(sorted({e.name for e in hits}))
    yield finding(
        "cwd-shadows-package",
        f"The working directory hides the installed {names}",
        f"`python -c`, `python -m`, notebooks and the prompt put the working directory "
        f"({workdir.path}) first on sys.path, so `import {hits[0].name}` loads the local "
        f"{hits[0].kind} instead of the installed framework (typical when running from a "
        "source checkout: 'No module named torch._C').",
        [f"{e.path} ({e.kind})" for e in hits] + [f"installed: {installed[e.name]}" for e in hits],
        [
            "cd to another directory before running Python",
            f"or rename {hits[0].path}",
            "or export PYTHONSAFEPATH=1    # Python 3.11+: keep the working directory off sys.path",
        ],
    )
