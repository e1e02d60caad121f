"""The CUDA toolkit that source builds use: CUDA_HOME, nvcc, headers, and torch's CUDA."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Optional

from .._formats.metadata import canonicalize_name
from ..actions import Action, conda_install, drop_path, prepend_path, set_var, unset_var
from ..findings import Finding
from ..snapshot import Snapshot, Toolkit
from ._common import CONDA_KINDS, conda_selector, env_label, finding, quote

__all__ = [
    "cuda_home_invalid",
    "cuda_home_targets_layout",
    "cuda_home_unset",
    "nvcc_cuda_home_mismatch",
    "stale_path_entry",
    "toolkit_framework_mismatch",
    "toolkit_incomplete",
    "toolkit_runtime_only",
]

_VARIABLES = ("CUDA_HOME", "CUDA_PATH")
_COMPILER_PACKAGES = frozenset(
    {"cuda-nvcc", "cuda-toolkit", "cudatoolkit-dev", "cuda-compiler", "cuda-cudart-dev"}
)
"""conda packages one installs to compile CUDA (not those pulled in for a ptxas)."""
_BUILD_PACKAGES = frozenset({"deepspeed"})
"""Installed packages that compile CUDA code at run time, so they need nvcc (JIT op builds)."""


def _major(version: Optional[str]) -> Optional[str]:
    return version.split(".")[0] if version else None


def _toolkit(s: Snapshot, root: Optional[str]) -> Optional[Toolkit]:
    if root is None:
        return None
    clean = posixpath.normpath(root)
    return next((t for t in s.toolkits if posixpath.normpath(t.root) == clean), None)


def _by_variable(s: Snapshot, variable: str) -> Optional[Toolkit]:
    value = s.environ.get(variable)
    if not value or not value.startswith("/"):
        return None
    return next((t for t in s.toolkits if variable in t.named_by), None)


def _choice(s: Snapshot, consumer: str) -> tuple[Optional[str], str]:
    for choice in s.toolkit_choices:
        if choice.consumer == consumer:
            return choice.root, choice.rule
    return None, "none found"


def _complete(toolkit: Toolkit) -> bool:
    return toolkit.exists and toolkit.nvcc is not None and toolkit.runtime_headers


def _torch(s: Snapshot) -> Optional[tuple[str, str]]:
    for framework in s.frameworks:
        if framework.name == "torch" and framework.cuda:
            return framework.version, framework.cuda
    return None


class BuildIntent:
    """Who in this environment would build CUDA code with a toolkit, and how surely.

    ``explicit`` names what says a build is intended (CUDA_HOME/CUDA_PATH set, a package that
    compiles CUDA at run time, a toolkit installed into the environment itself); ``torch``
    is a CUDA torch, whose cpp_extension builds with the toolkit when asked to.  A CPU torch
    has no cpp_extension CUDA_HOME, and with nobody to build, a toolkit's gaps are a note."""

    def __init__(self, s: Snapshot) -> None:
        installed = {canonicalize_name(d.name) for site in s.site_dirs for d in site.distributions}
        self.explicit: list[str] = [f"{v} is set" for v in _VARIABLES if s.environ.get(v)]
        self.explicit += [
            f"{name} builds CUDA code" for name in sorted(installed & _BUILD_PACKAGES)
        ]
        if s.workdir is not None and s.workdir.cuda_build:
            self.explicit.append(f"{s.workdir.cuda_build} builds a CUDA extension")
        own = [t for t in s.toolkits if t.root == s.target.prefix and t.nvcc and t.exists]
        env = s.target_env
        asked = {p.name for p in env.conda_packages} & _COMPILER_PACKAGES if env else set()
        if own and s.target.prefix and asked:
            # installed for building; an nvcc that came as a dependency (jaxlib's
            # cuda-nvcc-tools, for its ptxas) is not a build in sight
            self.explicit.append(
                f"the environment holds its own nvcc ({own[0].nvcc}, conda {min(asked)})"
            )
        torch = _torch(s)
        self.torch = f"torch {torch[0]} (CUDA {torch[1]})" if torch else None

    @property
    def any(self) -> bool:
        return bool(self.explicit) or self.torch is not None

    def severity(self, when_intended: str) -> str:
        """``when_intended`` where a build is asked for; at most a warning where only a CUDA
        torch could build; info where nothing would."""
        if self.explicit:
            return when_intended
        if self.torch is not None:
            return "warning" if when_intended == "error" else when_intended
        return "info"

    def evidence(self) -> list[str]:
        if not self.any:
            return ["nothing here builds CUDA code (no CUDA torch, no CUDA_HOME, no JIT builder)"]
        return [f"builds: {why}" for why in [*self.explicit, *([self.torch] if self.torch else [])]]


