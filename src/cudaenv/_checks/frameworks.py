"""Frameworks against each other and against the machine: a CPU torch on a GPU machine,
companions of another torch, extensions of another CUDA, two CuPys, JAX plugins of another
jaxlib, TensorFlow without its CUDA."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Optional

from .._formats.metadata import canonicalize_name, requirement_name
from .._knowledge.builds import companion_series, cupy_variant_cuda, tensorflow_libraries
from .._knowledge.cuda_libs import nvidia_wheel
from .._knowledge.drivers import Compatibility, parse_version
from ..actions import Action, manual, pip_install, pip_uninstall
from ..findings import Finding
from ..snapshot import Distribution, Framework, LoadedLibrary, Snapshot
from ._common import finding
from ._gpu import (
    cuda_major,
    framework_label,
    gpu_expected,
    runs_on_driver,
    torch_install,
    torch_install_action,
)

__all__ = [
    "cupy_cuda_mismatch",
    "cupy_multiple_packages",
    "extension_cuda_mismatch",
    "jax_plugin_mismatch",
    "tensorflow_cuda_mismatch",
    "torch_companion_mismatch",
    "torch_cpu_build",
]

_CONSUMER_TREES = {
    "flash-attn": "flash-attn",
    "xformers": "xformers",
    "vllm": "vllm",
    "bitsandbytes": "bitsandbytes",
    "onnxruntime-gpu": "onnxruntime-gpu",
    "torch-scatter": "torch-scatter",
}
_EXACT_CUDA = frozenset(
    {"torch-scatter", "torch-sparse", "torch-cluster", "torch-spline-conv", "pyg-lib"}
)
_CUDA_CONDA_PACKAGES = re.compile(
    r"cudatoolkit|cuda-(version|cudart|runtime|toolkit|nvcc|libraries)|pytorch-cuda|cudnn"
)


def _framework(s: Snapshot, name: str) -> Optional[Framework]:
    return next((f for f in s.frameworks if f.name == name), None)


def _public(version: str) -> str:
    return version.split("+", 1)[0]


def _pin(dist_requires: tuple[str, ...], name: str) -> Optional[str]:
    """The exact version ``name`` is pinned to (``torch==2.8.0``), ignoring markers' extras."""
    for text in dist_requires:
        if requirement_name(text) != name or "extra ==" in text:
            continue
        match = re.search(r"===?\s*([\w.+!-]+)", text.split(";", 1)[0])
        if match:
            return match.group(1)
    return None


def _index_tag(f: Framework) -> str:
    if f.variant == "cpu":
        return "cpu"
    if f.cuda and "." in f.cuda:
        return "cu" + f.cuda.replace(".", "")
    return "cu" + (f.cuda or "")


# -- torch-cpu-build ------------------------------------------------------------------------------


def torch_cpu_build(s: Snapshot) -> Iterator[Finding]:
    torch = _framework(s, "torch")
    if torch is None or torch.variant != "cpu":
        return
    if _shadows_another_torch(s, torch):
        return  # the cure is removing the shadowing copy: user-site-shadowing and kin say so
    reasons = []
    if s.driver.loaded:
        reasons.append(
            f"an NVIDIA driver is loaded ({s.driver.version or 'WSL'})"
            if s.driver.version or s.driver.wsl
            else "an NVIDIA driver is loaded"
        )
    reasons += [f"GPU: {g.model}" for g in s.gpus[:2]]
    beside = [
        framework_label(f)
        for f in s.frameworks
        if f.variant == "cuda" and f.name not in ("torch", "triton", "jax", "jaxlib")
    ]
    beside += [
        f"{d.name} {d.version}"
        for d in _env_dists(s)
        if canonicalize_name(d.name).startswith("nvidia-")
    ][:3]
    if s.target_env is not None:
        beside += [
            f"conda {p.name} {p.version}"
            for p in s.target_env.conda_packages
            if _CUDA_CONDA_PACKAGES.fullmatch(p.name)
        ][:3]
    if not reasons and not beside:
        return  # a CPU machine with a CPU torch: healthy
    severity = "error" if reasons else "warning"
    fixes = []
    actions: list[Action] = []
    install = torch_install(s, torch)
    conda_build = torch.conda_build is not None
    if conda_build:
        fixes.append(
            "conda remove cpuonly; conda install -c conda-forge 'pytorch=*=cuda*' "
            "(or pytorch-gpu), in this environment"
        )
    elif install:
        fixes.append(install)
        actions += torch_install_action(s, torch, "a CUDA build of torch")
    else:
        fixes.append(
            "python -m pip install --force-reinstall torch --index-url "
            "https://download.pytorch.org/whl/cu128 (choose the CUDA your driver supports)"
        )
    fixes.append(
        "then reinstall packages built against torch (torchvision, torchaudio, xformers …) "
        "from the same index; 'Requirement already satisfied' means pip kept the CPU build"
    )
    yield finding(
        "torch-cpu-build",
        f"torch {torch.version} is a CPU-only build",
        "This torch was built without CUDA, so torch.cuda.is_available() is False and .cuda() "
        "raises 'Torch not compiled with CUDA enabled' — whatever CUDA is installed beside it. "
        "pip's default index serves CPU wheels on some platforms and mirrors, pip treats "
        "2.x+cpu as satisfying 2.x, and conda's solver falls back to the cpu variant when no "
        "CUDA build fits.",
        [f"torch {torch.version}: {torch.variant_from}", *reasons, *beside[:4]],
        fixes,
        severity=severity,
        actions=actions or [manual(f, "", "user") for f in fixes[:1]],
    )


