"""``cudaenv pip``: the pip command that fits this machine.

It runs the target environment's own interpreter (``<env>/bin/python -m pip``) and, for an
install, chooses the CUDA variants this driver *and* these GPUs can use:

* torch, torchvision, torchaudio from the ``download.pytorch.org/whl/<variant>`` index — the
  newest CUDA build the driver runs that has code for every GPU, or ``cpu`` on a machine
  without a driver (what ``uv --torch-backend=auto`` does, plus the GPU's architecture);
  in a command of their own when other packages are asked for too;
* ``cupy`` → ``cupy-cudaNNx``, ``jax`` → ``jax[cudaNN]``, ``tensorflow`` →
  ``tensorflow[and-cuda]``, for the driver's CUDA major (13 only where every GPU has compute
  capability 7.5 or more: CUDA 13 dropped the older ones);
* an unpinned ``nvidia-*`` wheel gets the version an installed framework pins;
* packages built from source against torch (flash-attn, apex, …) get CUDA_HOME set to a
  toolkit of torch's CUDA major and ``--no-build-isolation`` (so the build sees torch).
"""

from __future__ import annotations

import re
from typing import Optional

from .._formats.metadata import canonicalize_name, requirement_name
from .._knowledge.builds import torch_index_for, torch_release_cuda
from .._knowledge.drivers import driver_runs, parse_version
from .._knowledge.gpus import cuda_can_target
from .._records import record
from ..snapshot import Snapshot

__all__ = ["PipCommand", "plan_pip"]

TORCH_FAMILY = frozenset({"torch", "torchvision", "torchaudio"})
SOURCE_BUILDS = frozenset(
    {"flash-attn", "apex", "mamba-ssm", "causal-conv1d", "deepspeed", "auto-gptq", "xformers"}
)
"""Packages usually compiled against the installed torch at install time."""
_VALUE_OPTIONS = frozenset(
    {
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "-e",
        "--editable",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--src",
        "--upgrade-strategy",
        "--progress-bar",
        "--cache-dir",
        "--log",
        "--proxy",
        "--timeout",
        "--retries",
        "-C",
        "--config-settings",
        "--global-option",
        "--no-binary",
        "--only-binary",
        "--report",
    }
)
TORCH_INDEX = "https://download.pytorch.org/whl/{tag}"
_NAME = re.compile(r"[A-Za-z0-9._-]+")


@record
class PipCommand:
    argv: tuple[str, ...]
    environment: tuple[tuple[str, str], ...] = ()
    """Variables set for this command only (CUDA_HOME for a source build)."""
    notes: tuple[str, ...] = ()


