"""Which interpreter runs, which one pip serves, and whether that is the environment meant."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Optional

from ..actions import conda_install, manual, pip_install, run_python, set_pyvenv, unset_var
from ..findings import Finding
from ..snapshot import Command, Environment, Snapshot
from ._common import (
    ACTIVATED,
    CONDA_KINDS,
    by_name,
    command_evidence,
    conda_selector,
    env_distributions,
    env_label,
    env_name,
    finding,
    interp_label,
    path_position,
    quote,
    same_interpreter,
    shell_context,
    shell_python,
)

__all__ = [
    "conda_env_not_activated",
    "env_without_python",
    "pip_other_interpreter",
    "python_not_found",
    "python_outside_active_env",
    "pythonhome_set",
    "venv_interpreter_missing",
    "venv_over_conda",
]


def _fallthrough_evidence(s: Snapshot) -> list[str]:
    evidence = []
    for name in ("python", "python3", "pip", "pip3"):
        cmd = s.command(name)
        if cmd is not None:
            evidence.append(command_evidence(s, cmd))
    return evidence


def env_without_python(s: Snapshot) -> Iterator[Finding]:
    env = s.target_env
    if env is None or env.kind not in CONDA_KINDS or env.python is not None:
        return
    if s.target.chosen_by not in ("CONDA_PREFIX", "--prefix"):
        return
    py = shell_python(s)
    where = interp_label(s, py.interpreter) if py else "nowhere (no python on PATH)"
    active = "active " if s.target.chosen_by == "CONDA_PREFIX" else ""
    name = env.name or env.prefix
    version = py.interpreter.version if py and py.interpreter else None
    pin = f"python={version}" if version else "python"
    yield finding(
        "env-without-python",
        f'The {active}conda env "{name}" has no Python of its own',
        f"{env_label(env)} holds no python package, so `python` and `pip` are not its own: "
        f"they fall through PATH to {where}. `pip install` puts packages there, not into "
        f'"{name}", and scripts run there too.',
        [
            f"CONDA_PREFIX={s.active.conda_prefix}" if s.active.conda_prefix else "",
            f"{env.prefix}/conda-meta has no python-*.json and {env.prefix}/bin has no python",
            *_fallthrough_evidence(s),
        ],
        [
            f"conda install {conda_selector(s, env)} {pin} pip",
            "hash -r    # the shell forgets where it found `pip` before",
            "python -m pip install <package>    # pip of exactly the python you run",
        ],
        actions=[
            conda_install((pin, "pip"), f'give "{name}" its own Python and pip'),
            manual(
                "hash -r   # in your shell, so it finds the env's own python and pip", "", "user"
            ),
        ],
    )


def _path_cause(s: Snapshot, env: Environment, cmd: Optional[Command]) -> tuple[str, list[str]]:
    """Why ``python`` is not the env's, and the matching fix."""
    env_bin = posixpath.join(env.prefix, "bin")
    if cmd is None:
        return (
            f"no `python` is on PATH at all, and {env_bin} is not on it",
            [f'export PATH={quote(env_bin)}:"$PATH"'],
        )
    if cmd.via == "alias" and cmd.detail:
        return (
            f"a shell alias overrides PATH: {cmd.detail}",
            [
                f"unalias {cmd.name}",
                f"delete the `alias {cmd.name}=...` line from the start-up file named above",
            ],
        )
    env_pos = path_position(s, env_bin)
    found_dir = posixpath.dirname(cmd.path or "")
    if cmd.via == "pyenv":
        fixes = [
            f'export PATH={quote(env_bin)}:"$PATH"    # or activate the env after `pyenv init`'
        ]
        if env_pos is not None:
            fixes.append("pyenv shell system    # the shim then falls through to the activated env")
        return f"pyenv's shims come before {env_bin} on PATH and select {cmd.detail}", fixes
    if env_pos is None:
        return (
            f"{env_bin} is not on PATH, so `python` is found in {found_dir}",
            [
                f"conda deactivate && conda activate {quote(env.name or env.prefix)}"
                if env.kind in CONDA_KINDS
                else f"source {quote(env_bin)}/activate",
            ],
        )
    return (
        f"{found_dir} comes before {env_bin} on PATH",
        [
            f'export PATH={quote(env_bin)}:"$PATH"',
            f"remove the line that prepends {found_dir} to PATH from your shell start-up file",
        ],
    )


