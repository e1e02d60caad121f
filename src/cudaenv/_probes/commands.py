"""What the shell runs for ``python``, ``pip`` and friends, and which interpreter runs it.

Resolution as an interactive shell does it: an alias from the shell's start-up files first,
then the first executable on PATH.  A pyenv shim is followed through pyenv's own rules
(``PYENV_VERSION``, then ``.python-version`` from the working directory up, then the global
``version`` file, ``system`` meaning the next hit on PATH outside the shims).  A script's
interpreter is its ``#!`` line (``/usr/bin/env NAME`` looks NAME up on PATH, without aliases).
"""

from __future__ import annotations

import posixpath
import shlex
from typing import Optional

from .._formats.pyversion import version_tuple
from .._formats.shebang import Shebang, parse_shebang
from .._formats.shellrc import parse_aliases
from .._host import Host
from ..snapshot import Command, Interpreter, ShellAlias
from .environments import EnvironmentReader

__all__ = ["WATCHED_COMMANDS", "CommandProbe", "read_aliases"]

WATCHED_COMMANDS = ("python", "python3", "pip", "pip3", "conda", "jupyter")
_PYTHON_NAMES = frozenset({"python", "python3"})
_MAX_ALIAS_DEPTH = 8


def read_aliases(host: Host, names: tuple[str, ...] = WATCHED_COMMANDS) -> list[ShellAlias]:
    """Aliases for ``names`` in the start-up files an interactive shell of ``SHELL`` reads."""
    home = host.home
    if home is None:
        return []
    shell = posixpath.basename(host.env("SHELL") or "")
    if shell == "zsh":
        files = [".zshrc"]
    elif shell == "bash":
        files = [".bashrc", ".bash_aliases"]
    else:
        files = [".bashrc", ".bash_aliases", ".zshrc"]
    aliases = []
    for filename in files:
        path = posixpath.join(home, filename)
        text = host.read_text(path, limit=1 << 20)
        if text is None:
            continue
        for name, value, line in parse_aliases(text):
            if name in names:
                aliases.append(ShellAlias(name, value, path, line))
    return aliases


