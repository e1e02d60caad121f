"""glibc's dynamic loader, modelled from files alone, with a trace of every choice.

For a name without a slash, requested by object R (glibc ``elf/dl-load.c``,
``_dl_map_object``):

0. An object already loaded whose SONAME or requested name is the name — or whose file is
   the one found — is reused (``loaded``).
1. If R has no DT_RUNPATH: the DT_RPATH of R, then of R's loader, and on up the chain; then
   the DT_RPATH of the main executable if the chain did not reach it (``rpath``).  An object
   with DT_RUNPATH has no DT_RPATH (glibc drops it).
2. ``LD_LIBRARY_PATH`` (``:`` or ``;`` separated; an empty entry is the working directory).
3. R's own DT_RUNPATH — for R's direct dependencies only (``runpath``).
4. ``/etc/ld.so.cache``: the entry for the name whose flags fit the machine, a supported
   ``glibc-hwcaps`` entry first (``cache``).  A stale entry (file gone) falls through.
5. The default directories (``default``).
Steps 4 and 5 are skipped (for 4: entries in default directories) when R — or the main
executable when there is no R — is marked ``DF_1_NODEFLIB``.

Each directory is tried as ``dir/glibc-hwcaps/<level>/``, then the legacy ``tls``/platform
subdirectories, then ``dir/`` — the subdirectories only where they exist.  ``$ORIGIN`` is
the directory of the object holding the path (for the executable, of its real path);
``$LIB`` and ``$PLATFORM`` follow the distribution's layout.  A file that is not ELF stops
the search with glibc's error; one of the wrong class or machine is passed over.
Dependencies are loaded breadth first, each once.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections import deque
from typing import Optional

from .._formats.elffile import DF_1_NODEFLIB, ELFError, ELFFile, machine_name
from .._formats.ldso import CACHE_FLAGS, CacheEntry, LdCacheError, parse_ld_so_cache
from .._host import Host, open_regular
from .._records import record
from ..snapshot import LoaderAttempt, Resolution

__all__ = ["LoaderModel", "ObjectInfo"]

_HWCAPS = {"x86_64": ("x86-64-v4", "x86-64-v3", "x86-64-v2"), "aarch64": ()}
_LEGACY_SUBDIRS = {
    "x86_64": ("tls/x86_64/x86_64", "tls/x86_64", "tls", "x86_64/x86_64", "x86_64"),
    "aarch64": ("tls/aarch64", "tls", "aarch64"),
}
_MULTIARCH = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}
_TOKEN = re.compile(r"\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))")
_ET_EXEC = 2


@record
class ObjectInfo:
    """What the loader reads of an ELF object."""

    elf_class: int = 0
    machine: str = ""
    soname: Optional[str] = None
    needed: tuple[str, ...] = ()
    rpath: Optional[str] = None
    runpath: Optional[str] = None
    nodeflib: bool = False
    executable: bool = False
    interpreter: Optional[str] = None
    """PT_INTERP: the dynamic linker a program names, loaded before anything else."""
    error: Optional[str] = None


class _Object:
    """An object mapped in the modelled process (mutable: it gathers names as it is reused)."""

    __slots__ = ("info", "loader", "names", "origin", "path", "real")

    def __init__(
        self, path: str, real: str, origin: str, info: ObjectInfo, loader: Optional[_Object]
    ) -> None:
        self.path = path
        self.real = real
        self.origin = origin
        self.info = info
        self.loader = loader
        self.names: set[str] = set()


def _cache_table(data: bytes) -> tuple[dict[str, list[CacheEntry]], Optional[str]]:
    """The cache's entries by name, and why reading stopped early (glibc then ignores it)."""
    table: dict[str, list[CacheEntry]] = {}
    try:
        for entry in parse_ld_so_cache(data):
            table.setdefault(entry.name, []).append(entry)
    except LdCacheError as exc:
        return table, str(exc)
    return table, None


class _FatalLoadError(Exception):
    """The real loader would stop here with this message."""


def _x86_levels(cpuinfo: bytes) -> Optional[tuple[str, ...]]:
    """The x86-64 micro-architecture levels the CPU's flags support, best first; None for
    an empty file."""
    text = cpuinfo.decode("ascii", errors="replace")
    if not text:
        return None
    flags_line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    flags = set(flags_line.split(":", 1)[-1].split())
    v2 = {"cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"}
    v3 = v2 | {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}
    v4 = v3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}
    return tuple(
        level
        for level, need in (("x86-64-v4", v4), ("x86-64-v3", v3), ("x86-64-v2", v2))
        if need <= flags
    )