def python_outside_active_env(s: Snapshot) -> Iterator[Finding]:
    if s.target.chosen_by not in ACTIVATED:
        return
    env = s.target_env
    if env is None or env.python is None:
        return
    cmd = shell_python(s)
    if cmd is not None and cmd.interpreter is not None and cmd.interpreter.prefix == env.prefix:
        return
    cause, fixes = _path_cause(s, env, cmd)
    runs = interp_label(s, cmd.interpreter) if cmd and cmd.interpreter else "nothing"
    variable = "VIRTUAL_ENV" if s.target.chosen_by == "VIRTUAL_ENV" else "CONDA_PREFIX"
    yield finding(
        "python-outside-active-env",
        f"`python` is not the Python of the active {env_name(env)}",
        f"{env_label(env)} is active and has its own Python ({env.python}), but `python` runs "
        f"{runs}: {cause}. Packages installed into the active environment are not what "
        "`python` imports.",
        [
            f"{variable}={env.prefix}",
            *(command_evidence(s, c) for c in (cmd,) if c is not None),
            f"PATH={s.environ.get('PATH', '')}",
        ],
        [*fixes, f"{quote(env.python)} ...    # always runs the environment's own Python"],
    )


def pip_other_interpreter(s: Snapshot) -> Iterator[Finding]:
    if not shell_context(s) or _broken_venv(s) is not None:
        return  # a venv without its Python: venv-interpreter-missing is the cause
    env = s.target_env
    references: list[tuple[str, Optional[str], Optional[str]]] = []
    if s.target.chosen_by in ACTIVATED and env is not None and env.python is not None:
        references.append(
            (f"the active environment's Python ({env.python})", env.prefix, env.python_version)
        )
    py = shell_python(s)
    if py is not None and py.interpreter is not None and py.interpreter.exists:
        references.append(
            (f"`{py.name}` ({py.path})", py.interpreter.prefix, py.interpreter.version)
        )
    if not references:
        return
    mismatched: list[tuple[Command, str]] = []
    for name in ("pip", "pip3"):
        cmd = s.command(name)
        if cmd is None or cmd.interpreter is None:
            continue
        for label, prefix, version in references:
            if not same_interpreter(cmd.interpreter, prefix, version):
                mismatched.append((cmd, label))
                break
    if not mismatched:
        return
    cmd, label = mismatched[0]
    pip_interp = cmd.interpreter
    assert pip_interp is not None  # filtered above
    if not pip_interp.exists:
        serves = f"an interpreter that no longer exists ({pip_interp.path})"
    else:
        serves = interp_label(s, pip_interp)
    ref_prefix = references[0][1]
    fixes = ["python -m pip install <package>    # pip of exactly the python you run"]
    actions = [manual("use `python -m pip` (the pip of the python you run)", "", "user")]
    ref_env = s.environments.get(ref_prefix) if ref_prefix else None
    if ref_env is not None and ref_prefix is not None:
        has_pip = "pip" in by_name(env_distributions(s, ref_prefix))
        own = ref_prefix == s.target.prefix
        if not has_pip and ref_env.kind in CONDA_KINDS:
            fixes.append(f"conda install {conda_selector(s, ref_env)} pip")
            if own:
                actions.append(conda_install(("pip",), "give the environment its own pip"))
        elif not has_pip and ref_env.python:
            fixes.append(f"{quote(ref_env.python)} -m ensurepip --upgrade --default-pip")
            if own:
                actions.append(
                    run_python(
                        ("-m", "ensurepip", "--upgrade", "--default-pip"),
                        "give the environment its own pip (with --default-pip: `pip` too)",
                    )
                )
    copied_from = _copied_from(cmd, ref_prefix)
    if copied_from is not None and ref_prefix is not None:
        here = quote(ref_prefix)
        fixes = [
            (
                f"{here}/bin/python -m pip install --force-reinstall pip    # rewrites its pip "
                "scripts for this path"
            ),
            (
                f"better, recreate it here: {here}/bin/python -m pip freeze > requirements.txt "
                f"&& python3 -m venv --clear {here} && {here}/bin/python -m pip install -r "
                "requirements.txt"
            ),
            "hash -r",
        ]
        actions = [
            pip_install(("pip",), "rewrite the copied venv's pip scripts", "--force-reinstall")
        ]
    elif cmd.path and _is_stray(s, cmd):
        # Only a pip that belongs to no environment of its own is safe to remove.
        fixes.append(f"rm {quote(cmd.path)}    # a stray pip that comes first on PATH")
        fixes.append("hash -r    # the shell forgets where it found `pip` before")
        actions.append(
            manual(
                f"rm {quote(cmd.path)}; hash -r   # a stray pip, outside any environment",
                "",
                "user",
            )
        )
    copied = (
        f" {ref_prefix} was copied or moved from {copied_from} (`cp -r`, `mv`): its own "
        f"{cmd.path}'s #! line still names {copied_from}/bin/python, and a venv's scripts (and "
        "its activate) are written for one path only."
        if copied_from is not None
        else ""
    )
    yield finding(
        "pip-other-interpreter",
        f"`{cmd.name}` installs for another interpreter than {label.split(' (')[0]}",
        f"`{cmd.name}` runs under {serves}, while {label} is what runs your code. "
        f"`{cmd.name} install` therefore puts packages where this Python does not look." + copied,
        [command_evidence(s, c) for c in (*(c for c, _ in mismatched), py) if c is not None],
        fixes,
        actions=actions,
    )