def _best_toolkit(s: Snapshot, major: Optional[str] = None) -> Optional[Toolkit]:
    """A complete toolkit to suggest: the environment's own first, then one of ``major``."""
    complete = [t for t in s.toolkits if _complete(t) and t.source != "pip"]
    if major is not None:
        complete = [t for t in complete if _major(t.nvcc_version or t.version) == major]
    own = [t for t in complete if t.root == s.target.prefix]
    ranked = own or complete
    return ranked[0] if ranked else None


def cuda_home_invalid(s: Snapshot) -> Iterator[Finding]:
    for variable in _VARIABLES:
        value = s.environ.get(variable)
        if not value:
            continue
        toolkit = _by_variable(s, variable)
        if ":" in value or ";" in value or not value.startswith("/"):
            problem = (
                f"{variable} must be one toolkit directory, but it is {value!r} "
                "(a path list, or a relative path)"
            )
        elif toolkit is None or not toolkit.exists:
            problem = f"{variable}={value} does not exist"
        elif toolkit.nvcc is None:
            wheel = _pip_toolkit_holding(s, value)
            problem = f"{variable}={value} has no bin/nvcc" + (
                f": it is a directory of NVIDIA's pip wheels ({wheel.root}), which hold the "
                "runtime libraries and headers programs use, not a compiler"
                if wheel is not None
                else ""
            )
        else:
            continue
        better = _best_toolkit(s)
        fix = [f"export {variable}={quote(better.root)}"] if better else [f"unset {variable}"]
        if better is None and toolkit is not None and _pip_toolkit_holding(s, value):
            # NVIDIA's wheels carry ptxas, never nvcc: a build needs a real toolkit
            fix.append(
                f"to build: install a CUDA {_major(toolkit.version) or ''} toolkit (conda "
                f"install -c nvidia cuda-nvcc cuda-cudart-dev, or NVIDIA's installer) and "
                f"export {variable} to it"
            )
        why = "one toolkit root, with nvcc and headers"
        action = set_var(variable, better.root, why) if better else unset_var(variable, why)
        yield finding(
            "cuda-home-invalid",
            f"{variable} does not name a CUDA toolkit",
            f"{problem}. torch's cpp_extension, CuPy and setup.py scripts use {variable} as one "
            f"toolkit root ({variable}/bin/nvcc, {variable}/include, {variable}/lib64), so "
            "extension builds stop with 'nvcc not found' or missing headers.",
            [f"{variable}={value}"]
            + (
                [f"complete toolkit found: {better.root} (CUDA {better.version})"] if better else []
            ),
            fix,
            actions=[action],
        )


def _system_runtime_only(s: Snapshot) -> Optional[Toolkit]:
    """The system toolkit builds would use, when it holds libraries only: a CUDA *runtime*
    container's /usr/local/cuda (cuda-cudart and cuda-libraries, no nvcc, no headers)."""
    root, _ = _choice(s, "torch")
    chosen = _toolkit(s, root)
    if chosen is None or not chosen.exists or chosen.source not in ("system", "distro"):
        return None
    if chosen.nvcc is not None or chosen.runtime_headers or not chosen.libraries:
        return None
    return chosen


def _pip_toolkit_holding(s: Snapshot, path: str) -> Optional[Toolkit]:
    """The pip wheels' toolkit (``site-packages/nvidia``) that ``path`` lies in."""
    clean = posixpath.normpath(path)
    return next(
        (
            t
            for t in s.toolkits
            if t.source == "pip" and (clean == t.root or clean.startswith(t.root + "/"))
        ),
        None,
    )


def _named_by_variable(toolkit: Toolkit) -> bool:
    return any(v in toolkit.named_by for v in _VARIABLES)


