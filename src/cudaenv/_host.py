"""The one seam between cudaenv and a machine: its files (under a root) and its environment.

A :class:`Host` maps the absolute paths of a *world* (see docs/worlds.md) onto the real
filesystem under ``root``.  Every probe reads through it, so nothing looks at the real ``/``
or at ``os.environ`` behind the caller's back, and a directory tree that describes some other
machine is diagnosed exactly like the live one.

Inside a root that is not ``/``:

* symlinks are followed inside the root: absolute targets are re-rooted, ``..`` stops at root;
* a small regular file whose whole content is a path to an existing entry is read as the
  symlink it stands for (what ``git`` and some archivers leave when links cannot be stored) —
  in the middle of a path, and at its end when identifying a file, but never when reading a
  file's content (a one-line ``.pth`` or ``environments.txt`` is text, not a link);
* the executable bit is not required of commands (world files are often read-only copies).

Errors other than "not there" are recorded in :attr:`Host.problems` so that an unreadable file
becomes a finding instead of a crash.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Hashable, Iterable, Mapping
from typing import Callable, Optional, TypeVar, Union

from ._safeio import open_regular

__all__ = ["MAX_LINK_HOPS", "Host", "HostProblem", "SharedReads", "open_regular"]

T = TypeVar("T")

MAX_LINK_HOPS = 40  # glibc's MAXSYMLINKS
_LINK_FILE_MAX_BYTES = 512
_ABSENT_ERRNOS = (2, 20)  # ENOENT, ENOTDIR: plain absence, not a problem worth reporting


def _no_nul(real: str) -> str:
    """``real``, or ``FileNotFoundError`` when it holds a NUL (from an env file or a config
    line): no file has such a name, and ``os`` would raise ``ValueError`` instead."""
    if "\0" in real:
        raise FileNotFoundError(2, "No such file or directory", real.replace("\0", "\\0"))
    return real


def _needs_normalizing(path: str) -> bool:
    return "//" in path or "/." in path or path.endswith("/") or not path.startswith("/")


def _lexical(path: str) -> str:
    """The path normalised only where it needs it (most paths cudaenv builds are already)."""
    return Host.normalize(path) if _needs_normalizing(path) else path


class SharedReads:
    """What the hosts of one ``doctor --all`` read, shared: one moment's view of the disk.

    ``stat`` answers (found or absent) and, on the live root, resolved paths are kept by
    path.  Listings and parsed files are keyed by what identifies the content (device,
    inode, size, modification time), so conda's hard links into every environment are
    parsed once.  Failures other than absence are never
    kept: each host meets, and reports, its own problems — a host with shared reads sees
    exactly what a host without them sees, only sooner.
    """

    def __init__(self) -> None:
        self._entries: dict[Hashable, object] = {}
        self.stats: dict[str, Union[os.stat_result, int]] = {}
        self.resolved: dict[tuple[str, bool], Optional[str]] = {}  # live root only

    def get(self, key: Hashable) -> object:
        return self._entries.get(key)

    def put(self, key: Hashable, value: object) -> None:
        self._entries[key] = value


class HostProblem:
    """A file or directory that exists but could not be read."""

    __slots__ = ("error", "path")

    def __init__(self, path: str, error: str) -> None:
        self.path = path
        self.error = error


class Host:
    """Files under ``root`` and an environment mapping, as one machine."""

    def __init__(
        self,
        root: str,
        environ: Mapping[str, str],
        *,
        live_cwd: Optional[str] = None,
        shared: Optional[SharedReads] = None,
    ) -> None:
        self.root = os.path.abspath(root)
        self.shared = shared
        self.environ: dict[str, str] = dict(environ)
        self.is_live_root = self.root == "/"
        self._live_cwd = live_cwd
        self.problems: list[HostProblem] = []
        # On the live root resolving reports nothing (realpath), so hosts may share answers.
        self._resolved: dict[tuple[str, bool], Optional[str]] = (
            shared.resolved if shared is not None and self.is_live_root else {}
        )
        self._seen_problem_paths: set[str] = set()
        # One run sees one state of the disk: each directory is listed once per host, and
        # what each reader derives from a listing is kept per kind.
        # A stat answer (or the errno of an absent path) per real path, for this run.
        self._stats = shared.stats if shared is not None else {}
        self._listings: dict[
            str, Optional[tuple[tuple[str, ...], Optional[tuple[int, int, int]]]]
        ] = {}
        self._parsed_listings: dict[tuple[str, str], object] = {}
        self._checking_link_files: set[str] = set()

    # -- paths --------------------------------------------------------------------------------

    def real(self, path: str) -> str:
        """The real path of an already *normalised* world path (no symlink handling)."""
        if self.is_live_root:
            return path
        return self.root + path if path != "/" else self.root

    @staticmethod
    def normalize(path: str) -> str:
        """Lexically normalise an absolute world path; ``..`` never climbs above ``/``."""
        parts: list[str] = []
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    def resolve(self, path: str, *, final_link_file: bool = True) -> Optional[str]:
        """The world path with every symlink resolved, like ``realpath``.

        Missing trailing components are kept lexically (``realpath`` with ``strict=False``).
        ``final_link_file=False`` reads a flattened link only in directory components.
        Returns ``None`` only for a symlink loop.
        """
        path = self.normalize(path)
        key = (path, final_link_file)
        cached = self._resolved.get(key, "")
        if cached != "":
            return cached
        result = self._resolve(path, final_link_file)
        self._resolved[key] = result
        return result

    def _resolve(self, path: str, final_link_file: bool) -> Optional[str]:
        if self.is_live_root:
            return self._resolve_live(path)
        pending = [p for p in path.split("/") if p]
        pending.reverse()
        current = "/"
        hops = 0
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                current = posixpath.dirname(current)
                continue
            candidate = posixpath.join(current, name)
            target = self._link_target(candidate, link_files=final_link_file or bool(pending))
            if target is None:
                current = candidate
                continue
            hops += 1
            if hops > MAX_LINK_HOPS:
                return None
            if target.startswith("/"):
                current = "/"
            pending.extend(reversed([p for p in target.split("/") if p]))
        return current

    def _resolve_live(self, path: str) -> str:
        """``os.path.realpath``, one ``lstat`` per new path: the parent's answer is cached."""
        if path == "/":
            return path
        parent, _, name = path.rpartition("/")
        parent_real = self.resolve(parent or "/") or "/"
        candidate = f"{parent_real.rstrip('/')}/{name}"
        try:
            if not stat.S_ISLNK(os.lstat(candidate).st_mode):
                return candidate
        except (OSError, ValueError):  # ValueError: a NUL in the name, which no file has
            return candidate  # missing: the rest is kept as written, as realpath does
        return os.path.realpath(candidate)

    def _link_target(self, path: str, link_files: bool = True) -> Optional[str]:
        """The target of ``path`` when it is a symlink (or a flattened one), else ``None``."""
        real = self.real(path)
        try:
            st = os.lstat(real)
        except (OSError, ValueError):  # ValueError: a NUL in the name, which no file has
            return None
        if stat.S_ISLNK(st.st_mode):
            try:
                return os.readlink(real)
            except OSError as exc:
                self._problem(path, exc)
                return None
        if (
            link_files
            and not self.is_live_root
            and stat.S_ISREG(st.st_mode)
            and 0 < st.st_size <= _LINK_FILE_MAX_BYTES
        ):
            return self._link_file_target(path, real)
        return None

    def _link_file_target(self, path: str, real: str) -> Optional[str]:
        try:
            with open_regular(real) as handle:
                data = handle.read(_LINK_FILE_MAX_BYTES + 1)
        except OSError:
            return None
        text = data[:-1] if data.endswith(b"\n") else data
        if not text or text.startswith(b"#!") or any(c <= 0x20 or c == 0x7F for c in text):
            return None
        try:
            target = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
        base = posixpath.dirname(path)
        lexical = self.normalize(target if target.startswith("/") else posixpath.join(base, target))
        if lexical == path or lexical in self._checking_link_files:
            return None  # a flattened link to itself, or two naming each other
        self._checking_link_files.add(lexical)
        try:
            resolved = self.resolve(lexical)
        finally:
            self._checking_link_files.discard(lexical)
        if resolved is None or not os.path.lexists(self.real(resolved)):
            return None
        return target

    # -- queries ------------------------------------------------------------------------------

    def _problem(self, path: str, exc: OSError) -> None:
        if exc.errno in _ABSENT_ERRNOS or path in self._seen_problem_paths:
            return
        self._seen_problem_paths.add(path)
        self.problems.append(HostProblem(path, exc.strerror or type(exc).__name__))

    def _resolve_or_report(self, path: str, final_link_file: bool = True) -> Optional[str]:
        if self.is_live_root:
            # The kernel follows links itself (a loop fails with ELOOP, recorded as a problem):
            # resolving first would only double the system calls.
            return _lexical(path)
        resolved = self.resolve(path, final_link_file=final_link_file)
        if resolved is None and path not in self._seen_problem_paths:
            self._seen_problem_paths.add(path)
            self.problems.append(HostProblem(path, f"symlink loop (over {MAX_LINK_HOPS} links)"))
        return resolved

    def _os_stat(self, real: str) -> os.stat_result:
        """``os.stat`` of a real path, asked once per run; raises ``OSError`` as it does."""
        hit = self._stats.get(real)
        if hit is None:
            try:
                hit = os.stat(_no_nul(real))
            except OSError as exc:
                if exc.errno in _ABSENT_ERRNOS:
                    self._stats[real] = exc.errno
                raise
            self._stats[real] = hit
        if isinstance(hit, int):
            raise OSError(hit, os.strerror(hit), real)
        return hit

    def stat(self, path: str) -> Optional[os.stat_result]:
        resolved = self._resolve_or_report(path)
        if resolved is None:
            return None
        try:
            return self._os_stat(self.real(resolved))
        except OSError as exc:
            self._problem(path, exc)
            return None

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def is_dir(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def is_file(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and stat.S_ISREG(st.st_mode)

    def is_link(self, path: str) -> bool:
        return self._link_target(self.normalize(path)) is not None

    def readlink(self, path: str) -> Optional[str]:
        return self._link_target(self.normalize(path))

    def is_command(self, path: str) -> bool:
        """A regular file the shell would run; the exec bit counts only on the live root."""
        st = self.stat(path)
        if st is None or not stat.S_ISREG(st.st_mode):
            return False
        return not self.is_live_root or bool(st.st_mode & 0o111)

    def listdir(self, path: str) -> list[str]:
        resolved = self._resolve_or_report(path)
        listing = None if resolved is None else self._listing(path, self.real(resolved))
        return [] if listing is None else list(listing[0])

    def listdir_parsed(self, path: str, kind: str, parse: Callable[[list[str]], T]) -> Optional[T]:
        """``parse`` of a directory's sorted names (None when it cannot be listed), kept for
        this host, and shared between hosts that share reads until the directory changes."""
        resolved = self._resolve_or_report(path)
        if resolved is None:
            return None
        real = self.real(resolved)
        memo = (kind, real)
        if memo in self._parsed_listings:
            return self._parsed_listings[memo]  # type: ignore[return-value]  # same kind
        listing = self._listing(path, real)
        value: Optional[T] = None
        if listing is not None:
            names, identity = listing
            if identity is None or self.shared is None:
                value = parse(list(names))
            else:
                value = self.shared.get((kind, *identity))  # type: ignore[assignment]
                if value is None:
                    value = parse(list(names))
                    self.shared.put((kind, *identity), value)
        self._parsed_listings[memo] = value
        return value

    def _listing(
        self, path: str, real: str
    ) -> Optional[tuple[tuple[str, ...], Optional[tuple[int, int, int]]]]:
        """A directory's sorted names and, with shared reads, what identifies them on disk."""
        if real in self._listings:
            return self._listings[real]
        result: Optional[tuple[tuple[str, ...], Optional[tuple[int, int, int]]]] = None
        try:
            identity = None
            names: Optional[tuple[str, ...]] = None
            if self.shared is not None:
                st = self._os_stat(real)
                identity = (st.st_dev, st.st_ino, st.st_mtime_ns)
                names = self.shared.get(("listing", *identity))  # type: ignore[assignment]
            if names is None:
                names = tuple(sorted(os.listdir(_no_nul(real))))
                if self.shared is not None and identity is not None:
                    self.shared.put(("listing", *identity), names)
            result = (names, identity)
        except OSError as exc:
            self._problem(path, exc)
        self._listings[real] = result
        return result

    def file_key(self, path: str, kind: str) -> Optional[Hashable]:
        """A key for what has been derived from a regular file's content (None without shared
        reads, or when the file is not there to identify — the caller's own read then reports
        the reason)."""
        if self.shared is None:
            return None
        if self.is_live_root:
            resolved: Optional[str] = _lexical(path)
        else:
            resolved = self.resolve(path, final_link_file=False)
        if resolved is None:
            return None
        try:
            # Not kept: most such files are read once, and keeping them costs memory.
            st = os.stat(_no_nul(self.real(resolved)))
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        return (kind, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def parsed(
        self,
        path: str,
        kind: str,
        parse: Callable[[bytes], T],
        limit: int,
        *,
        stop: Optional[bytes] = None,
    ) -> Optional[T]:
        """``parse`` of the first ``limit`` bytes of a file (up to ``stop``, as read_head),
        shared between hosts when they share reads; ``None`` when the file cannot be read (a
        problem, as for read_bytes).  conda hard-links a package's files into every
        environment, so the same METADATA of ten environments is parsed once."""
        key = self.file_key(path, kind)
        if key is not None:
            hit = self.shared.get(key) if self.shared is not None else None
            if hit is not None:
                return hit  # type: ignore[return-value]  # stored below by the same kind
        data = self.read_bytes(path, limit) if stop is None else self._head(path, stop, limit)
        if data is None:
            return None
        value = parse(data)
        if key is not None and self.shared is not None:
            self.shared.put(key, value)
        return value

    def subdirs(self, path: str) -> list[str]:
        """The names of the directories in a directory, sorted; links to directories are left
        out (a walk that followed them could loop)."""
        resolved = self._resolve_or_report(path)
        if resolved is None:
            return []
        try:
            with os.scandir(_no_nul(self.real(resolved))) as entries:
                return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
        except OSError as exc:
            self._problem(path, exc)
            return []

    def read_bytes(self, path: str, limit: int = 1 << 20) -> Optional[bytes]:
        """Up to ``limit`` bytes of a regular file; ``None`` when absent or unreadable.

        Only regular files are opened, so a FIFO or device node never blocks a probe.
        """
        resolved = self._resolve_or_report(path, final_link_file=False)
        if resolved is None:
            return None
        real = self.real(resolved)
        try:
            st = self._os_stat(real)
            if not stat.S_ISREG(st.st_mode):
                return None
            with open_regular(real) as handle:
                return handle.read(limit)
        except OSError as exc:
            self._problem(path, exc)
            return None

    def read_text(self, path: str, limit: int = 1 << 20) -> Optional[str]:
        data = self.read_bytes(path, limit)
        return None if data is None else data.decode("utf-8", errors="replace")

    def read_head(self, path: str, stop: bytes = b"\n\n", limit: int = 1 << 18) -> Optional[str]:
        """The start of a file up to ``stop`` (e.g. the header block of a METADATA file)."""
        data = self._head(path, stop, limit)
        return None if data is None else data.decode("utf-8", errors="replace")

    def _head(self, path: str, stop: bytes, limit: int) -> Optional[bytes]:
        resolved = self._resolve_or_report(path, final_link_file=False)
        if resolved is None:
            return None
        real = self.real(resolved)
        data = b""
        try:
            if not stat.S_ISREG(self._os_stat(real).st_mode):
                return None
            with open_regular(real) as handle:
                while len(data) < limit:
                    chunk = handle.read(8192)
                    if not chunk:
                        break
                    searched_from = max(0, len(data) - len(stop))
                    data += chunk
                    if data.find(stop, searched_from) >= 0:
                        break
        except OSError as exc:
            self._problem(path, exc)
            return None
        cut = data.find(stop)
        return data[:cut] if cut >= 0 else data

    # -- environment --------------------------------------------------------------------------

    def env(self, name: str) -> Optional[str]:
        return self.environ.get(name)

    def env_path_list(self, name: str) -> list[str]:
        value = self.environ.get(name)
        return value.split(":") if value else []

    @property
    def home(self) -> Optional[str]:
        home = self.environ.get("HOME")
        if home and home.startswith("/"):
            return self.normalize(home)
        return None

    @property
    def cwd(self) -> Optional[str]:
        pwd = self.environ.get("PWD")
        if pwd and pwd.startswith("/"):
            return self.normalize(pwd)
        if self.is_live_root and self._live_cwd:
            return self._live_cwd
        return None

    def which(self, name: str, path_dirs: Iterable[str]) -> list[str]:
        """Every ``dir/name`` the shell could run, in PATH order (first one wins)."""
        hits: list[str] = []
        for directory in path_dirs:
            base = directory if directory.startswith("/") else self.cwd
            if base is None:
                continue
            candidate = self.normalize(posixpath.join(base, name))
            if candidate not in hits and self.is_command(candidate):
                hits.append(candidate)
        return hits