class LoaderModel:
    """The loader of one process: its main executable, what is loaded, how names resolve."""

    def __init__(self, host: Host, main: Optional[str] = None) -> None:
        """``main``: the program whose ELF decides machine and class (not started yet)."""
        self.host = host
        self._infos: dict[str, ObjectInfo] = {}
        self._subdirs: dict[str, tuple[str, ...]] = {}
        self._cache: Optional[dict[str, list[CacheEntry]]] = None
        self.cache_error: Optional[str] = None
        self.loaded: list[_Object] = []
        self._by_name: dict[str, _Object] = {}
        self._by_real: dict[str, _Object] = {}
        self.main: Optional[_Object] = None
        self.preloaded: list[Resolution] = []
        main_info = self.info(main) if main else None
        self.machine = (main_info.machine if main_info and main_info.machine else None) or (
            self._guess_machine()
        )
        self.elf_class = main_info.elf_class if main_info and main_info.elf_class else 64
        self.multiarch = self._multiarch()
        self.defaults = self._default_dirs()
        self.lib_token = f"lib/{_MULTIARCH[self.machine]}" if self.multiarch else "lib64"
        self.hwcaps = self._supported_hwcaps()
        self._relative: dict[str, str] = {}
        """Directories named by a relative search-path entry → the entry as written: the
        loader opens ``entry/NAME``, relative to the working directory."""
        self.ld_library_path = self._ld_library_path(self.host.resolve(main) if main else None)

    def _ld_library_path(self, program: Optional[str]) -> list[str]:
        # An unset or empty LD_LIBRARY_PATH adds nothing; an empty *entry* is the cwd. Its
        # $ORIGIN is the main program's directory (glibc expands it for programs that are not
        # set-user-ID; the origin of the main map is its real path's directory).
        llp = self.host.env("LD_LIBRARY_PATH")
        origin = posixpath.dirname(program) if program else None
        return self._split(llp, ":;", origin, self.host.cwd or "/") if llp else []

    # -- the machine --------------------------------------------------------------------------

    def _guess_machine(self) -> str:
        for loader, machine in (
            ("/lib64/ld-linux-x86-64.so.2", "x86_64"),
            ("/lib/ld-linux-aarch64.so.1", "aarch64"),
        ):
            if self.host.exists(loader):
                return machine
        if self.host.is_live_root:
            live = os.uname().machine
            return live if live in _MULTIARCH else "x86_64"
        return "x86_64"

    def _multiarch(self) -> bool:
        """Debian/Ubuntu lay libraries out per triple; RHEL-likes use lib64."""
        triple = _MULTIARCH.get(self.machine, "")
        if self.host.is_dir(f"/lib/{triple}") or self.host.is_dir(f"/usr/lib/{triple}"):
            return True
        return not self.host.is_dir("/usr/lib64") and not self.host.is_dir("/lib64/")

    def _default_dirs(self) -> list[str]:
        if self.multiarch:
            triple = _MULTIARCH.get(self.machine, "x86_64-linux-gnu")
            return [f"/lib/{triple}", f"/usr/lib/{triple}", "/lib", "/usr/lib"]
        return ["/lib64", "/usr/lib64"]

    def _supported_hwcaps(self) -> tuple[str, ...]:
        levels = _HWCAPS.get(self.machine, ())
        if self.machine != "x86_64":
            return levels  # the subdirectories are tried where they exist
        supported = self.host.parsed("/proc/cpuinfo", "x86-hwcaps", _x86_levels, limit=1 << 16)
        return levels if supported is None else supported  # unknown CPU: as above

    # -- objects ------------------------------------------------------------------------------

    def info(self, path: str) -> ObjectInfo:
        """The ELF facts of a file, read once (a world path)."""
        path = self.host.normalize(path)
        cached = self._infos.get(path)
        if cached is not None:
            return cached
        resolved = self.host.resolve(path)
        result: ObjectInfo
        key = None
        if resolved is None or not self.host.is_file(path):
            result = ObjectInfo(error="missing")
        elif (key := self.host.file_key(path, "loader-info")) is not None and isinstance(
            hit := self.host.shared.get(key) if self.host.shared else None, ObjectInfo
        ):
            result = hit
        else:
            try:
                with open_regular(self.host.real(resolved)) as handle:
                    elf = ELFFile(handle, os.fstat(handle.fileno()).st_size, path)
                    result = ObjectInfo(
                        elf_class=elf.elf_class,
                        machine=machine_name(elf.machine),
                        soname=elf.soname,
                        needed=elf.needed,
                        rpath=elf.rpath,
                        runpath=elf.runpath,
                        nodeflib=bool(elf.flags_1 & DF_1_NODEFLIB),
                        executable=elf.type == _ET_EXEC or elf.interpreter is not None,
                        interpreter=elf.interpreter,
                    )
            except ELFError as exc:
                result = ObjectInfo(error=str(exc))
            except OSError as exc:
                result = ObjectInfo(error=exc.strerror or "unreadable")
                key = None
            if key is not None and self.host.shared is not None:
                self.host.shared.put(key, result)
        self._infos[path] = result
        return result

    def _map(
        self,
        path: str,
        real: str,
        info: ObjectInfo,
        loader: Optional[_Object],
        names: set[str],
        origin: Optional[str] = None,
    ) -> _Object:
        obj = _Object(path, real, origin or posixpath.dirname(path), info, loader)
        obj.names = {*names, path}
        if info.soname:
            obj.names.add(info.soname)
        self.loaded.append(obj)
        self._by_real[real] = obj
        for name in obj.names:
            self._by_name.setdefault(name, obj)
        return obj

    # -- search paths -------------------------------------------------------------------------

    def _expand(self, entry: str, origin: Optional[str]) -> Optional[str]:
        def token(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name == "ORIGIN":
                return origin or "."
            if name == "LIB":
                return self.lib_token
            return self.machine

        return _TOKEN.sub(token, entry)

    def _split(self, value: str, separators: str, origin: Optional[str], cwd: str) -> list[str]:
        dirs: list[str] = []
        for raw in re.split(f"[{re.escape(separators)}]", value):
            expanded = self._expand(raw, origin) if raw else ""
            if expanded is None:
                continue
            directory = expanded or "."
            relative = not directory.startswith("/")
            if relative:
                directory = posixpath.join(cwd, directory)
            directory = self._tidy(directory)
            if relative:
                self._relative.setdefault(directory, expanded.rstrip("/") or ".")
            if directory not in dirs:
                dirs.append(directory)
        return dirs

    def as_opened(self, path: Optional[str]) -> Optional[str]:
        """``path`` as the loader opens it: relative where a relative entry named it."""
        if path is None or not self._relative:
            return path
        directory, _, name = path.rpartition("/")
        written = self._relative.get(directory or "/")
        return f"{written}/{name}" if written is not None else path

    def _tidy(self, path: str) -> str:
        """Drop ``..``, ``.`` and doubled slashes where that names the same directory."""
        lexical = self.host.normalize(path)
        if lexical == path.rstrip("/") or ".." not in path:
            return lexical
        return lexical if self.host.resolve(lexical) == self.host.resolve(path) else path

    def _candidates(self, directory: str, name: str) -> list[str]:
        return [f"{sub}/{name}" for sub in self._search_subdirs(directory)]

    def _search_subdirs(self, directory: str) -> tuple[str, ...]:
        """The hwcaps and legacy subdirectories that exist, then the directory itself."""
        known = self._subdirs.get(directory)
        if known is not None:
            return known
        found = []
        for level in self.hwcaps:
            sub = f"{directory}/glibc-hwcaps/{level}"
            if self.host.is_dir(sub):
                found.append(sub)
        for legacy in _LEGACY_SUBDIRS.get(self.machine, ()):
            sub = f"{directory}/{legacy}"
            if self.host.is_dir(sub):
                found.append(sub)
        found.append(directory.rstrip("/") or "")
        self._subdirs[directory] = tuple(found)
        return self._subdirs[directory]

    def _try(self, path: str, via: str, tried: list[LoaderAttempt]) -> Optional[str]:
        """Open ``path`` as the loader would: the path, a miss, or a fatal error."""
        if not self.host.is_file(path):
            tried.append(LoaderAttempt(path, via, "missing"))
            return None
        verdict = self._verify(path)
        if verdict in ("found", "wrong-class", "wrong-machine"):
            tried.append(LoaderAttempt(path, via, verdict))
            # glibc passes over another class or machine and searches on
            return path if verdict == "found" else None
        tried.append(LoaderAttempt(path, via, "invalid"))
        raise _FatalLoadError(f"{path}: {verdict}")

    def _verify(self, path: str) -> str:
        """glibc's ``open_verify``: found, wrong-class, wrong-machine, or its fatal message."""
        header = self.host.parsed(path, "elf-ident", bytes, limit=64) or b""
        if len(header) < (64 if self.elf_class == 64 else 52):
            return "file too short"
        if header[:4] != b"\x7fELF":
            return "invalid ELF header"
        if header[4] != (2 if self.elf_class == 64 else 1):
            return "wrong-class"
        if header[5] != 1:  # the machines modelled are little-endian
            return "ELF file data encoding not little-endian"
        info = self.info(path)
        if info.error is not None:
            return info.error
        if info.machine != self.machine:
            return "wrong-machine"
        return "found"

    def _search_dirs(
        self, dirs: list[str], name: str, via: str, tried: list[LoaderAttempt]
    ) -> Optional[str]:
        for directory in dirs:
            for candidate in self._candidates(directory, name):
                if self._try(candidate, via, tried):
                    return candidate
        return None

    def _rpath_dirs(self, obj: _Object, which: str) -> list[str]:
        value = obj.info.rpath if which == "rpath" else obj.info.runpath
        if not value or (which == "rpath" and obj.info.runpath):
            return []  # glibc ignores DT_RPATH when DT_RUNPATH is present
        return self._split(value, ":", obj.origin, self.host.cwd or "/")

    def cached_paths(self) -> set[str]:
        """Every path the cache holds (an empty set without a cache)."""
        self._cache_lookup("")
        return {e.path for entries in (self._cache or {}).values() for e in entries}

    @property
    def cache_exists(self) -> bool:
        return self.host.is_file("/etc/ld.so.cache")

    def _cache_lookup(self, name: str) -> Optional[CacheEntry]:
        if self._cache is None:
            parsed = self.host.parsed("/etc/ld.so.cache", "ld.so.cache", _cache_table, 1 << 26)
            self._cache, self.cache_error = parsed if parsed is not None else ({}, None)
        wanted = {1, CACHE_FLAGS.get(self.machine, 0x0303)}
        entries = [e for e in self._cache.get(name, ()) if e.flags in wanted]
        best: Optional[CacheEntry] = None
        for entry in entries:
            if entry.hwcaps_subdir is None:
                continue
            if entry.hwcaps_subdir in self.hwcaps and (
                best is None
                or self.hwcaps.index(entry.hwcaps_subdir)
                < self.hwcaps.index(best.hwcaps_subdir or "")
            ):
                best = entry
        if best is not None:
            return best
        return next((e for e in entries if e.hwcaps_subdir is None), None)

    # -- resolution ---------------------------------------------------------------------------

    def find(self, name: str, requester: Optional[_Object]) -> Resolution:
        """Where ``name`` would come from, requested by ``requester`` (None: the main program)."""
        needed_by = requester.path if requester else None
        reused = self._by_name.get(name)
        if reused is not None:
            return Resolution(name, reused.path, "loaded", (), needed_by)
        tried: list[LoaderAttempt] = []
        try:
            path, via = self._find(name, requester, tried)
        except _FatalLoadError as exc:
            return Resolution(name, None, None, tuple(tried), needed_by, str(exc))
        return Resolution(name, path, via, tuple(tried), needed_by)

    def _find(
        self, name: str, requester: Optional[_Object], tried: list[LoaderAttempt]
    ) -> tuple[Optional[str], Optional[str]]:
        if "/" in name:
            path = name if name.startswith("/") else posixpath.join(self.host.cwd or "/", name)
            return self._try(self.host.normalize(path), "path", tried), "path"
        if requester is None or not requester.info.runpath:
            chain: list[_Object] = []
            obj = requester
            while obj is not None:
                chain.append(obj)
                obj = obj.loader
            if self.main is not None and self.main not in chain:
                chain.append(self.main)
            for obj in chain:
                found = self._search_dirs(self._rpath_dirs(obj, "rpath"), name, "rpath", tried)
                if found:
                    return found, "rpath"
        found = self._search_dirs(self.ld_library_path, name, "ld_library_path", tried)
        if found:
            return found, "ld_library_path"
        if requester is not None:
            found = self._search_dirs(
                self._rpath_dirs(requester, "runpath"), name, "runpath", tried
            )
            if found:
                return found, "runpath"
        decider = requester or self.main
        nodeflib = decider is not None and decider.info.nodeflib
        entry = self._cache_lookup(name)
        if entry is not None and not (
            nodeflib and any(entry.path.startswith(d + "/") for d in self.defaults)
        ):
            found = self._try(entry.path, "cache", tried)
            if found:
                return found, "cache"
        if not nodeflib:
            found = self._search_dirs(self.defaults, name, "default", tried)
            if found:
                return found, "default"
        return None, None

    def load(self, name: str, requester: Optional[_Object]) -> tuple[Resolution, Optional[_Object]]:
        """Resolve and "map" ``name``: a loaded object is reused, a new one joins the process."""
        resolution = self.find(name, requester)
        if resolution.path is None:
            return resolution, None
        if resolution.via == "loaded":
            return resolution, self._by_name[name]
        real = self.host.resolve(resolution.path) or resolution.path
        same_file = self._by_real.get(real)
        if same_file is not None:  # found again under another name: glibc reuses it
            same_file.names.add(name)
            self._by_name.setdefault(name, same_file)
            return resolution, same_file
        obj = self._map(resolution.path, real, self.info(resolution.path), requester, {name})
        return resolution, obj

    def load_tree(self, start: str) -> list[Resolution]:
        """Load ``start`` and everything it needs, breadth first; one entry per new object."""
        start = self.host.normalize(start)
        info = self.info(start)
        entries = [Resolution(start, start, "path", (), None, info.error)]
        if info.error is not None:
            return entries
        real = self.host.resolve(start) or start
        if real in self._by_real:
            obj = self._by_real[real]
        else:
            obj = self._map(start, real, info, self.main, set())
        return entries + self._load_dependencies([obj])

    def _load_dependencies(self, roots: list[_Object]) -> list[Resolution]:
        """Breadth first from ``roots``; each name listed once, reused ones as ``loaded``."""
        entries: list[Resolution] = []
        listed: set[str] = {obj.path for obj in roots}
        queue = deque(roots)
        while queue:
            current = queue.popleft()
            for name in current.info.needed:
                if name in listed:
                    continue
                listed.add(name)
                before = len(self.loaded)
                resolution, child = self.load(name, current)
                entries.append(resolution)
                if child is not None and len(self.loaded) > before:
                    queue.append(child)
        return entries

    def start_program(self, path: str) -> list[Resolution]:
        """Start ``path`` as the main program: map it, LD_PRELOAD, then its dependencies."""
        path = self.host.normalize(path)
        info = self.info(path)
        if info.error is not None:
            return [Resolution(path, None, None, (), None, info.error)]
        real = self.host.resolve(path) or path
        self.main = self._map(path, real, info, None, set(), origin=posixpath.dirname(real))
        if "$" in (self.host.env("LD_LIBRARY_PATH") or ""):
            self.ld_library_path = self._ld_library_path(real)  # $ORIGIN: this program's
        if info.interpreter and self.host.is_file(info.interpreter):
            # The dynamic linker is mapped first, under the name PT_INTERP gives it; a NEEDED
            # entry for its SONAME reuses that map.
            rtld = self.host.normalize(info.interpreter)
            rtld_real = self.host.resolve(rtld) or rtld
            self._map(rtld, rtld_real, self.info(rtld), self.main, set())
        preloaded = self.preload()
        self.preloaded = preloaded
        roots = [self.main] + [
            self._by_real[self.host.resolve(r.path) or r.path]
            for r in preloaded
            if r.path and (self.host.resolve(r.path) or r.path) in self._by_real
        ]
        return preloaded + self._load_dependencies(roots)

    def dlopen(self, path: str, caller: Optional[_Object] = None) -> list[Resolution]:
        """``dlopen(path)`` by ``caller`` (default: the main program), with its dependencies."""
        path = self.host.normalize(path)
        info = self.info(path)
        if info.error is not None:
            return [Resolution(path, None, None, (), None, info.error)]
        real = self.host.resolve(path) or path
        obj = self._by_real.get(real) or self._map(path, real, info, caller or self.main, set())
        return self._load_dependencies([obj])

    def object_for(self, path: str) -> Optional[_Object]:
        return self._by_real.get(self.host.resolve(path) or path)

    def object_for_name(self, name: str) -> Optional[_Object]:
        """The loaded object a name (SONAME, requested name, path) refers to."""
        return self._by_name.get(name)

    def preload(self) -> list[Resolution]:
        """Map LD_PRELOAD entries (space or colon separated), then ``/etc/ld.so.preload``."""
        names = re.split(r"[ :]+", self.host.env("LD_PRELOAD") or "")
        text = self.host.read_text("/etc/ld.so.preload", limit=1 << 16) or ""
        names += text.split()
        return [self.load(name, self.main)[0] for name in names if name]