def _copied_from(cmd: Command, prefix: Optional[str]) -> Optional[str]:
    """The prefix a venv was copied or moved from, when its own pip script names it."""
    interp = cmd.interpreter
    if prefix is None or cmd.path is None or interp is None or interp.path is None:
        return None
    if posixpath.dirname(cmd.path) != posixpath.join(prefix, "bin"):
        return None  # not the environment's own script
    named = posixpath.dirname(posixpath.dirname(interp.path))
    if named == prefix or not posixpath.basename(interp.path).startswith("python"):
        return None
    return named


def _is_stray(s: Snapshot, cmd: Command) -> bool:
    """A pip script outside any environment (``~/.local/bin``), or one for a lost interpreter."""
    interp = cmd.interpreter
    if interp is not None and not interp.exists:
        return True
    user_bin = posixpath.join(s.home, ".local", "bin") if s.home else None
    return cmd.path is not None and posixpath.dirname(cmd.path) == user_bin


def conda_env_not_activated(s: Snapshot) -> Iterator[Finding]:
    interp = s.target.interpreter
    if s.target.chosen_by not in ("PATH", "--python", "--prefix") or interp is None:
        return
    if interp.prefix is None:
        return
    env = s.environments.get(interp.prefix)
    if env is None or env.kind not in CONDA_KINDS:
        return
    active = s.active.conda_prefix
    if active is not None and active == env.prefix:
        return
    quiet = env.kind == "conda-base" and active is None and s.active.conda_shlvl in (None, "0")
    if active is None:
        state = "no conda environment is activated (CONDA_PREFIX is unset)"
    else:
        state = f"CONDA_PREFIX names {active}"
        if not any(e.prefix == active for e in s.conda.envs) and active not in s.environments:
            state += ", which is not a conda environment here"
    if env.kind == "pixi":
        fixes = ["pixi shell    # in the project directory", "pixi run python ..."]
    else:
        selector = conda_selector(s, env)
        name = selector.split(" ", 1)[1]
        fixes = [f"conda activate {name}", f"conda run {selector} python ..."]
    yield finding(
        "conda-env-not-activated",
        f"{env_name(env)} is used without being activated",
        f"The interpreter in use, {interp.path}, belongs to {env_label(env)}, but {state}. "
        "Its activation scripts (etc/conda/activate.d: CUDA_HOME, library paths) have not run, "
        "its bin/ may be missing from PATH, and tools that look in $CONDA_PREFIX look "
        "elsewhere.",
        [
            f"interpreter: {interp_label(s, interp)} (chosen by {s.target.chosen_by})",
            f"CONDA_PREFIX={active}" if active else "CONDA_PREFIX is unset",
        ],
        fixes,
        severity="info" if quiet else None,
    )


_CONDA_FRAMEWORKS = frozenset(
    {
        "pytorch",
        "cupy",
        "jaxlib",
        "jax",
        "tensorflow",
        "tensorflow-base",
        "cudatoolkit",
        "cuda-runtime",
        "cuda-toolkit",
        "cudnn",
        "numba",
        "pytorch-cuda",
        "cuda-version",
    }
)


def venv_over_conda(s: Snapshot) -> Iterator[Finding]:
    env = s.target_env
    if env is None or env.kind != "venv" or env.venv is None:
        return
    cfg = env.venv
    if cfg.base_kind not in CONDA_KINDS or cfg.include_system_site_packages:
        return
    base = s.environments.get(cfg.base_prefix) if cfg.base_prefix else None
    names = sorted(p.name for p in base.conda_packages) if base else []
    notable = [n for n in names if n in _CONDA_FRAMEWORKS]
    hidden = f" including {', '.join(notable)}" if notable else ""
    yield finding(
        "venv-over-conda",
        "The venv is built on a conda env but cannot see its packages",
        f"{env_label(env)} was made from {env_label(base, cfg.base_prefix)} without "
        f"system site-packages, so the {len(names)} packages conda installed there{hidden} "
        "are invisible to it; a `pip install` inside the venv fetches separate copies.",
        [
            f"{env.prefix}/pyvenv.cfg: home = {cfg.home}",
            f"{env.prefix}/pyvenv.cfg: include-system-site-packages = false",
        ],
        [
            f"set `include-system-site-packages = true` in {env.prefix}/pyvenv.cfg",
            (
                "or use the conda env itself: deactivate, then "
                f"conda activate {quote(base.name or base.prefix) if base else '<env>'}"
            ),
        ],
        actions=[
            set_pyvenv(
                "include-system-site-packages", "true", "let the venv see the conda packages"
            )
        ],
    )