def toolkit_runtime_only(s: Snapshot) -> Iterator[Finding]:
    system = _system_runtime_only(s)
    if system is not None:
        yield _system_runtime_only_finding(s, system)
        return
    env = s.target_env
    if env is None:
        return
    runtime_only = [
        t
        for t in s.toolkits
        if (t.source == "conda-cudatoolkit" and t.root == env.prefix)
        or (
            t.source == "pip"
            and t.nvcc is None
            and any(
                d.path.startswith(posixpath.dirname(t.root))
                for d in s.site_dirs
                if d.role == "site"
            )
        )
    ]
    if not runtime_only:
        return
    root, rule = _choice(s, "torch")
    chosen = _toolkit(s, root)
    if chosen is not None and chosen.nvcc is not None:
        return  # builds have an nvcc, from elsewhere
    installed = {canonicalize_name(d.name) for site in s.site_dirs for d in site.distributions}
    variables = {v: s.environ[v] for v in _VARIABLES if s.environ.get(v)}
    build_evidence = bool(BuildIntent(s).explicit)
    conda = [t for t in runtime_only if t.source == "conda-cudatoolkit"]
    if not conda and not build_evidence:
        return  # pip's runtime wheels are all torch needs to run; nothing asks for a build
    if not conda and variables and all(_pip_toolkit_holding(s, v) for v in variables.values()):
        return  # CUDA_HOME names a wheel's directory: cuda-home-invalid says so, once
    if not conda and _best_toolkit(s) is not None:
        return  # an nvcc is in reach; a CUDA_HOME that misses it is cuda-home-invalid's
    toolkit = (conda or runtime_only)[0]
    torch = _torch(s)
    version = (torch[1] if torch else None) or toolkit.version or ""
    pin = ".".join(version.split(".")[:2])
    actions: list[Action] = []
    if toolkit.source == "conda-cudatoolkit" and env.kind in CONDA_KINDS:
        specs = (f"cuda-nvcc={pin}", f"cuda-cudart-dev={pin}") if pin else ("cuda-nvcc",)
        actions = [
            conda_install(specs, "nvcc and the runtime headers", "-c", "nvidia"),
            set_var("CUDA_HOME", env.prefix, "builds use the environment's toolkit"),
        ]
        fixes = [
            f"conda install {conda_selector(s, env)} -c nvidia cuda-nvcc={pin} "
            f"cuda-cudart-dev={pin}"
            if pin
            else f"conda install {conda_selector(s, env)} cuda-nvcc",
            f"conda env config vars set CUDA_HOME={quote(env.prefix)} {conda_selector(s, env)}",
        ]
    else:
        fixes = [
            f"install a CUDA {pin or ''} toolkit (nvcc and headers) and export CUDA_HOME to it",
        ]
    yield finding(
        "toolkit-runtime-only",
        "The environment's CUDA is runtime libraries only: no nvcc, no headers",
        f"{env_label(env)} gets CUDA from {toolkit.root} ({toolkit.source}, CUDA "
        f"{toolkit.version or '?'}), which holds the shared libraries programs run with but "
        "no compiler and no headers; and no other nvcc is in reach. Building a CUDA extension "
        "(apex, flash-attn, a torch extension, DeepSpeed's JIT ops) stops with 'CUDA_HOME "
        "environment variable is not set' or 'nvcc not found'.",
        [
            f"{toolkit.root}: nvcc none, runtime headers none",
            f"torch's cpp_extension would use: {root or 'nothing'} ({rule})",
        ]
        + [f"{k}={v}" for k, v in variables.items()]
        + [f"installed: {name}" for name in sorted(installed & _BUILD_PACKAGES)]
        + (
            [f"{s.workdir.cuda_build} builds a CUDA extension"]
            if s.workdir is not None and s.workdir.cuda_build
            else []
        ),
        fixes,
        # conda's cudatoolkit is how conda torch got its runtime: with no build in sight
        # it is a fact, not a fault
        severity="error" if build_evidence else "info",
        actions=actions,
    )


def _system_runtime_only_finding(s: Snapshot, toolkit: Toolkit) -> Finding:
    root, rule = _choice(s, "torch")
    intent = BuildIntent(s)
    version = toolkit.version or ""
    series = ".".join(version.split(".")[:2])
    dashed = series.replace(".", "-")
    return finding(
        "toolkit-runtime-only",
        f"The CUDA at {toolkit.root} is runtime libraries only: no nvcc, no headers",
        f"Builds would take {toolkit.root} ({rule}), which holds the CUDA {version or '?'} "
        "libraries programs run with but no compiler and no headers — the layout of a CUDA "
        "*runtime* image (NVIDIA's devel image adds cuda-minimal-build and cuda-cudart-dev). "
        "Running what is installed works; building a CUDA extension here stops with 'nvcc not "
        "found' or 'cuda_runtime.h: No such file or directory'.",
        [
            (
                f"{toolkit.root}: nvcc none, runtime headers none, libraries "
                f"{', '.join(toolkit.libraries[:4])}"
            ),
            f"a build's usual search (torch's order) finds: {root} ({rule})",
            *intent.evidence(),
        ],
        [
            f"use the matching -devel image (nvidia/cuda:{version or 'X.Y.Z'}-devel-...)",
            (
                f"or apt-get install cuda-minimal-build-{dashed or 'X-Y'} cuda-cudart-dev-"
                f"{dashed or 'X-Y'}    # NVIDIA's CUDA repository"
            ),
        ],
        # running what the image ships is its purpose; only a build in sight makes it an error
        severity="error" if intent.explicit else "info",
    )


