"""Where ``pip install`` puts things, and pip and conda writing over each other."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Optional

from .._formats.metadata import canonicalize_name
from .._formats.pipconf import pip_bool
from .._knowledge.frameworks import (
    PACKAGING_TOOLS,
    import_name_for_distribution,
    is_cuda_relevant,
    pip_names_for_conda_package,
)
from ..actions import Action, conda_install, manual, pip_uninstall, set_var, unset_var
from ..findings import Finding
from ..snapshot import Distribution, PipConfig, PipSetting, Snapshot
from ._common import by_name, env_distributions, env_label, finding, quote

__all__ = ["conda_pip_duplicate", "effective_pip_settings", "pip_install_redirected"]


def effective_pip_settings(config: PipConfig) -> dict[str, PipSetting]:
    """The value pip uses for each install-location option.

    pip merges files (later ones win per ``section.key``), then applies ``[global]``, then the
    command's section ``[install]``, then ``PIP_*`` variables — so ``[install]`` in any file
    beats ``[global]`` in a later one.
    """
    merged: dict[tuple[Optional[str], str], PipSetting] = {}
    from_env: dict[str, PipSetting] = {}
    for setting in config.settings:
        if setting.scope == "environment":
            from_env[setting.key] = setting
        else:
            merged[(setting.section, setting.key)] = setting
    effective: dict[str, PipSetting] = {}
    for section in ("global", "install"):
        for (setting_section, key), setting in merged.items():
            if setting_section == section:
                effective[key] = setting
    effective.update(from_env)
    return effective


def _where(setting: PipSetting) -> str:
    if setting.scope == "environment":
        return f"{setting.source}={setting.value}"
    return (
        f"{setting.source}:{setting.line}: [{setting.section}] {setting.key} = "
        f"{setting.value} ({setting.scope} config)"
    )


def _undo(setting: PipSetting) -> str:
    if setting.scope == "environment":
        return f"unset {setting.source}"
    if setting.scope in ("user", "site") and not setting.source.endswith("/.pip/pip.conf"):
        return f"python -m pip config --{setting.scope} unset {setting.section}.{setting.key}"
    return f"edit {setting.source}: delete line {setting.line} ({setting.key} = {setting.value})"


def _action(setting: PipSetting) -> Action:
    why = "pip installs into this environment again"
    if setting.scope == "environment":
        return unset_var(setting.source, why)
    if setting.key == "user":
        return set_var("PIP_USER", "0", why + " (PIP_USER=0 overrides the config file)")
    return manual(_undo(setting), why, "user")


def _inside(value: str, s: Snapshot) -> bool:
    env = s.target_env
    path = posixpath.normpath(value)
    if env is None:
        return False
    return any(path == posixpath.normpath(p) for p in (*env.site_packages, env.prefix))


def pip_install_redirected(s: Snapshot) -> Iterator[Finding]:
    effective = effective_pip_settings(s.pip)
    env = s.target_env
    problems: list[tuple[PipSetting, str]] = []
    severity = "warning"
    for key in ("target", "prefix", "root"):
        setting = effective.get(key)
        if setting is None or not setting.value.strip():
            continue
        value = setting.value.strip()
        if key == "root" and posixpath.normpath(value) == "/":
            continue
        if key != "root" and _inside(value, s):
            continue
        severity = "error"
        problems.append((setting, f"installs go to {value} (--{key})"))
    user = effective.get("user")
    if user is not None and pip_bool(user.value):
        venv_isolated = (
            env is not None
            and env.kind == "venv"
            and env.venv is not None
            and not env.venv.include_system_site_packages
        )
        if venv_isolated:
            severity = "error"
            problems.append(
                (
                    user,
                    (
                        "every install is a --user install, which pip refuses "
                        "in this venv (\"Can not perform a '--user' install\")"
                    ),
                )
            )
        else:
            where = s.user_site.path or "the user site"
            problems.append(
                (
                    user,
                    (
                        f"every install is a --user install into {where}, shared "
                        "by all environments of this Python version"
                    ),
                )
            )
    if not problems:
        return
    target = env_label(env, s.target.prefix)
    yield finding(
        "pip-install-redirected",
        "pip is configured to install outside the environment",
        f"pip settings send `pip install` away from {target}: "
        + "; ".join(why for _, why in problems)
        + ". Packages land where this environment does not import them, or the install fails.",
        [_where(setting) for setting, _ in problems],
        [_undo(setting) for setting, _ in problems],
        severity=severity,
        actions=[_action(setting) for setting, _ in problems],
    )


def _duplicate_severity(names: list[str]) -> str:
    if any(is_cuda_relevant(n) for n in names):
        return "error"
    if all(n in PACKAGING_TOOLS for n in names):
        return "info"
    return "warning"


def conda_pip_duplicate(s: Snapshot) -> Iterator[Finding]:
    env = s.target_env
    if env is None or not env.has_conda_meta or not env.conda_packages:
        return
    dists = by_name(env_distributions(s, env.prefix))
    by_import: dict[str, list[Distribution]] = {}
    for name, group in dists.items():
        module = import_name_for_distribution(name)
        if module is not None:
            by_import.setdefault(module, []).extend(group)
    hits: list[str] = []
    names: list[str] = []
    for package in env.conda_packages:
        for pip_name in pip_names_for_conda_package(package.name):
            group = list(dists.get(pip_name, []))
            module = import_name_for_distribution(pip_name)
            if module is not None and module != "nvidia":
                group += [d for d in by_import.get(module, []) if d not in group]
            foreign = [d for d in group if d.installer and d.installer.lower() != "conda"]
            if not foreign and len(group) < 2:
                continue
            shown = ", ".join(
                f"{d.name} {d.version} ({d.installer or 'no INSTALLER'})" for d in group
            )
            hits.append(f"conda {package.name} {package.version} ({package.build}) and {shown}")
            names.append(canonicalize_name(pip_name))
            break
    if not hits:
        return
    yield finding(
        "conda-pip-duplicate",
        "pip and conda both installed the same package here",
        f"{env_label(env)} has packages that conda installed and pip then installed again or "
        "overwrote. conda still believes its version is there; the files are pip's. The next "
        "`conda install` or `conda update` can restore the old files under pip's, mixing two "
        "builds (for CUDA frameworks: two CUDA variants).",
        hits,
        [
            f"python -m pip uninstall {' '.join(sorted(set(names)))}    # drop pip's copy",
            f"conda install {_selector(env.name, env.prefix)} --force-reinstall "
            + " ".join(sorted({h.split(" ", 2)[1] for h in hits})),
        ],
        severity=_duplicate_severity(names),
        actions=[
            pip_uninstall(tuple(sorted(set(names))), "drop pip's copy"),
            conda_install(
                tuple(sorted({h.split(" ", 2)[1] for h in hits})),
                "restore conda's files",
                "--force-reinstall",
            ),
        ],
    )


def _selector(name: Optional[str], prefix: str) -> str:
    return f"-n {quote(name)}" if name else f"-p {quote(prefix)}"
