"""Interpreters and environments, identified from files alone.

How an interpreter finds its prefix (CPython's ``getpath``): a ``pyvenv.cfg`` next to the
executable *as invoked* or one directory up makes it a venv, whatever the binary links to;
otherwise the binary is followed through its symlinks and its prefix is the directory above
``bin/``.  The version comes from the binary's name (``python3.12``), ``pyvenv.cfg``, the
``lib/python3.X`` directory or the conda-meta ``python`` record — the interpreter never runs.
"""

from __future__ import annotations

import posixpath
import re
from typing import Optional

from .._formats.conda import parse_conda_meta_filename
from .._formats.pyvenv import parse_pyvenv_cfg
from .._formats.pyversion import version_from_executable_name, version_in_path
from .._host import Host
from ..snapshot import CondaPackage, Environment, Interpreter, VenvConfig

__all__ = ["CONDA_KINDS", "EnvironmentReader"]

CONDA_KINDS = ("conda-base", "conda-env", "pixi")
_LIB_PYTHON = re.compile(r"^python(\d+)\.(\d+)t?$")
_SYSTEM_PREFIXES = ("/usr", "/usr/local", "/")


def _short_version(version: str) -> Optional[str]:
    match = re.match(r"^(\d+)\.(\d+)", version.strip())
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _packages_named(filenames: list[str]) -> tuple[CondaPackage, ...]:
    """conda-meta's file names hold each record's name, version and build: no record is opened."""
    found = []
    for filename in filenames:
        parsed = parse_conda_meta_filename(filename)
        if parsed:
            found.append(CondaPackage(*parsed))
    return tuple(found)