def _shadows_another_torch(s: Snapshot, torch: Framework) -> bool:
    """The CPU torch comes from ~/.local, PYTHONPATH or a .pth directory, in front of a torch
    in the environment's own site-packages."""
    first = next((d for d in s.site_dirs if d.path == torch.site), None)
    if first is None or first.role == "site":
        return False
    return any(
        canonicalize_name(dist.name) == "torch"
        for site in s.site_dirs
        if site.role == "site"
        for dist in site.distributions
    )


def _env_dists(s: Snapshot) -> list[Distribution]:
    return [
        d
        for site in s.site_dirs
        if site.role in ("site", "user", "pythonpath", "pth")
        for d in site.distributions
    ]


# -- torch-companion-mismatch ---------------------------------------------------------------------


def torch_companion_mismatch(s: Snapshot) -> Iterator[Finding]:
    torch = _framework(s, "torch")
    if torch is None:
        return
    torch_series = ".".join(_public(torch.version).split(".")[:2])
    problems = []
    for name in ("torchvision", "torchaudio"):
        companion = _framework(s, name)
        if companion is None:
            continue
        pin = _pin(companion.requires_dist, "torch")
        label = f"{name} {companion.version}"
        if pin is not None and _public(pin) != _public(torch.version):
            problems.append(f"{label} requires torch=={pin}")
        elif pin is None:
            series = companion_series(name, companion.version)
            if series is not None and series != torch_series:
                problems.append(f"{label} belongs with torch {series}.x")
        variants = (torch.variant, companion.variant)
        if None not in variants and "rocm" not in variants and variants[0] != variants[1]:
            problems.append(
                f"{label} is a {companion.variant} build ({companion.variant_from}), torch a "
                f"{torch.variant} build"
            )
        elif (
            variants == ("cuda", "cuda")
            and torch.cuda
            and companion.cuda
            and "." in companion.cuda
            and companion.cuda != torch.cuda
        ):
            problems.append(f"{label} is built for CUDA {companion.cuda}, torch for {torch.cuda}")
    if not problems:
        return
    major, minor = (int(x) for x in torch_series.split("."))
    vision = f"0.{minor + 15}" if major == 2 else f"0.{minor + 1}"
    audio = torch_series if major == 2 else f"0.{minor}"
    wanted = [f"torch=={_public(torch.version)}"]
    if _framework(s, "torchvision"):
        wanted.append(f"torchvision=={vision}.*")
    if _framework(s, "torchaudio"):
        wanted.append(f"torchaudio=={audio}.*")
    yield finding(
        "torch-companion-mismatch",
        "torchvision/torchaudio do not match the installed torch",
        "torchvision's and torchaudio's compiled operators are built against one torch release "
        "and one CPU/CUDA variant; with another torch they fail to load ('operator "
        "torchvision::nms does not exist') or run only on the CPU.",
        [f"torch {torch.version} ({torch.variant or 'variant unknown'})", *problems],
        [
            "python -m pip install --force-reinstall "
            + " ".join(wanted)
            + f" --index-url https://download.pytorch.org/whl/{_index_tag(torch)}"
        ],
        actions=[
            pip_install(
                tuple(wanted),
                "companions of the installed torch",
                "--force-reinstall",
                "--index-url",
                f"https://download.pytorch.org/whl/{_index_tag(torch)}",
            )
        ],
    )


