"""Checks: pure functions from a :class:`~cudaenv.snapshot.Snapshot` to findings.

A check reads only the snapshot — never the host, the environment or a process — so it runs
unchanged on a snapshot taken on another machine.  Each check runs on its own: one that fails
on unexpected data becomes a ``check-failed`` finding and the others still report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..findings import SEVERITIES, Finding, severity_rank
from ..snapshot import Snapshot
from . import (
    build_tools,
    driver,
    files,
    frameworks,
    gpus,
    interpreters,
    jupyter,
    libraries,
    live,
    pip,
    sitepaths,
    toolkit,
)
from ._common import finding
from .codes import CODES

__all__ = ["CHECKS", "CODES", "run_checks"]

Check = Callable[[Snapshot], Iterable[Finding]]

CHECKS: tuple[Check, ...] = (
    interpreters.pythonhome_set,
    interpreters.venv_interpreter_missing,
    interpreters.env_without_python,
    interpreters.python_outside_active_env,
    interpreters.pip_other_interpreter,
    interpreters.conda_env_not_activated,
    interpreters.venv_over_conda,
    interpreters.python_not_found,
    sitepaths.pythonpath_version_mismatch,
    sitepaths.pythonpath_other_env,
    sitepaths.user_site_shadowing,
    sitepaths.cwd_shadows_package,
    driver.wsl_driver_inside,
    driver.driver_library_mismatch,
    driver.forward_compat_misuse,
    driver.driver_too_old,
    driver.driver_library_unreachable,
    gpus.gpu_arch_unsupported,
    frameworks.torch_cpu_build,
    frameworks.torch_companion_mismatch,
    frameworks.cupy_multiple_packages,
    frameworks.cupy_cuda_mismatch,
    frameworks.extension_cuda_mismatch,
    frameworks.jax_plugin_mismatch,
    frameworks.tensorflow_cuda_mismatch,
    toolkit.cuda_home_invalid,
    toolkit.toolkit_runtime_only,
    toolkit.toolkit_incomplete,
    toolkit.cuda_home_targets_layout,
    toolkit.toolkit_framework_mismatch,
    build_tools.host_compiler_unsupported,
    gpus.nvcc_too_old_for_gpu,
    build_tools.toolkit_older_than_framework,
    toolkit.nvcc_cuda_home_mismatch,
    toolkit.cuda_home_unset,
    libraries.driver_stub_shadowing,
    libraries.mixed_cuda_wheel_families,
    libraries.cuda_wheel_requirements_unmet,
    libraries.symbol_version_missing,
    libraries.cudnn_version_mismatch,
    libraries.library_missing,
    libraries.library_shadowed,
    libraries.ld_cache_stale,
    toolkit.stale_path_entry,
    pip.pip_install_redirected,
    pip.conda_pip_duplicate,
    jupyter.kernel_other_interpreter,
    files.unreadable_file,
    driver.driver_missing,
    live.live_disagrees,
)


def run_checks(snapshot: Snapshot) -> list[Finding]:
    """Every finding, most important first: by severity, then root causes first."""
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings.extend(check(snapshot))
        except Exception as exc:  # noqa: BLE001  # one broken check must not sink the report
            findings.append(
                finding(
                    "check-failed",
                    f"The {check.__name__} check stopped early",
                    f"It raised {type(exc).__name__}: {exc}. This is a bug in cudaenv; the "
                    "other findings stand. Please report it with `cudaenv doctor --format json`.",
                )
            )
    findings.sort(key=lambda f: (severity_rank(f.severity), f.rank))
    return _redirect_first(findings)


def _runs_pip(f: Finding) -> bool:
    return any(a.kind in ("pip-install", "pip-uninstall") for a in f.actions) or any(
        "pip install" in step or "pip uninstall" in step for step in f.fix
    )


def _redirect_first(findings: list[Finding]) -> list[Finding]:
    """pip settings that send installs elsewhere would redirect every fix that runs pip:
    that finding comes before them, as severe as the worst of them."""
    redirect = next((f for f in findings if f.code == "pip-install-redirected"), None)
    if redirect is None:
        return findings
    rest = [f for f in findings if f is not redirect]
    first = next((i for i, f in enumerate(rest) if _runs_pip(f)), None)
    if first is None:
        return findings
    worst = min(severity_rank(redirect.severity), severity_rank(rest[first].severity))
    moved = Finding(
        code=redirect.code,
        severity=SEVERITIES[worst],
        title=redirect.title,
        detail=redirect.detail
        + f" Fix it first: the fix of {rest[first].code} runs pip, and would go there too.",
        evidence=redirect.evidence,
        fix=redirect.fix,
        rank=redirect.rank,
        actions=redirect.actions,
    )
    # right before the first finding whose fix runs pip (it is as severe now), unless the
    # redirect already came earlier
    at = min(first, findings.index(redirect))
    return [*rest[:at], moved, *rest[at:]]