class EnvironmentReader:
    """Reads environments and interpreters through a host, caching each prefix once."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.environments: dict[str, Environment] = {}
        self._interpreters: dict[str, Interpreter] = {}
        self._packages: dict[str, tuple[CondaPackage, ...]] = {}

    # -- interpreters -------------------------------------------------------------------------

    def interpreter(self, path: str) -> Interpreter:
        path = self.host.normalize(path)
        cached = self._interpreters.get(path)
        if cached is None:
            cached = self._identify(path)
            self._interpreters[path] = cached
        return cached

    def _identify(self, path: str) -> Interpreter:
        host = self.host
        exists = host.is_file(path)
        resolved = host.resolve(path) if host.exists(path) else None
        bindir = posixpath.dirname(path)
        for candidate in (bindir, posixpath.dirname(bindir)):
            if host.is_file(posixpath.join(candidate, "pyvenv.cfg")):
                prefix = host.resolve(candidate) or candidate
                env = self.environment(prefix)
                version = env.python_version or version_from_executable_name(
                    posixpath.basename(resolved or path)
                )
                return Interpreter(path, exists, resolved, prefix, version, "venv")
        if not exists or resolved is None:
            return Interpreter(
                path,
                False,
                None,
                None,
                version_from_executable_name(posixpath.basename(path)),
                "missing",
            )
        real_bindir = posixpath.dirname(resolved)
        if posixpath.basename(real_bindir) == "bin":
            prefix = posixpath.dirname(real_bindir)
        else:
            prefix = real_bindir
        env = self.environment(prefix)
        version = version_from_executable_name(posixpath.basename(resolved)) or env.python_version
        return Interpreter(path, True, resolved, prefix, version, env.kind)

    # -- environments -------------------------------------------------------------------------

    def environment(self, prefix: str) -> Environment:
        prefix = self.host.normalize(prefix)
        cached = self.environments.get(prefix)
        if cached is None:
            cached = self._read_environment(prefix)
            self.environments[prefix] = cached
        return cached

    def classify(self, prefix: str) -> str:
        host = self.host
        if host.is_file(posixpath.join(prefix, "pyvenv.cfg")):
            return "venv"
        if host.is_dir(posixpath.join(prefix, "conda-meta")):
            if "/.pixi/envs/" in prefix:
                return "pixi"
            if (
                prefix in self._conda_roots_from_environ()
                or host.is_dir(posixpath.join(prefix, "condabin"))
                or host.exists(posixpath.join(prefix, "bin", "conda"))
                or host.is_dir(posixpath.join(prefix, "envs"))
                or any(p.name in ("conda", "mamba") for p in self._conda_packages(prefix))
            ):
                return "conda-base"
            return "conda-env"
        root = self.pyenv_root()
        if root is not None:
            versions = posixpath.join(self.host.resolve(root) or root, "versions")
            if posixpath.dirname(prefix) == versions:
                return "pyenv"
        if prefix in _SYSTEM_PREFIXES:
            return "system"
        return "unknown"

    def pyenv_root(self) -> Optional[str]:
        root = self.host.env("PYENV_ROOT")
        if root and root.startswith("/"):
            return self.host.normalize(root)
        home = self.host.home
        return posixpath.join(home, ".pyenv") if home else None

    def _read_environment(self, prefix: str) -> Environment:
        host = self.host
        if not host.is_dir(prefix):
            return Environment(prefix=prefix, kind="missing", exists=False)
        kind = self.classify(prefix)
        has_conda_meta = kind in CONDA_KINDS
        packages = self._conda_packages(prefix) if has_conda_meta else ()
        venv = self._venv_config(prefix) if kind == "venv" else None
        version = self._python_version(prefix, packages, venv)
        python = self._own_python(prefix, version)
        if version is None and python is not None:
            resolved = host.resolve(python)
            version = version_from_executable_name(posixpath.basename(resolved or python))
        return Environment(
            prefix=prefix,
            kind=kind,
            name=self._name(prefix, kind),
            python=python,
            python_version=version,
            has_conda_meta=has_conda_meta,
            conda_packages=packages,
            venv=venv,
            site_packages=tuple(self._site_packages(prefix, version)),
        )

    def _name(self, prefix: str, kind: str) -> Optional[str]:
        base = posixpath.basename(prefix)
        if kind == "conda-base":
            return "base"
        if kind == "conda-env":
            return base if posixpath.basename(posixpath.dirname(prefix)) == "envs" else None
        if kind == "venv" and base in (".venv", "venv", "env", ".env"):
            parent = posixpath.basename(posixpath.dirname(prefix))
            return parent or base
        return base or None

    def _conda_packages(self, prefix: str) -> tuple[CondaPackage, ...]:
        cached = self._packages.get(prefix)
        if cached is None:
            meta = posixpath.join(prefix, "conda-meta")
            cached = self.host.listdir_parsed(meta, "conda-meta", _packages_named) or ()
            self._packages[prefix] = cached
        return cached

    def _conda_roots_from_environ(self) -> set[str]:
        """Installations named by conda's variables (``CONDA_EXE`` is ``<root>/bin/conda``)."""
        roots = set()
        for name in ("CONDA_EXE", "CONDA_PYTHON_EXE"):
            value = self.host.env(name)
            if value and value.startswith("/"):
                roots.add(posixpath.dirname(posixpath.dirname(self.host.normalize(value))))
        root_prefix = self.host.env("MAMBA_ROOT_PREFIX")
        if root_prefix and root_prefix.startswith("/"):
            roots.add(self.host.normalize(root_prefix))
        return roots

    def _venv_config(self, prefix: str) -> VenvConfig:
        text = self.host.read_text(posixpath.join(prefix, "pyvenv.cfg"), limit=65536) or ""
        cfg = parse_pyvenv_cfg(text)
        home = cfg.get("home")
        base_prefix = None
        base_kind = None
        if home and home.startswith("/"):
            home = self.host.normalize(home)
            resolved_home = self.host.resolve(home) or home
            if posixpath.basename(resolved_home) == "bin":
                base_prefix = posixpath.dirname(resolved_home)
            else:
                base_prefix = resolved_home
            base_kind = self.environment(base_prefix).kind if base_prefix != prefix else None
        version = cfg.get("version_info") or cfg.get("version")
        return VenvConfig(
            home=home,
            include_system_site_packages=cfg.get("include-system-site-packages", "").lower()
            == "true",
            version=version,
            base_prefix=base_prefix,
            base_kind=base_kind,
        )

    def _python_version(
        self, prefix: str, packages: tuple[CondaPackage, ...], venv: Optional[VenvConfig]
    ) -> Optional[str]:
        if venv and venv.version:
            short = _short_version(venv.version)
            if short:
                return short
        for package in packages:
            if package.name == "python":
                short = _short_version(package.version)
                if short:
                    return short
        versions = []
        for libdir in ("lib", "lib64"):
            for name in self.host.listdir(posixpath.join(prefix, libdir)):
                match = _LIB_PYTHON.match(name)
                if match:
                    versions.append((int(match.group(1)), int(match.group(2))))
        if len(set(versions)) == 1:
            major, minor = versions[0]
            return f"{major}.{minor}"
        if versions:
            # Several lib/pythonX.Y dirs (a distro with two Pythons, leftovers of an upgrade):
            # trust the one whose interpreter is in bin/.
            for major, minor in sorted(set(versions), reverse=True):
                if self.host.exists(posixpath.join(prefix, "bin", f"python{major}.{minor}")):
                    return f"{major}.{minor}"
        return None

    def _own_python(self, prefix: str, version: Optional[str]) -> Optional[str]:
        names = ["python", "python3"]
        if version:
            names.append(f"python{version}")
        for name in names:
            candidate = posixpath.join(prefix, "bin", name)
            if self.host.is_file(candidate):
                return candidate
        return None

    def _site_packages(self, prefix: str, version: Optional[str]) -> list[str]:
        if version is None:
            return []
        host = self.host
        if prefix == "/usr":
            # Debian's layout: pip installs to /usr/local/.../dist-packages, apt to python3/.
            candidates = [
                f"/usr/local/lib/python{version}/dist-packages",
                "/usr/lib/python3/dist-packages",
                f"/usr/lib/python{version}/dist-packages",
                f"/usr/lib64/python{version}/site-packages",
                f"/usr/lib/python{version}/site-packages",
            ]
        else:
            candidates = [
                posixpath.join(prefix, "lib64", f"python{version}", "site-packages"),
                posixpath.join(prefix, "lib", f"python{version}", "site-packages"),
            ]
        found = []
        for candidate in candidates:
            if host.is_dir(candidate):
                resolved = host.resolve(candidate) or candidate
                if resolved not in found:
                    found.append(resolved)
        if not found and prefix != "/usr":
            found.append(posixpath.join(prefix, "lib", f"python{version}", "site-packages"))
        return found

    # -- ownership of arbitrary directories -----------------------------------------------------

    def owner_of(self, path: str) -> Optional[str]:
        """The prefix of the environment a directory lies in (a venv, a conda env, an install)."""
        host = self.host
        resolved = host.resolve(path) or host.normalize(path)
        current = resolved
        while True:
            if host.is_file(posixpath.join(current, "pyvenv.cfg")) or host.is_dir(
                posixpath.join(current, "conda-meta")
            ):
                return current
            if current == "/":
                break
            current = posixpath.dirname(current)
        match = re.match(r"^(.*?)/lib(?:64)?/python\d+(?:\.\d+)?t?(?:/|$)", resolved)
        if match:
            return match.group(1) or "/"
        return None

    def site_version(self, path: str) -> Optional[str]:
        return version_in_path(self.host.resolve(path) or path)