# -- extension-cuda-mismatch ----------------------------------------------------------------------


def _unresolved_runtime(s: Snapshot, f: Framework) -> Optional[LoadedLibrary]:
    consumer = _CONSUMER_TREES.get(f.name)
    for tree in s.libraries.trees:
        if tree.consumer != consumer:
            continue
        for obj in tree.objects:
            if obj.name in f.runtime_needed and obj.path is None:
                return obj
    return None


def extension_cuda_mismatch(s: Snapshot) -> Iterator[Finding]:
    from .._knowledge.builds import EXTENSIONS  # noqa: PLC0415

    torch = _framework(s, "torch")
    torch_major = cuda_major(torch.cuda) if torch is not None and torch.variant == "cuda" else None
    problems = []
    for f in s.frameworks:
        if f.name not in EXTENSIONS or f.variant == "cpu":
            continue
        majors = sorted({int(r.split(".so.", 1)[1].split(".")[0]) for r in f.runtime_needed})
        major = majors[0] if majors else cuda_major(f.cuda)
        if major is None:
            continue
        source = f"NEEDED {f.runtime_needed[0]}" if f.runtime_needed else f.cuda_from
        if torch_major is not None and major != torch_major and f.name != "onnxruntime-gpu":
            problems.append(
                f"{f.name} {f.version} needs the CUDA {major} runtime ({source}); torch "
                f"{torch.version if torch else ''} is built for CUDA {torch_major}"
            )
            continue
        if (
            f.name in _EXACT_CUDA
            and torch is not None
            and torch.cuda
            and f.cuda
            and f.cuda_from == "version tag"
            and f.cuda != torch.cuda
        ):
            # PyG's wheels are built per torch *and* CUDA version, and check both at import.
            problems.append(
                f"{f.name} {f.version} is built for CUDA {f.cuda} ({f.cuda_from}); torch "
                f"{torch.version} for CUDA {torch.cuda}"
            )
            continue
        missing = _unresolved_runtime(s, f)
        if missing is not None:
            problems.append(
                f"{f.name} {f.version} needs {missing.name} ({source}), which the loader "
                "cannot find"
            )
    if not problems:
        return
    fixes = []
    if torch is not None and torch.cuda:
        fixes.append(
            "reinstall each extension built for torch "
            f"{_public(torch.version)} + CUDA {torch.cuda}: from the index of torch's build "
            f"(--index-url https://download.pytorch.org/whl/{_index_tag(torch)} for xformers; "
            f"PyG: https://data.pyg.org/whl/torch-{_public(torch.version)}+{_index_tag(torch)}"
            ".html), or from source with CUDA_HOME at a CUDA "
            f"{cuda_major(torch.cuda)} toolkit"
        )
    fixes.append(
        "or install the torch build the extension was made for, so that both load one CUDA runtime"
    )
    yield finding(
        "extension-cuda-mismatch",
        "A compiled extension needs another CUDA runtime than torch's",
        "An extension's shared objects link one CUDA runtime major (libcudart.so.N); torch "
        "loads its own. A different or missing one fails at import ('libcudart.so.13: cannot "
        "open shared object file') or at the extension's own check ('compiled with different "
        "CUDA versions').",
        problems,
        fixes,
    )


# -- CuPy ---------------------------------------------------------------------------------------


def _cupy_dists(s: Snapshot) -> list[Distribution]:
    """CuPy distributions in the target environment's own sys.path."""
    found = []
    for dist in _env_dists(s):
        name = canonicalize_name(dist.name)
        if name == "cupy" or name.startswith(("cupy-cuda", "cupy-rocm")):
            found.append(dist)
    return found