class CommandProbe:
    def __init__(self, host: Host, reader: EnvironmentReader, aliases: list[ShellAlias]) -> None:
        self.host = host
        self.reader = reader
        self.aliases = {a.name: a for a in aliases}  # the last definition wins
        self.path_dirs = host.env_path_list("PATH")
        root = reader.pyenv_root()
        self.pyenv_shims = posixpath.join(root, "shims") if root else None

    # -- PATH lookup --------------------------------------------------------------------------

    def lookup(self, name: str, *, use_aliases: bool = True, depth: int = 0) -> Command:
        alias = self.aliases.get(name) if use_aliases and depth < _MAX_ALIAS_DEPTH else None
        if alias is not None:
            return self._via_alias(name, alias, depth)
        hits = self.host.which(name, self.path_dirs)
        if not hits:
            return Command(name=name)
        first, others = hits[0], tuple(hits[1:])
        if self._is_pyenv_shim(first):
            target, detail = self._through_pyenv(name)
            if target is None:
                return Command(
                    name=name, via="pyenv", path=first, also_on_path=others, detail=detail
                )
            return self._describe(name, target, "pyenv", others, detail)
        return self._describe(name, first, "path", others, None)

    def _via_alias(self, name: str, alias: ShellAlias, depth: int) -> Command:
        detail = f"alias {name}={shlex.quote(alias.value)} ({alias.file}:{alias.line})"
        try:
            words = shlex.split(alias.value)
        except ValueError:
            words = alias.value.split()
        if not words:
            return Command(name=name, via="alias", detail=detail)
        head = words[0]
        if head.startswith("/"):
            resolved_cmd = self._describe(name, head, "alias", (), detail)
        else:
            inner = self.lookup(head, use_aliases=head != name, depth=depth + 1)
            if inner.path is None:
                return Command(name=name, via="alias", detail=detail)
            resolved_cmd = self._describe(name, inner.path, "alias", (), detail)
        # `alias pip="python -m pip"`: pip then runs under that python.
        if name not in _PYTHON_NAMES and posixpath.basename(head).startswith("python"):
            interp = self.reader.interpreter(resolved_cmd.path or head)
            return Command(
                name=name,
                via="alias",
                path=resolved_cmd.path,
                resolved=resolved_cmd.resolved,
                interpreter=interp,
                detail=detail,
            )
        return resolved_cmd

    def _describe(
        self, name: str, path: str, via: str, others: tuple[str, ...], detail: Optional[str]
    ) -> Command:
        host = self.host
        resolved = host.resolve(path) if host.exists(path) else None
        shebang_line = None
        interpreter: Optional[Interpreter]
        if posixpath.basename(path).startswith("python") and not self._is_script(resolved):
            interpreter = self.reader.interpreter(path)
        else:
            shebang = self._shebang(resolved) if resolved else None
            shebang_line = shebang.line if shebang else None
            interpreter = self._shebang_interpreter(shebang) if shebang else None
        return Command(
            name=name,
            via=via,
            path=path,
            resolved=resolved,
            also_on_path=others,
            shebang=shebang_line,
            interpreter=interpreter,
            detail=detail,
        )

    def _is_script(self, path: Optional[str]) -> bool:
        if path is None:
            return False
        head = self.host.read_bytes(path, limit=2)
        return head == b"#!"

    def _shebang(self, path: str) -> Optional[Shebang]:
        head = self.host.read_bytes(path, limit=4096)
        if not head or not head.startswith(b"#!"):
            return None
        return parse_shebang(head.decode("utf-8", errors="replace"))

    def _shebang_interpreter(self, shebang: Shebang) -> Optional[Interpreter]:
        if shebang.env_lookup is not None:
            found = self.lookup(shebang.env_lookup, use_aliases=False)
            if found.interpreter is not None:
                return found.interpreter
            if found.path is None:
                return Interpreter(path=shebang.env_lookup, exists=False, env_kind="missing")
            return None
        if posixpath.basename(shebang.interpreter).startswith("python"):
            return self.reader.interpreter(shebang.interpreter)
        return None

    # -- pyenv --------------------------------------------------------------------------------

    def _is_pyenv_shim(self, path: str) -> bool:
        return self.pyenv_shims is not None and posixpath.dirname(path) == self.pyenv_shims

    def pyenv_versions(self) -> tuple[list[str], str]:
        """The selected pyenv versions and where they were selected, in pyenv's order."""
        host = self.host
        env_version = host.env("PYENV_VERSION")
        if env_version:
            return env_version.split(":"), "PYENV_VERSION"
        start = host.env("PYENV_DIR") or host.cwd
        directory = host.normalize(start) if start and start.startswith("/") else None
        while directory is not None:
            candidate = posixpath.join(directory, ".python-version")
            text = host.read_text(candidate, limit=65536)
            if text is not None:
                return _version_file_words(text), candidate
            if directory == "/":
                break
            directory = posixpath.dirname(directory)
        root = self.reader.pyenv_root()
        if root:
            global_file = posixpath.join(root, "version")
            text = host.read_text(global_file, limit=65536)
            if text is not None:
                return _version_file_words(text) or ["system"], global_file
        return ["system"], "pyenv's default"

    def resolve_shim(self, path: str) -> Optional[str]:
        """The interpreter a pyenv shim at ``path`` runs (pyenv's own rules), or None when
        ``path`` is not a shim."""
        if not self._is_pyenv_shim(path):
            return None
        return self._through_pyenv(posixpath.basename(path))[0]

    def _through_pyenv(self, name: str) -> tuple[Optional[str], str]:
        versions, source = self.pyenv_versions()
        root = self.reader.pyenv_root() or ""
        for version in versions:
            if version == "system":
                dirs = [d for d in self.path_dirs if self.host.normalize(d) != self.pyenv_shims]
                hits = self.host.which(name, dirs)
                if hits:
                    return hits[0], f"pyenv version system (set by {source})"
                continue
            version_dir = self._pyenv_version_dir(root, version)
            if version_dir is None:
                continue
            candidate = posixpath.join(version_dir, "bin", name)
            if self.host.is_command(candidate):
                return candidate, f"pyenv version {version} (set by {source})"
        return None, f"pyenv: {name}: command not found in {':'.join(versions)} (set by {source})"

    def _pyenv_version_dir(self, root: str, version: str) -> Optional[str]:
        versions_dir = posixpath.join(root, "versions")
        exact = posixpath.join(versions_dir, version)
        if self.host.is_dir(exact):
            return exact
        # pyenv accepts a prefix ("3.11") and picks the newest installed match.
        matches = [v for v in self.host.listdir(versions_dir) if v.startswith(version + ".")]
        if not matches:
            return None
        return posixpath.join(versions_dir, max(matches, key=version_tuple))


def _version_file_words(text: str) -> list[str]:
    words = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        words.extend(line.split())
    return words