def _build_toolkits(s: Snapshot) -> list[tuple[Toolkit, str]]:
    """Toolkits a build would use: torch's choice and the CUDA_HOME/CUDA_PATH roots."""
    found: list[tuple[Toolkit, str]] = []
    root, rule = _choice(s, "torch")
    # torch's order is also setup.py's usual one; name torch only where a CUDA torch is here
    who = "torch's cpp_extension" if _torch(s) else "a build's usual search"
    candidates = [(_toolkit(s, root), f"{who} ({rule})")]
    candidates += [(_by_variable(s, v), v) for v in _VARIABLES]
    for toolkit, why in candidates:
        if toolkit is not None and toolkit.exists and all(t.root != toolkit.root for t, _ in found):
            found.append((toolkit, why))
    return found


def toolkit_incomplete(s: Snapshot) -> Iterator[Finding]:
    intent = BuildIntent(s)
    for toolkit, why in _build_toolkits(s):
        if toolkit.source in ("pip", "conda-cudatoolkit"):
            continue  # runtime-only packages: toolkit-runtime-only speaks for them
        if toolkit.nvcc is None and _named_by_variable(toolkit):
            continue  # CUDA_HOME/CUDA_PATH without bin/nvcc: cuda-home-invalid speaks for it
        if toolkit.nvcc and not toolkit.runtime_headers:
            missing = "cuda_runtime.h and cuda_runtime_api.h"
            has = f"nvcc ({toolkit.nvcc})"
        elif toolkit.runtime_headers and not toolkit.nvcc:
            missing = "bin/nvcc"
            has = "the runtime headers"
        else:
            continue
        error = (
            "cc1plus: fatal error: cuda_runtime.h: No such file or directory"
            if not toolkit.runtime_headers
            else "nvcc not found"
        )
        detail = (
            f"{toolkit.root} has {has} but not {missing}, so a build that uses it stops ({error})."
        )
        if toolkit.nvcc_toolkit:
            detail += (
                f" Its nvcc belongs to {toolkit.nvcc_toolkit}, but builds take "
                f"{toolkit.root} for CUDA_HOME because that is where nvcc was found."
            )
        better = _best_toolkit(s, _major(toolkit.nvcc_version or toolkit.version))
        fixes = []
        actions: list[Action] = []
        if better is not None and better.root != toolkit.root:
            fixes.append(f"export CUDA_HOME={quote(better.root)}")
            actions.append(set_var("CUDA_HOME", better.root, "a complete toolkit for builds"))
        if s.target_env is not None and s.target_env.kind in CONDA_KINDS:
            version = ".".join((toolkit.version or toolkit.nvcc_version or "").split(".")[:2])
            package = "cuda-cudart-dev" if toolkit.nvcc else "cuda-nvcc"
            pin = f"={version}" if version else ""
            fixes.append(
                f"conda install {conda_selector(s, s.target_env)} -c nvidia {package}{pin}"
            )
            if not actions and toolkit.root == s.target.prefix:
                actions.append(
                    conda_install(
                        (f"{package}{pin}",), "the missing half of the toolkit", "-c", "nvidia"
                    )
                )
        yield finding(
            "toolkit-incomplete",
            f"The toolkit builds would use ({toolkit.root}) is incomplete",
            detail,
            [
                f"chosen by {why}",
                (
                    f"{toolkit.root}: nvcc {toolkit.nvcc or 'none'}, headers "
                    f"{toolkit.include_dir or toolkit.targets_include or 'none'}"
                ),
                *intent.evidence(),
            ],
            fixes or [f"install the missing part of the CUDA {toolkit.version or ''} toolkit"],
            severity=intent.severity("error"),
            actions=actions,
        )