def cupy_multiple_packages(s: Snapshot) -> Iterator[Finding]:
    # Two CuPy distributions in one directory overwrote each other's files. In different
    # sys.path entries the earlier one simply wins: user-site-shadowing and the PYTHONPATH
    # findings speak for that.
    by_directory: dict[str, list[Distribution]] = {}
    for dist in _cupy_dists(s):
        by_directory.setdefault(posixpath.dirname(dist.path), []).append(dist)
    dists = next(
        (ds for ds in by_directory.values() if len({canonicalize_name(d.name) for d in ds}) > 1),
        [],
    )
    names = sorted({canonicalize_name(d.name) for d in dists})
    if len(names) < 2:
        return
    variants = sorted(
        (n for n in names if n.startswith("cupy-cuda")),
        key=lambda n: parse_version(cupy_variant_cuda(n) or "0"),
    )
    keep = variants[-1] if variants else names[0]  # without a driver to ask: the newest CUDA
    if s.driver.cuda:
        driver_major = parse_version(s.driver.cuda)[0]
        keep = f"cupy-cuda{min(driver_major, 13)}x" if driver_major >= 11 else keep
    yield finding(
        "cupy-multiple-packages",
        f"{len(names)} CuPy packages are installed in one environment",
        "Every CuPy distribution installs the same 'cupy' package directory; the last one "
        "installed overwrote the others' files, so the modules on disk mix builds and "
        "`import cupy` fails or loads the wrong CUDA.",
        [f"{d.name} {d.version}: {posixpath.dirname(d.path)}" for d in dists],
        [
            f"python -m pip uninstall -y {' '.join(names)}",
            f"python -m pip install {keep}",
        ],
        actions=[
            pip_uninstall(tuple(names), "one CuPy, not several on top of each other"),
            pip_install((keep,), "the CuPy to keep, for the driver's CUDA", "--force-reinstall"),
        ],
    )


def cupy_cuda_mismatch(s: Snapshot) -> Iterator[Finding]:
    cupys = [f for f in s.frameworks if f.name.startswith("cupy") and f.variant == "cuda"]
    for cupy in cupys:
        if not cupy.cuda:
            continue
        major = cuda_major(cupy.cuda)
        problems = []
        # CuPy 13 and 14 link the CUDA runtime statically (their wheels' modules list no
        # libcudart); what they open by name is NVRTC, for every kernel they compile.
        static = (parse_version(cupy.version) or (0,))[0] >= 13
        nvrtc = "libnvrtc.so.11.2" if major == 11 else f"libnvrtc.so.{major}"
        runtime = (
            nvrtc if static else ("libcudart.so.11.0" if major == 11 else f"libcudart.so.{major}")
        )
        opened = next((o for o in s.libraries.opened_by_name if o.name == runtime), None)
        if opened is not None and opened.path is None:
            what = "NVRTC" if static else "runtime"
            problems.append(f"no CUDA {major} {what} in reach: the loader finds no {runtime}")
        verdict = runs_on_driver(s, cupy.cuda if "." in cupy.cuda else f"{cupy.cuda}.0")
        if verdict == Compatibility.TOO_OLD:
            problems.append(
                f"the driver {s.driver.version} supports CUDA {s.driver.cuda}, older than "
                f"CUDA {major}"
            )
        if not problems:
            continue
        fixes = []
        actions: list[Action] = []
        if problems[0].startswith("no CUDA"):
            wheels = tuple(
                nvidia_wheel(base, major)
                for base in (
                    ("nvidia-cuda-nvrtc",)
                    if static
                    else ("nvidia-cuda-runtime", "nvidia-cuda-nvrtc")
                )
            )
            ctk = (parse_version(cupy.version) or (0,))[0] >= 14
            if ctk:
                fixes.append(f"python -m pip install '{cupy.name}[ctk]=={cupy.version}'")
            actions.append(pip_install(wheels, f"the CUDA {major} libraries CuPy opens"))
            fixes.append(f"{'or ' if ctk else ''}python -m pip install {' '.join(wheels)}")
        if verdict == Compatibility.TOO_OLD and s.driver.cuda:
            driver_major = parse_version(s.driver.cuda)[0]
            fixes.append(
                f"python -m pip uninstall -y {cupy.name} && python -m pip install "
                f"cupy-cuda{driver_major}x   # the CuPy of the driver's CUDA"
            )
            actions += [
                pip_uninstall((cupy.name,), "a CuPy for a CUDA the driver lacks"),
                pip_install((f"cupy-cuda{driver_major}x",), "the CuPy of the driver's CUDA"),
            ]
        yield finding(
            "cupy-cuda-mismatch",
            f"{cupy.name} {cupy.version} needs CUDA {cupy.cuda}, which this machine cannot give it",
            "A CuPy build uses one CUDA major: its runtime and NVRTC must be found by the loader "
            "and the driver must support that major. Otherwise `import cupy` or the first "
            "kernel fails ('CuPy failed to load libnvrtc.so.12', 'cudaErrorInsufficientDriver').",
            [framework_label(cupy), *problems],
            fixes
            if len(cupys) == 1
            else ["first leave one CuPy (cupy-multiple-packages); then, for that one:", *fixes],
            actions=actions if len(cupys) == 1 else [],
        )
        return


