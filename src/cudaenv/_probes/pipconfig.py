"""pip's configuration as pip itself would load it, for the install-location options.

Files in pip's order (``pip config debug`` lists the same): global (``$XDG_CONFIG_DIRS/pip``
then ``/etc``), user (``~/.pip/pip.conf``, then ``$XDG_CONFIG_HOME/pip/pip.conf``; skipped
when ``PIP_CONFIG_FILE`` names an existing file), site (``<prefix>/pip.conf`` of the
interpreter that runs pip), then ``PIP_CONFIG_FILE``.  ``PIP_CONFIG_FILE=/dev/null`` loads
none of them.  Variables (``PIP_TARGET`` ...) override every file.
"""

from __future__ import annotations

import posixpath
from typing import Optional

from .._formats.pipconf import parse_pip_config
from .._host import Host
from ..snapshot import PipConfig, PipConfigFile, PipSetting

__all__ = ["INSTALL_LOCATION_KEYS", "pip_config", "pip_config_files"]

INSTALL_LOCATION_KEYS = ("target", "prefix", "root", "user")
_SECTIONS = ("global", "install")


def pip_config_files(host: Host, site_prefix: Optional[str]) -> list[PipConfigFile]:
    config_dirs = host.env("XDG_CONFIG_DIRS") or "/etc/xdg"
    files: list[tuple[str, str]] = []
    for directory in config_dirs.split(":"):
        if directory.startswith("/"):
            files.append((posixpath.join(host.normalize(directory), "pip", "pip.conf"), "global"))
    files.append(("/etc/pip.conf", "global"))
    env_file = host.env("PIP_CONFIG_FILE")
    env_file_path = host.normalize(env_file) if env_file and env_file.startswith("/") else None
    skip_user = env_file_path is not None and host.exists(env_file_path)
    home = host.home
    if home and not skip_user:
        files.append((posixpath.join(home, ".pip", "pip.conf"), "user"))
        xdg_home = host.env("XDG_CONFIG_HOME")
        config_home = (
            xdg_home if xdg_home and xdg_home.startswith("/") else (posixpath.join(home, ".config"))
        )
        files.append((posixpath.join(host.normalize(config_home), "pip", "pip.conf"), "user"))
    if site_prefix:
        files.append((posixpath.join(site_prefix, "pip.conf"), "site"))
    if env_file_path is not None:
        files.append((env_file_path, "env"))
    return [PipConfigFile(path, scope, host.is_file(path)) for path, scope in files]


def pip_config(host: Host, site_prefix: Optional[str]) -> PipConfig:
    if host.env("PIP_CONFIG_FILE") == "/dev/null":
        files: list[PipConfigFile] = []
        disabled = True
    else:
        files = pip_config_files(host, site_prefix)
        disabled = False
    settings: list[PipSetting] = []
    for config_file in files:
        if not config_file.exists:
            continue
        text = host.read_text(config_file.path, limit=1 << 20) or ""
        sections = parse_pip_config(text)
        for section in _SECTIONS:
            for key in INSTALL_LOCATION_KEYS:
                if key in sections.get(section, {}):
                    value, line = sections[section][key]
                    settings.append(
                        PipSetting(key, value, config_file.path, config_file.scope, section, line)
                    )
    for key in INSTALL_LOCATION_KEYS:
        variable = f"PIP_{key.upper()}"
        env_value = host.env(variable)
        if env_value is not None:
            settings.append(PipSetting(key, env_value, variable, "environment"))
    return PipConfig(files=tuple(files), settings=tuple(settings), config_disabled=disabled)
