"""Facts flow one way: probes → snapshot → checks → findings → renderers.

Checked on the import graph: a check that imported the host could not run on a snapshot
taken elsewhere; a renderer that imported a probe could read the machine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "cudaenv"


def imported_modules(path: Path) -> set[str]:
    """Absolute names (``cudaenv.x.y`` or stdlib) imported by one source file."""
    # `cudaenv/_checks/__init__.py` is `cudaenv._checks.__init__`: one level up is the package.
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: -node.level]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def internal(path: Path) -> set[str]:
    return {m for m in imported_modules(path) if m.startswith("cudaenv")}


RULES = {
    # layer: (modules it may import from cudaenv, as prefixes)
    "_formats": ("cudaenv._formats", "cudaenv._records"),
    "_knowledge": ("cudaenv._knowledge",),
    "_checks": (
        "cudaenv._checks",
        "cudaenv.actions",
        "cudaenv.snapshot",
        "cudaenv.findings",
        "cudaenv._knowledge",
        "cudaenv._formats",
        "cudaenv._describe",
        "cudaenv._records",
    ),
    "_render": (
        "cudaenv._render",
        "cudaenv.findings",
        "cudaenv.snapshot",
        "cudaenv._describe",
        "cudaenv._surveyed",
        "cudaenv._fleet",
    ),
    "_fix": (
        "cudaenv._fix",
        "cudaenv._safeio",
        "cudaenv._serial",
        "cudaenv.actions",
        "cudaenv.findings",
        "cudaenv.snapshot",
        "cudaenv.errors",
        "cudaenv._records",
        "cudaenv._formats",
        "cudaenv._knowledge",
        "cudaenv._describe",
    ),
    "_probes": (
        "cudaenv._probes",
        "cudaenv._host",
        "cudaenv._formats",
        "cudaenv._knowledge",
        "cudaenv.snapshot",
        "cudaenv.errors",
        "cudaenv.__version__",
        "cudaenv",
        "cudaenv._records",
    ),
}


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    allowed = RULES[layer]
    offending = {}
    for path in sorted((SRC / layer).glob("*.py")):
        bad = sorted(
            m for m in internal(path) if not any(m == a or m.startswith(a + ".") for a in allowed)
        )
        if bad:
            offending[path.name] = bad
    assert not offending


def test_checks_and_renderers_never_touch_the_machine() -> None:
    forbidden = {"os", "subprocess", "socket", "ctypes", "shutil", "glob", "pathlib"}
    for layer in ("_checks", "_render", "_formats"):
        for path in (SRC / layer).glob("*.py"):
            used = {m.split(".")[0] for m in imported_modules(path)} & forbidden
            assert not used, f"{path.relative_to(SRC)} imports {used}"


PROCESS_STARTERS = {
    SRC / "_probes" / "live.py",  # --live
    SRC / "_fix" / "packages.py",  # fix --apply: the environment's pip or conda
    SRC / "_fix" / "execute.py",  # cudaenv run / cudaenv pip
    SRC / "_fleetnode.py",  # fleet --scheduler: cudaenv snapshot itself, on each Dask worker
}


def test_only_live_fixes_and_fleet_start_processes() -> None:
    """Child processes run only for --live, for fixes the user applies or runs, and for a
    fleet's snapshots on its workers."""
    for path in SRC.rglob("*.py"):
        if path in PROCESS_STARTERS:
            continue
        assert "subprocess" not in {m.split(".")[0] for m in imported_modules(path)}, path


PROCESS_FUNCTIONS = {"fork", "forkpty", "execv", "execve", "execvp", "spawnv", "system", "popen"}


def test_only_the_survey_workers_fork() -> None:
    """Forked children run cudaenv's own code (the survey's workers), nothing from a target."""
    for path in SRC.rglob("*.py"):
        calls = {
            node.attr
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in PROCESS_FUNCTIONS
        }
        if path == SRC / "_workers.py":
            assert calls == {"fork"}
        else:
            assert not calls, f"{path.relative_to(SRC)} calls os.{calls}"


def test_importing_cudaenv_is_free() -> None:
    """`import cudaenv` loads nothing else of the package (the API is imported lazily)."""
    assert internal(SRC / "__init__.py") <= {
        "cudaenv",
        "cudaenv.api",
        "cudaenv.api.check",
        "cudaenv.api.collect",
        "cudaenv.api.diagnose",
    }


def test_only_the_fleet_command_imports_dask() -> None:
    """Dask is an optional extra: one module imports it, and only `fleet --scheduler` that."""
    importers = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if {m.split(".")[0] for m in imported_modules(path)} & {"dask", "distributed"}
    }
    assert importers == {"_fleetdask.py"}
    assert "cudaenv._fleetdask" not in internal(SRC / "_cli.py")