def cuda_home_targets_layout(s: Snapshot) -> Iterator[Finding]:
    for variable in _VARIABLES:
        toolkit = _by_variable(s, variable)
        if toolkit is None or not toolkit.exists or toolkit.targets_include is None:
            continue
        if toolkit.has_include and toolkit.has_lib64:
            continue
        lacks = [
            p
            for p, ok in (
                ("include/cuda_runtime.h", toolkit.has_include),
                ("lib64/", toolkit.has_lib64),
            )
            if not ok
        ]
        yield finding(
            "cuda-home-targets-layout",
            f"{variable} is a conda CUDA 12+ prefix: its headers are under targets/",
            f"{variable}={toolkit.root} keeps headers and libraries under "
            f"{posixpath.dirname(toolkit.targets_include)} (conda's CUDA 12+ layout) and lacks "
            f"{' and '.join(lacks)}. nvcc finds its own headers, but build scripts that read "
            f"${variable}/include or ${variable}/lib64 (torch's cpp_extension, many setup.py) "
            "do not.",
            [f"{toolkit.targets_include} holds cuda_runtime.h"]
            + [f"{toolkit.root}/{p} is missing" for p in lacks],
            [
                f'export CFLAGS="-I{toolkit.targets_include} $CFLAGS"',
                f'export CPLUS_INCLUDE_PATH="{toolkit.targets_include}:$CPLUS_INCLUDE_PATH"',
                f"or point {variable} at a toolkit with include/ and lib64/ (a system install)",
            ],
        )


def nvcc_cuda_home_mismatch(s: Snapshot) -> Iterator[Finding]:
    nvcc_toolkit = next((t for t in s.toolkits if "nvcc on PATH" in t.named_by), None)
    if nvcc_toolkit is None or not nvcc_toolkit.nvcc:
        return
    nvcc_root = nvcc_toolkit.nvcc_toolkit or nvcc_toolkit.root
    nvcc_version = nvcc_toolkit.nvcc_version or nvcc_toolkit.version
    for variable in _VARIABLES:
        home = _by_variable(s, variable)
        if home is None or not home.exists or not home.nvcc:
            continue
        home_root = home.nvcc_toolkit or home.root
        if home_root == nvcc_root:
            continue
        home_version = home.nvcc_version or home.version
        if home_version and nvcc_version and home_version == nvcc_version:
            continue  # two copies of one version: builds behave the same
        severity = "error" if _major(home_version) != _major(nvcc_version) else "warning"
        yield finding(
            "nvcc-cuda-home-mismatch",
            f"`nvcc` on PATH and {variable} are different toolkits",
            f"`nvcc` on PATH is CUDA {nvcc_version or '?'} ({nvcc_root}), but {variable} names "
            f"CUDA {home_version or '?'} ({home_root}). Some build steps call `nvcc` from PATH, "
            f"others {variable}/bin/nvcc, and headers come from {variable}: one build mixes two "
            "toolkits.",
            [
                f"nvcc on PATH: {nvcc_toolkit.nvcc} → CUDA {nvcc_version or '?'}",
                f"{variable}={s.environ.get(variable)} → CUDA {home_version or '?'}",
            ],
            [
                f'export PATH={quote(home_root)}/bin:"$PATH"',
                f"or export {variable}={quote(nvcc_root)}",
            ],
            severity=severity,
            actions=[
                prepend_path(
                    "PATH", (posixpath.join(home_root, "bin"),), f"nvcc of {variable} first"
                )
            ],
        )