def pythonhome_set(s: Snapshot) -> Iterator[Finding]:
    home = s.pythonhome
    if home is None:
        return
    env = s.target_env
    version = (env.python_version if env else None) or (
        s.target.interpreter.version if s.target.interpreter else None
    )
    own = {p for p in (s.target.prefix, env.venv.base_prefix if env and env.venv else None) if p}
    problems = []
    if not home.exists:
        problems.append(f"{home.prefix} does not exist")
    elif version and version not in home.stdlib_versions:
        found = ", ".join(home.stdlib_versions) or "none"
        problems.append(
            f"{home.prefix}/lib has no python{version} standard library (found: {found})"
        )
    if own and home.prefix not in own:
        problems.append(f"it is not the prefix of the Python in use ({', '.join(sorted(own))})")
    detail = f"PYTHONHOME={home.value} tells every Python where its standard library is. " + (
        "Here " + "; ".join(problems) + ", so Python fails at start-up "
        "(\"No module named 'encodings'\") or imports another installation's modules."
        if problems
        else "It matches the Python in use now, but breaks any other Python or env you switch to."
    )
    yield finding(
        "pythonhome-set",
        "PYTHONHOME is set",
        detail,
        [f"PYTHONHOME={home.value}", *problems],
        [
            "unset PYTHONHOME",
            (
                "remove `export PYTHONHOME=...` from your shell start-up file "
                "(on clusters: `module unload python`)"
            ),
        ],
        severity=None if problems else "warning",
        actions=[
            unset_var("PYTHONHOME", "every Python finds its own standard library"),
            manual(
                "remove `export PYTHONHOME=...` from your shell start-up file "
                "(clusters: module unload python)",
                "",
                "user",
            ),
        ],
    )


def _broken_venv(s: Snapshot) -> Optional[Environment]:
    """The target venv when its ``bin/python`` runs nothing: pyvenv.cfg is there, the
    interpreter it names is not."""
    env = s.target_env
    if env is None or env.kind != "venv" or env.venv is None or env.python is not None:
        return None
    bin_dir = posixpath.join(env.prefix, "bin")
    if any(p.path.startswith(bin_dir + "/") or p.path == bin_dir for p in s.problems):
        return None  # there, but not readable by this user: unreadable-file says so
    home = env.venv.home
    if home and any(p.path == home or p.path.startswith(home + "/") for p in s.problems):
        return None
    return env


def venv_interpreter_missing(s: Snapshot) -> Iterator[Finding]:
    env = _broken_venv(s)
    if env is None or env.venv is None:
        return
    cfg = env.venv
    base = f"{cfg.home}/python{'.'.join((cfg.version or '').split('.')[:2])}"
    prefix = quote(env.prefix)
    yield finding(
        "venv-interpreter-missing",
        f"The venv {env.prefix} has no Python: the interpreter it was made from is gone",
        f"{env.prefix}/bin/python leads to no interpreter. The venv was made from Python "
        f"{cfg.version or '?'} in {cfg.home or '?'} (pyvenv.cfg), which has been removed or "
        "upgraded since; nothing runs in the venv, its pip included, and its packages were "
        "built for that Python. A venv is not repaired by pointing it elsewhere: recreate it.",
        [
            f"{env.prefix}/pyvenv.cfg: home = {cfg.home}, version = {cfg.version}",
            f"{env.prefix}/bin/python: no interpreter behind it (expected like {base})",
        ],
        [
            f"ls {prefix}/lib/python*/site-packages    # what it held (or your requirements)",
            f"python3 -m venv --clear {prefix}    # with the Python you have now",
            f"{prefix}/bin/python -m pip install -r requirements.txt",
        ],
    )


def python_not_found(s: Snapshot) -> Iterator[Finding]:
    if s.target.chosen_by != "none":
        return
    yield finding(
        "python-not-found",
        "No Python environment to diagnose",
        "No venv or conda env is active and neither `python` nor `python3` is on PATH, so "
        "there is no target environment; machine-wide facts are still reported.",
        [f"PATH={s.environ.get('PATH', '')}"],
        ["cudaenv doctor --python /path/to/python    # or --prefix /path/to/env"],
    )
