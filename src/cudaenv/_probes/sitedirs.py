"""The directories the target interpreter imports from, and the distributions in each.

Order follows CPython's ``site`` module: PYTHONPATH entries; for a venv its own site-packages,
then the user site (when enabled, i.e. with system site-packages), then the base's
site-packages; otherwise the user site, then the installation's site-packages.  Each
directory is followed by the existing directories its ``.pth`` files name.
"""

from __future__ import annotations

import posixpath
from typing import Optional

from .._formats.metadata import parse_dist_dirname, parse_metadata_headers
from .._host import Host
from ..snapshot import Distribution, Environment, SiteDir, Target, UserSite
from .environments import EnvironmentReader

__all__ = ["read_distributions", "site_dirs", "user_site"]


def user_site(host: Host, env: Optional[Environment], version: Optional[str]) -> UserSite:
    """Where the user site is, and whether the interpreter would use it (``site.py``'s rules)."""
    base = host.env("PYTHONUSERBASE")
    if base and base.startswith("/"):
        userbase: Optional[str] = host.normalize(base)
    else:
        home = host.home
        userbase = posixpath.join(home, ".local") if home else None
    path = (
        posixpath.join(userbase, "lib", f"python{version}", "site-packages")
        if userbase and version
        else None
    )
    if host.env("PYTHONNOUSERSITE"):
        return UserSite(path, enabled=False, reason="PYTHONNOUSERSITE is set")
    if (
        env is not None
        and env.kind == "venv"
        and not (env.venv and env.venv.include_system_site_packages)
    ):
        return UserSite(path, enabled=False, reason="a venv without system site-packages")
    if path is None:
        return UserSite(None, enabled=False, reason="no HOME or PYTHONUSERBASE to place it")
    return UserSite(path, enabled=True, reason="enabled by default")


def _installer(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").strip()


def _headers(data: bytes) -> dict[str, list[str]]:
    return parse_metadata_headers(data.decode("utf-8", errors="replace"))


_DIST_SUFFIXES = (".dist-info", ".egg-info")


def read_distributions(host: Host, directory: str) -> tuple[Distribution, ...]:
    """Every ``*.dist-info``/``*.egg-info`` in a directory: name, version, installer, requires."""
    found = []
    base = directory.rstrip("/") + "/"  # hundreds per directory: plain concatenation
    for entry in host.listdir(directory):
        if not entry.endswith(_DIST_SUFFIXES):
            continue
        parsed = parse_dist_dirname(entry)
        if parsed is None:
            continue
        path = base + entry
        name, version = parsed
        installer = None
        requires: tuple[str, ...] = ()
        if entry.endswith(".dist-info"):
            metadata_path = path + "/METADATA"
            installer = host.parsed(path + "/INSTALLER", "installer", _installer, limit=256)
            installer = installer or None
        elif host.is_dir(path):
            metadata_path = path + "/PKG-INFO"
        else:
            metadata_path = path  # a single-file egg-info is the PKG-INFO itself
        fields = host.parsed(metadata_path, "metadata", _headers, limit=1 << 18, stop=b"\n\n")
        if fields is not None:
            name = (fields.get("name") or [name])[0] or name
            version = (fields.get("version") or [version])[0] or version
            requires = tuple(fields.get("requires-dist", ()))
        found.append(Distribution(name, version, path, installer, requires))
    return tuple(found)


class _SiteDirBuilder:
    def __init__(self, host: Host, reader: EnvironmentReader, userbase: Optional[str]) -> None:
        self.host = host
        self.reader = reader
        self.userbase = userbase
        self.dirs: list[SiteDir] = []
        self._seen: set[str] = set()

    def add(self, path: str, role: str, source: Optional[str], *, process_pth: bool) -> None:
        host = self.host
        exists = host.is_dir(path)
        key = (host.resolve(path) or path) if exists else path
        if key in self._seen:
            return
        self._seen.add(key)
        owner = self.reader.owner_of(path) if exists else None
        owner_kind = None
        if owner is not None and owner == self.userbase:
            owner_kind = "user"
        elif owner is not None:
            owner_kind = self.reader.environment(owner).kind
        self.dirs.append(
            SiteDir(
                path=path,
                role=role,
                exists=exists,
                owner=owner,
                owner_kind=owner_kind,
                python_version=self.reader.site_version(path),
                source=source,
                distributions=read_distributions(host, path) if exists else (),
            )
        )
        if exists and process_pth:
            self._pth_entries(path)

    def _pth_entries(self, sitedir: str) -> None:
        for name in self.host.listdir(sitedir):
            if not name.endswith(".pth") or name.startswith("."):
                continue
            pth = posixpath.join(sitedir, name)
            text = self.host.read_text(pth, limit=1 << 20)
            if text is None:
                continue
            for raw in text.splitlines():
                line = raw.rstrip()
                if not line or line.startswith(("#", "import ", "import\t")):
                    continue  # `import` lines run code; cudaenv never does
                entry = line if line.startswith("/") else posixpath.join(sitedir, line)
                entry = self.host.normalize(entry)
                if self.host.is_dir(entry):
                    self.add(entry, "pth", pth, process_pth=False)


def site_dirs(
    host: Host,
    reader: EnvironmentReader,
    target: Target,
    env: Optional[Environment],
    user: UserSite,
) -> tuple[SiteDir, ...]:
    userbase = None
    if user.path:  # <userbase>/lib/pythonX.Y/site-packages
        userbase = host.resolve(posixpath.dirname(posixpath.dirname(posixpath.dirname(user.path))))
    builder = _SiteDirBuilder(host, reader, userbase)
    cwd = host.cwd
    for entry in host.env_path_list("PYTHONPATH"):
        if not entry:
            continue
        if not entry.startswith("/"):
            if cwd is None:
                continue
            entry = posixpath.join(cwd, entry)
        builder.add(host.normalize(entry), "pythonpath", "PYTHONPATH", process_pth=False)
    if env is None and target.interpreter is not None and target.interpreter.prefix:
        env = reader.environment(target.interpreter.prefix)
    if env is not None and env.kind == "venv":
        # site.venv() adds the venv's own site-packages first, "so that the venv takes
        # precedence over user-site"; the base's come after the user site.
        for path in env.site_packages:
            builder.add(path, "site", None, process_pth=True)
    if user.enabled and user.path:
        builder.add(user.path, "user", None, process_pth=True)
    if env is not None and env.kind != "venv":
        for path in env.site_packages:
            builder.add(path, "site", None, process_pth=True)
    elif (
        env is not None
        and env.venv
        and env.venv.include_system_site_packages
        and (env.venv.base_prefix)
    ):
        for path in reader.environment(env.venv.base_prefix).site_packages:
            builder.add(path, "site", None, process_pth=True)
    return tuple(builder.dirs)
