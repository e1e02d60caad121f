"""Where a plan's variables and settings live, the way each kind of environment expects.

* conda envs (and pixi envs, which run the same hooks): ``etc/conda/activate.d/~~cudaenv.sh``
  (+ ``.fish``), last after the packages' own hooks, and ``deactivate.d/!cudaenv.sh`` (+
  ``.fish``), first, restoring what activation saved;
* venvs: the same four scripts in ``etc/cudaenv/``, called from two marked lines added to
  ``bin/activate`` and ``bin/activate.fish`` (one at the end, one at the top of their
  ``deactivate``);
* both: for the variables Python code reads at run time (CUDA_HOME …), a ``.pth`` hook in
  site-packages, for when the environment's python runs without activation (IDEs, kernels,
  ``env/bin/python script.py``);
* ``pyvenv.cfg`` keys, rewritten in place.

Nothing here writes: it returns the files' new contents; the journal writes them.
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Optional

from .._records import record
from .._safeio import open_regular
from .journal import MAX_EDITED_BYTES
from .plan import Plan, VariableChange
from .shells import activation_scripts

__all__ = ["PYTHON_READ", "FileChange", "file_changes"]

PYTHON_READ = frozenset(
    {
        "CUDA_HOME",
        "CUDA_PATH",
        "CUDA_ROOT",
        "NVCC_CCBIN",
        "NVCC_PREPEND_FLAGS",
        "NVCC_APPEND_FLAGS",
        "TRITON_PTXAS_PATH",
        "XLA_FLAGS",
        "PIP_TARGET",
        "PIP_PREFIX",
        "PIP_USER",
        "TORCH_CUDA_ARCH_LIST",
    }
)
"""Variables read by Python code after start-up (torch's cpp_extension, CuPy, XLA, pip
subprocesses), which a ``.pth`` hook can still set.  LD_LIBRARY_PATH, PYTHONPATH and the like
are read before any hook runs: only activation (or ``cudaenv run``) can change them."""

MARK = "# cudaenv"
CONDA_ACTIVATE = ("etc/conda/activate.d/~~cudaenv.sh", "etc/conda/activate.d/~~cudaenv.fish")
CONDA_DEACTIVATE = ("etc/conda/deactivate.d/!cudaenv.sh", "etc/conda/deactivate.d/!cudaenv.fish")


@record
class FileChange:
    path: str
    """Absolute path of the file (inside the environment)."""
    content: Optional[bytes]
    """The new content; None removes the file."""
    why: str


def _read(path: str) -> Optional[bytes]:
    """The file as it is, or None (absent, or not a regular file: apply refuses those)."""
    try:
        with open_regular(path) as handle:
            return handle.read(MAX_EDITED_BYTES + 1)
    except OSError:
        return None


def _site_packages(prefix: str) -> Optional[str]:
    lib = posixpath.join(prefix, "lib")
    try:
        names = sorted(os.listdir(lib))
    except OSError:
        return None
    for name in names:
        if re.fullmatch(r"python3\.\d+t?", name):
            site = posixpath.join(lib, name, "site-packages")
            if os.path.isdir(site):
                return site
    return None


def _pth_hook(changes: tuple[VariableChange, ...], codes: tuple[str, ...]) -> Optional[str]:
    lines = []
    for change in changes:
        if change.name not in PYTHON_READ:
            continue
        if change.mode == "set":
            # fills what is unset; a value the user set on purpose stays theirs
            lines.append(f"    os.environ.setdefault({change.name!r}, {change.value!r})")
        elif change.mode == "unset":
            lines.append(f"    os.environ.pop({change.name!r}, None)")
    if not lines:
        return None
    return (
        '"""Written by `cudaenv fix --apply` (removed by `cudaenv undo`): the variables this\n'
        "environment's Python code needs, for when it runs without activation.  Fixes: "
        f'{", ".join(codes)}."""\n\n'
        "import os\n\n"
        'if not os.environ.get("_CUDAENV_ACTIVE"):\n' + "\n".join(lines) + "\n"
    )