def _split(args: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """(options with their values, [(position, requirement)]) of a ``pip install`` tail."""
    options: list[str] = []
    requirements: list[tuple[int, str]] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in _VALUE_OPTIONS and index + 1 < len(args):
            options += [arg, args[index + 1]]
            index += 2
            continue
        if arg.startswith("-"):
            options.append(arg)
        else:
            requirements.append((index, arg))
        index += 1
    return options, requirements


def _driver_runs(s: Snapshot, cuda: str) -> Optional[str]:
    if not s.driver.version:
        return None
    return driver_runs(s.driver.version, cuda)


def _cuda_major_for(s: Snapshot) -> Optional[int]:
    """The CUDA major for CuPy/JAX wheels: the driver's, 13 only if every GPU can use it."""
    if not s.driver.cuda:
        return None
    major = parse_version(s.driver.cuda)[0]
    capabilities = [g.capability for g in s.gpus if g.capability]
    if major >= 13 and any(cuda_can_target("13.0", cc) is False for cc in capabilities):
        major = 12
    return major if major in (11, 12, 13) else None


def _toolkit_major(s: Snapshot) -> Optional[tuple[int, str]]:
    """(CUDA major, root) of the toolkit CuPy would use, when there is no driver to ask."""
    for choice in s.toolkit_choices:
        if choice.consumer != "cupy" or not choice.root:
            continue
        toolkit = next((t for t in s.toolkits if t.root == choice.root and t.exists), None)
        version = (toolkit.nvcc_version or toolkit.version) if toolkit else None
        major = parse_version(version)[0] if version else None
        if major in (11, 12, 13):
            return major, choice.root
    return None


def _torch_index(s: Snapshot, requirements: list[str]) -> tuple[str, str]:
    """(index URL, why) for torch on this machine (and, when pinned, that torch release)."""
    capabilities = sorted({g.capability for g in s.gpus if g.capability}, key=parse_version)
    if not s.driver.loaded and not s.gpus:
        return TORCH_INDEX.format(tag="cpu"), "no NVIDIA driver here: the CPU build"
    if not s.driver.version:
        return TORCH_INDEX.format(tag="cu128"), "driver version unknown: the default CUDA build"
    pinned = next(
        (
            m.group(1)
            for r in requirements
            if (m := re.fullmatch(r"torch\s*==\s*([\w.+]+)", r.strip()))
        ),
        None,
    )
    allowed = torch_release_cuda(pinned) if pinned else None
    chosen = torch_index_for(lambda cuda: _driver_runs(s, cuda), capabilities, allowed)
    if chosen is None:
        return TORCH_INDEX.format(tag="cpu"), (
            f"no CUDA build runs on driver {s.driver.version} with these GPUs: the CPU build"
        )
    gpus = ", ".join(f"{g.model} ({g.capability})" for g in s.gpus if g.capability)
    return chosen[1], f"driver {s.driver.version} (CUDA {s.driver.cuda}); GPUs: {gpus or 'none'}"


def _pin_from_frameworks(s: Snapshot, name: str) -> Optional[str]:
    for framework in s.frameworks:
        for text in framework.requires_dist:
            if requirement_name(text) != name or "extra ==" in text:
                continue
            match = re.search(r"(===?|~=|>=)\s*([\w.!+-]+)", text.split(";", 1)[0])
            if match:
                return f"{name}{match.group(1)}{match.group(2)}"
    return None


def _build_toolkit(s: Snapshot) -> Optional[str]:
    torch = next((f for f in s.frameworks if f.name == "torch" and f.cuda), None)
    if torch is None or torch.cuda is None:
        return None
    major = parse_version(torch.cuda)[0]
    complete = [
        t for t in s.toolkits if t.exists and t.nvcc and t.runtime_headers and t.source != "pip"
    ]
    matching = [
        t for t in complete if parse_version(t.nvcc_version or t.version or "0")[0] == major
    ]
    own = [t for t in matching if t.root == s.target.prefix]
    ranked = own or matching
    return ranked[0].root if ranked else None


def plan_pip(s: Snapshot, args: list[str]) -> list[PipCommand]:
    """The pip commands for ``args`` (pip's own arguments, starting with its subcommand)."""
    python = s.target.interpreter.path if s.target.interpreter else "python"
    base = (python, "-m", "pip")
    if not args or args[0] != "install":
        return [PipCommand((*base, *args))]
    options, requirements = _split(args[1:])
    has_index = any(o in ("-i", "--index-url", "--extra-index-url") for o in options)
    torch_reqs: list[str] = []
    other: list[str] = []
    notes: list[str] = []
    environment: list[tuple[str, str]] = []
    needs_no_isolation = False
    major = _cuda_major_for(s)
    for _, requirement in requirements:
        name = requirement_name(requirement) or canonicalize_name(requirement)
        head = _NAME.match(requirement)
        rest = requirement[head.end() :] if head else ""
        if name in TORCH_FAMILY and not has_index:
            torch_reqs.append(requirement)
        elif name == "cupy" and major is not None:
            other.append(f"cupy-cuda{major}x{rest}")
            notes.append(f"cupy → cupy-cuda{major}x (the driver's CUDA {s.driver.cuda})")
        elif name == "cupy" and _toolkit_major(s) is not None:
            toolkit_major, root = _toolkit_major(s) or (0, "")
            other.append(f"cupy-cuda{toolkit_major}x{rest}")
            notes.append(f"cupy → cupy-cuda{toolkit_major}x (no driver here; the CUDA of {root})")
        elif name == "cupy":
            other.append(requirement)
            notes.append(
                "cupy stays cupy: PyPI's `cupy` is a source build (it needs nvcc and takes long), "
                "and with no driver or toolkit here nothing says which cupy-cudaNNx wheel fits; "
                "name it yourself (cupy-cuda12x, cupy-cuda13x)"
            )
        elif name == "jax" and major in (12, 13) and "[" not in requirement:
            other.append(f"jax[cuda{major}]{rest}")
            notes.append(f"jax → jax[cuda{major}] (the driver's CUDA {s.driver.cuda})")
        elif name == "tensorflow" and s.driver.loaded and "[" not in requirement:
            other.append(f"tensorflow[and-cuda]{rest}")
            notes.append("tensorflow → tensorflow[and-cuda] (its CUDA wheels)")
        elif name.startswith("nvidia-") and not rest.strip():
            pinned = _pin_from_frameworks(s, name)
            other.append(pinned or requirement)
            if pinned:
                notes.append(f"{name} → {pinned} (what an installed framework pins)")
        else:
            other.append(requirement)
        if name in SOURCE_BUILDS:
            needs_no_isolation = True
    if needs_no_isolation:
        toolkit = _build_toolkit(s)
        if toolkit is not None and s.environ.get("CUDA_HOME") != toolkit:
            environment.append(("CUDA_HOME", toolkit))
            notes.append(f"CUDA_HOME={toolkit} (a toolkit of torch's CUDA major) for the build")
        if "--no-build-isolation" not in options:
            options.append("--no-build-isolation")
            notes.append("--no-build-isolation: the build must see the installed torch")
    commands = []
    if torch_reqs:
        url, why = _torch_index(s, torch_reqs)
        commands.append(
            PipCommand(
                (*base, "install", *options, "--index-url", url, *torch_reqs),
                notes=(f"{' '.join(torch_reqs)} from {url}: {why}",),
            )
        )
    if other or not torch_reqs:
        commands.append(
            PipCommand((*base, "install", *options, *other), tuple(environment), tuple(notes))
        )
    return commands