# -- jax-plugin-mismatch --------------------------------------------------------------------------


def jax_plugin_mismatch(s: Snapshot) -> Iterator[Finding]:
    jaxlib = _framework(s, "jaxlib")
    plugins = [f for f in s.frameworks if re.fullmatch(r"jax-cuda\d+-plugin", f.name)]
    pjrts = [f for f in s.frameworks if re.fullmatch(r"jax-cuda\d+-pjrt", f.name)]
    if jaxlib is None and not plugins and not pjrts:
        return
    problems = []
    reference = jaxlib.version if jaxlib is not None else None
    for extra in (*plugins, *pjrts):
        if reference is not None and _public(extra.version) != _public(reference):
            problems.append(f"{extra.name} {extra.version} ≠ jaxlib {reference}")
    for plugin in plugins:
        wanted = plugin.name.replace("-plugin", "-pjrt")
        pin = _pin(plugin.requires_dist, wanted)
        have = next((p for p in pjrts if p.name == wanted), None)
        if have is None and (pin is not None or pjrts):
            problems.append(f"{plugin.name} {plugin.version} needs {wanted}, not installed")
        elif have is not None and pin is not None and _public(pin) != _public(have.version):
            problems.append(f"{plugin.name} pins {wanted}=={pin}; {have.version} is installed")
    for pjrt in pjrts:
        wanted = pjrt.name.replace("-pjrt", "-plugin")
        if not any(p.name == wanted for p in plugins):
            problems.append(f"{pjrt.name} {pjrt.version} without {wanted}")
    if not problems:
        return
    major = re.search(r"cuda(\d+)", (plugins or pjrts)[0].name)
    target = f"jax[cuda{major.group(1)}]" if major else "jax[cuda12]"
    version = f"=={_public(reference)}" if reference else ""
    yield finding(
        "jax-plugin-mismatch",
        "JAX's CUDA plugin does not match jaxlib",
        "jaxlib loads its GPU support from the jax-cudaNN-plugin and jax-cudaNN-pjrt packages, "
        "which must carry jaxlib's exact version; otherwise JAX falls back to the CPU ('CUDA "
        "backend failed to initialize') or refuses to load the plugin.",
        problems,
        [f"python -m pip install --upgrade '{target}{version}'"],
        actions=[pip_install((f"{target}{version}",), "plugins of jaxlib's version", "--upgrade")],
    )


# -- tensorflow-cuda-mismatch ---------------------------------------------------------------------


def tensorflow_cuda_mismatch(s: Snapshot) -> Iterator[Finding]:
    tf = next((f for f in s.frameworks if f.name.startswith(("tensorflow", "tf-nightly"))), None)
    if tf is None or tf.variant != "cuda":
        return
    wanted = tensorflow_libraries(tf.cuda, tf.cudnn, tf.version)
    opened = {o.name: o for o in s.libraries.opened_by_name if o.needed_by == "tensorflow"}
    missing = [n for n in wanted if n in opened and opened[n].path is None]
    if not missing:
        return
    major = cuda_major(tf.cuda)
    suffix = f"-cu{major}" if major is not None and major < 13 else ""
    # No GPU and no CUDA wheels: TensorFlow on the CPU is what this machine is for
    severity = None if gpu_expected(s, tf) else "info"
    yield finding(
        "tensorflow-cuda-mismatch",
        f"TensorFlow {tf.version} cannot find the CUDA it was built for",
        f"This TensorFlow was built with CUDA {tf.cuda or '?'} and cuDNN {tf.cudnn or '?'} and "
        "opens those majors by name at start-up; the loader (and TensorFlow's own look into "
        "site-packages/nvidia) finds no "
        + ", ".join(missing)
        + ", so it prints 'Could not load dynamic library' and runs on the CPU only.",
        [framework_label(tf), *[f"{n}: not found" for n in missing]],
        actions=[
            pip_install(
                (f"tensorflow[and-cuda]=={_public(tf.version)}",),
                "the CUDA wheels TensorFlow was built for",
            )
        ],
        fix=[
            (
                f"python -m pip install 'tensorflow[and-cuda]=={_public(tf.version)}'   "
                f"# pulls nvidia-*{suffix} wheels of the right versions"
            ),
            "or install CUDA "
            + (tf.cuda or "?")
            + " and cuDNN "
            + (tf.cudnn or "?")
            + " system-wide and run sudo ldconfig",
        ],
        severity=severity,
    )