def toolkit_framework_mismatch(s: Snapshot) -> Iterator[Finding]:
    torch = _torch(s)
    if torch is None:
        return
    torch_version, torch_cuda = torch
    root, rule = _choice(s, "torch")
    toolkit = _toolkit(s, root)
    if toolkit is None or not toolkit.exists or not toolkit.nvcc:
        return
    toolkit_version = toolkit.nvcc_version or toolkit.version
    if toolkit_version is None or _major(toolkit_version) == _major(torch_cuda):
        return
    matching = _best_toolkit(s, _major(torch_cuda))
    fixes = []
    actions: list[Action] = []
    if matching is not None:
        fixes.append(f"export CUDA_HOME={quote(matching.root)}    # CUDA {matching.version}")
        actions.append(
            set_var("CUDA_HOME", matching.root, f"builds use a CUDA {_major(torch_cuda)} toolkit")
        )
    env = s.target_env
    if env is not None and env.kind in CONDA_KINDS:
        fixes.append(
            f"conda install {conda_selector(s, env)} -c nvidia cuda-nvcc={torch_cuda} "
            f"cuda-cudart-dev={torch_cuda}  # then export CUDA_HOME=$CONDA_PREFIX"
        )
    digits = "".join(_major_minor(toolkit_version).split("."))
    fixes.append(
        f"or install a torch built for CUDA {_major_minor(toolkit_version)}: python -m pip "
        f"install torch --index-url https://download.pytorch.org/whl/cu{digits}"
    )
    yield finding(
        "toolkit-framework-mismatch",
        f"Builds would use CUDA {toolkit_version}, but torch was built with CUDA {torch_cuda}",
        f"torch {torch_version} was compiled with CUDA {torch_cuda}; torch's cpp_extension would "
        f"build with the toolkit at {toolkit.root} ({rule}), whose nvcc is CUDA {toolkit_version}. "
        "A different major fails: 'The detected CUDA version mismatches the version that was "
        "used to compile PyTorch'.",
        [
            f"torch {torch_version}: CUDA {torch_cuda}",
            f"{toolkit.root} ({rule}): nvcc CUDA {toolkit_version}",
        ],
        fixes,
        actions=actions,
    )


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def cuda_home_unset(s: Snapshot) -> Iterator[Finding]:
    if any(s.environ.get(v) for v in _VARIABLES):
        return
    complete = [t for t in s.toolkits if _complete(t) and t.source != "pip"]
    env_toolkit = next((t for t in complete if t.root == s.target.prefix), None)
    candidate = env_toolkit or (complete[0] if len(complete) == 1 else None)
    if candidate is None:
        return
    root, rule = _choice(s, "torch")
    picked = _toolkit(s, root)
    if picked is not None and picked.root == candidate.root:
        severity = "info"
        consequence = f"torch would still find it ({rule}), but scripts that read CUDA_HOME do not"
    elif picked is None:
        severity = "error"
        consequence = (
            "torch's cpp_extension finds no toolkit at all "
            "('CUDA_HOME environment variable is not set')"
        )
    else:
        severity = "warning"
        consequence = f"builds would use {picked.root} instead ({rule})"
    intent = BuildIntent(s)
    severity = intent.severity(severity)
    where = "the active environment's" if candidate is env_toolkit else "this machine's only one"
    env = s.target_env
    persist = (
        f"conda env config vars set CUDA_HOME={quote(candidate.root)} {conda_selector(s, env)}"
        if env is not None and env.kind in CONDA_KINDS and candidate is env_toolkit
        else f"export CUDA_HOME={quote(candidate.root)}"
    )
    yield finding(
        "cuda-home-unset",
        f"CUDA_HOME is not set, though {candidate.root} is a complete toolkit",
        f"{candidate.root}, {where}, has nvcc and headers (CUDA {candidate.version or '?'}), but "
        f"CUDA_HOME and CUDA_PATH are unset: {consequence}.",
        [
            f"complete toolkit: {candidate.root} ({', '.join(candidate.named_by)})",
            f"a build's usual search (torch's order) finds: {root or 'nothing'} ({rule})",
            *intent.evidence(),
        ],
        [persist],
        severity=severity,
        actions=[set_var("CUDA_HOME", candidate.root, "builds find the toolkit")],
    )


def stale_path_entry(s: Snapshot) -> Iterator[Finding]:
    count = len(s.missing_directories)
    if not count:
        return
    yield finding(
        "stale-path-entry",
        f"{count} search-path entr{'y names' if count == 1 else 'ies name'} no directory",
        "These entries point nowhere (a removed toolkit or env, a typo). Harmless to the loader "
        "and the shell, they are often left by an old CUDA install and mislead whoever reads them.",
        [f"{m.source}: {m.entry}" for m in s.missing_directories],
        ["remove the entries from the variable or file named"],
        actions=_stale_actions(s),
    )


_PATH_VARIABLES = ("PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "LIBRARY_PATH", "CPATH")


def _stale_actions(s: Snapshot) -> list[Action]:
    actions = []
    for variable in _PATH_VARIABLES:
        entries = tuple(m.entry for m in s.missing_directories if m.source == variable)
        if entries:
            actions.append(drop_path(variable, entries, "entries that name no directory"))
    for variable in _VARIABLES:
        if any(m.source == variable for m in s.missing_directories):
            actions.append(unset_var(variable, "it names no directory"))
    return actions