def _venv_activate(text: str, shell: str) -> str:
    """``bin/activate`` (or ``.fish``) with cudaenv's two lines, unless they are there."""
    if MARK in text:
        return text
    scripts = '"$VIRTUAL_ENV/etc/cudaenv'
    if shell == "sh":
        call = f'[ -n "${{_CUDAENV_ACTIVE-}}" ] && . {scripts}/deactivate.sh"  {MARK}'
        tail = f'[ -f {scripts}/activate.sh" ] && . {scripts}/activate.sh"  {MARK}'
        head = re.compile(r"^deactivate\s*\(\)\s*\{[^\n]*\n", re.MULTILINE)
    else:
        call = f'set -q _CUDAENV_ACTIVE; and source {scripts}/deactivate.fish"  {MARK}'
        tail = f'test -f {scripts}/activate.fish"; and source {scripts}/activate.fish"  {MARK}'
        head = re.compile(r"^function deactivate\b[^\n]*\n", re.MULTILINE)
    match = head.search(text)
    if match is None:
        raise ValueError("no deactivate function found")
    edited = text[: match.end()] + "    " + call + "\n" + text[match.end() :]
    if not edited.endswith("\n"):
        edited += "\n"
    return edited + tail + "\n"


def _pyvenv(text: str, key: str, value: str) -> str:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=.*$", re.MULTILINE)
    line = f"{key} = {value}"
    if pattern.search(text):
        return pattern.sub(line, text, count=1)
    return text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"


def file_changes(plan: Plan) -> tuple[list[FileChange], list[str]]:
    """(the files to write, notes about what cannot be persisted)."""
    changes: list[FileChange] = []
    notes: list[str] = []
    prefix = plan.prefix
    if prefix is None:
        if plan.variables or plan.settings:
            notes.append("no environment to write to: use `cudaenv run` or `cudaenv env`")
        return changes, notes
    for setting in plan.settings:
        current = _read(setting.path)
        if current is None:
            notes.append(f"{setting.path} is missing; {setting.key} was not set")
            continue
        new = _pyvenv(current.decode(), setting.key, setting.value).encode()
        changes.append(FileChange(setting.path, new, f"{setting.key} = {setting.value}"))
    if not plan.variables:
        return changes, notes
    scripts = activation_scripts(plan.variables, plan.codes)
    if plan.persistence == "conda":
        targets = dict(
            zip(
                (*CONDA_ACTIVATE, *CONDA_DEACTIVATE),
                ("activate.sh", "activate.fish", "deactivate.sh", "deactivate.fish"),
            )
        )
        for relative, script in targets.items():
            changes.append(
                FileChange(
                    posixpath.join(prefix, relative),
                    scripts[script].encode(),
                    "conda runs it on activation"
                    if "activate.d" in relative and "deactivate" not in relative
                    else "conda runs it on deactivation",
                )
            )
    elif plan.persistence == "venv":
        for name, script in scripts.items():
            changes.append(
                FileChange(
                    posixpath.join(prefix, "etc", "cudaenv", name),
                    script.encode(),
                    "bin/activate runs it",
                )
            )
        for name, shell in (("activate", "sh"), ("activate.fish", "fish")):
            path = posixpath.join(prefix, "bin", name)
            current = _read(path)
            if current is None:
                continue
            try:
                edited = _venv_activate(current.decode(), shell)
            except ValueError:
                notes.append(f"{path} has no deactivate function cudaenv knows; not edited")
                continue
            changes.append(FileChange(path, edited.encode(), "two marked lines call the scripts"))
    else:
        notes.append(
            f"a {plan.env_kind} environment has no activation to persist variables in: "
            'use `cudaenv run -- CMD` or `eval "$(cudaenv env)"`'
        )
    site = _site_packages(prefix)
    hook = _pth_hook(plan.variables, plan.codes)
    if site is not None and hook is not None:
        changes.append(
            FileChange(
                posixpath.join(site, "_cudaenv_env.py"), hook.encode(), "the .pth hook's module"
            )
        )
        changes.append(
            FileChange(
                posixpath.join(site, "_cudaenv_env.pth"),
                b"import _cudaenv_env\n",
                "runs the hook when the environment's python starts",
            )
        )
    return changes, notes
