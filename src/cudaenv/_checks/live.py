"""``--live``: where a framework's (or the driver's) own answer contradicts what the files
predicted.  The static verdict is recomputed here from the same checks, so this stays a pure
function of the snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from .._describe import gpu_warning, live_summary
from .._knowledge.drivers import parse_version
from ..findings import Finding
from ..snapshot import LiveCheck, Snapshot
from . import driver, frameworks, gpus, libraries
from ._common import finding

__all__ = ["live_disagrees"]

Check = Callable[[Snapshot], Iterable[Finding]]

_UNUSABLE: tuple[Check, ...] = (
    driver.driver_missing,
    driver.driver_too_old,
    driver.driver_library_unreachable,
    driver.driver_library_mismatch,
    driver.forward_compat_misuse,
    driver.wsl_driver_inside,
    libraries.driver_stub_shadowing,
)
"""Checks whose findings mean no framework can use the GPU at all."""

_SUBJECT_CHECKS: dict[str, tuple[Check, ...]] = {
    "torch": (frameworks.torch_cpu_build, libraries.library_missing),
    "cupy": (frameworks.cupy_cuda_mismatch, frameworks.cupy_multiple_packages),
    "jax": (frameworks.jax_plugin_mismatch,),
    "tensorflow": (frameworks.tensorflow_cuda_mismatch,),
}


def _codes(s: Snapshot, checks: Iterable[Check]) -> list[str]:
    return [f.code for check in checks for f in check(s)]


def _driver_disagreements(s: Snapshot, check: LiveCheck) -> list[str]:
    found = []
    a = check.answer
    live_version = a.get("driver_version")
    if live_version and s.driver.version and live_version != s.driver.version:
        found.append(
            f"NVML reports driver {live_version}; the files say {s.driver.version}"
            f" ({s.driver.version_from})"
        )
    live_cuda = a.get("cuda_version")
    static_cuda = parse_version(s.driver.cuda or "")[:2]
    if isinstance(live_cuda, str) and static_cuda and parse_version(live_cuda)[:2] != static_cuda:
        found.append(f"the driver reports CUDA {live_cuda}; its branch says {s.driver.cuda}")
    if a.get("devices") and not s.driver.loaded:
        found.append("the driver answered with devices, though no loaded driver was found")
    if check.error and "cannot open" in check.error and s.driver.libcuda and s.driver.libcuda.path:
        found.append(
            f"libcuda.so.1 failed to load ({check.error}); the loader model finds "
            f"{s.driver.libcuda.path}"
        )
    return found


def _framework_disagreements(s: Snapshot, check: LiveCheck) -> list[str]:
    a = check.answer
    unusable = _codes(s, _UNUSABLE)
    own = _codes(s, _SUBJECT_CHECKS.get(check.subject, ()))
    arch = [f for f in gpus.gpu_arch_unsupported(s) if f.title.startswith(check.subject)]
    predicted = sorted(set(unusable + own))
    found = []
    if check.error and not check.error.startswith("no answer"):
        # An import fails only for the framework's own reasons (a missing library); a GPU call
        # fails for those and for every reason the GPU is unusable.
        importing = a.get("stage") == "import"
        explained = own if importing else predicted
        if "ModuleNotFoundError" not in check.error and not explained:
            action = "importing" if importing else "using"
            found.append(f"{action} {check.subject} fails: {check.error}; no static cause found")
        return found
    if check.error:
        return [f"{check.subject} gave no answer: {check.error}"]
    available = bool(a.get("available"))
    kernel = a.get("kernel")
    static_cuda = any(
        f.variant == "cuda"
        for f in s.frameworks
        if f.name == check.subject or f.name.startswith(check.subject + "-")
    )
    if available and kernel in (None, "ok") and predicted:
        found.append(
            f"{check.subject} uses the GPU, although the files predicted it could not: "
            + ", ".join(predicted)
        )
    if not available and not predicted and static_cuda:
        why = gpu_warning(check) or "no reason given"
        found.append(f"{check.subject} reports no usable GPU ({why}); no static cause found")
    if isinstance(kernel, str) and kernel != "ok" and not arch and not predicted:
        found.append(f"a {check.subject} kernel failed ({kernel}); no static cause found")
    if kernel == "ok" and arch:
        found.append(
            f"a {check.subject} kernel ran, although the GPU code was judged unusable: "
            + arch[0].title
        )
    return found


def live_disagrees(s: Snapshot) -> Iterator[Finding]:
    if not s.live:
        return
    found: list[str] = []
    for check in s.live:
        if check.subject == "driver":
            found += _driver_disagreements(s, check)
        else:
            found += _framework_disagreements(s, check)
    if not found:
        return
    yield finding(
        "live-disagrees",
        "What ran disagrees with what the files say",
        "--live asked the driver and the frameworks themselves (in child processes). Their "
        "answers contradict the diagnosis made from files: trust what ran, and please report "
        "the case (cudaenv doctor --live --format json) so the file-based diagnosis can learn "
        "it.",
        found + [live_summary(c) for c in s.live],
    )
