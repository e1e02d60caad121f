"""Real Debian 12 (bookworm) parts for test worlds: the NVIDIA driver's user space as apt lays
it out, Debian's CUDA 11.8 toolkit, merged ``/usr``, Debian's ``ld.so.conf`` and the cache the
real ``ldconfig -r`` writes.  Nothing here is written from memory: every library is a real file
from Debian's archive, every link is one a maintainer script or tool creates (each one says
where that was learned), and ``tests/data/real/debian/README.md`` records the evidence.

``fetch`` downloads ``.deb`` files once into a cache (``$CUDAENV_KIT_CACHE``, default
``~/.cache/cudaenv-kit/debian``) with apt configured privately (its own sources list, lists and
cache; nothing system-wide is read or changed apart from apt's ``apt.conf.d``), and extracts each
with ``dpkg -x`` into ``<cache>/x/<package>_<version>/`` (control files, from ``dpkg -e``, in
``<cache>/ctl/<package>_<version>/``).  A package that cannot be had raises ``KitError`` naming
the package and apt's error: tests fail loudly, never pass silently.  Set
``CUDAENV_KIT_REFRESH=1`` to resolve every package again against the archive.

Needs, on the machine running the tests: ``apt-get``, ``dpkg``, ``update-alternatives`` (dpkg)
and glibc's ``ldconfig`` (any Debian or Ubuntu), ``debian-archive-keyring``, and the network
to ``deb.debian.org`` (``$CUDAENV_KIT_DEBIAN_MIRROR`` / ``$CUDAENV_KIT_DEBIAN_SECURITY`` to
change it) the first time.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "CONTAINER_LDCONFIG_DIRS",
    "DRIVER_PACKAGES",
    "SUPPORT_PACKAGES",
    "TOOLKIT_PACKAGES",
    "KitError",
    "control_dir",
    "fetch",
    "install_distro_toolkit",
    "install_driver",
    "ld_so_conf",
    "merged_usr",
    "run_ldconfig",
]

SUITE = "bookworm"
ARCH = "amd64"
TRIPLET = "x86_64-linux-gnu"
DATA = Path(__file__).parent / "data" / "real" / "debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

# The CUDA-relevant driver packages and, from their Depends (apt-cache show), the packages
# without X/GLX content they pull in, all built from nvidia-graphics-drivers (same version):
# nvidia-alternative (the alternatives' directories and postinst), libnvidia-pkcs11-openssl3
# (libcuda1 Depends), nvidia-legacy-check (Pre-Depends; docs only).  Left out:
# glx-alternative-nvidia, update-glx, glx-diversions, glx-alternative-mesa (nvidia-alternative
# Depends; X/GLX only; their one effect with this set is the /usr/lib/glx master link, created
# below) and every Recommends (nvidia-kernel-dkms, libnvidia-cfg1, nvidia-persistenced,
# libcuda1:i386).
DRIVER_PACKAGES = (
    "libcuda1",
    "libnvidia-ml1",
    "libnvidia-ptxjitcompiler1",
    "nvidia-smi",
    "nvidia-alternative",
    "libnvidia-pkcs11-openssl3",
    "nvidia-legacy-check",
)
# libcuda1 Depends nvidia-support (its own source package, version 20220217+3~deb12u1):
# /usr/lib/nvidia/check-for-mismatching-nvidia-module, run by libcuda1's postinst.
SUPPORT_PACKAGES = ("nvidia-support",)
# Only for the text of /proc/driver/nvidia/version: the NVRM id string compiled into the
# proprietary module's binary core (nv-kernel.o_binary) of the same driver version.
KERNEL_PACKAGE = "nvidia-kernel-dkms"
# nvidia-cuda-dev (headers, dev links) is 774 MB: its paths come from Debian's Contents index
# (tests/data/real/debian/cuda-toolkit.contents) and get placeholder files.
TOOLKIT_PACKAGES = ("nvidia-cuda-toolkit", "libcudart11.0")

# `gcc -v 2>&1 | tail -n 1` on Debian 12 (gcc-12 12.2.0-14+deb12u1), with its trailing space:
# the module's Kbuild writes exactly that into NV_COMPILER (nvidia/nvidia.Kbuild, 535.309.01).
DEBIAN12_GCC = "gcc version 12.2.0 (Debian 12.2.0-14+deb12u1) "

# What nvidia-container-cli's ldconfig hook runs inside a Debian-family container
# (libnvidia-container src/nvc_ldcache.c: ldconfig -f /etc/ld.so.conf -C /etc/ld.so.cache
# <libs_dir> <libs32_dir>; src/nvc_container.c: multiarch dirs when /etc/debian_version exists).
CONTAINER_LDCONFIG_DIRS = (f"/usr/lib/{TRIPLET}", "/usr/lib/i386-linux-gnu")

Flavour = Literal["debian", "flat", "container"]


class KitError(RuntimeError):
    """A part of the kit could not be had or built (one line, names the package)."""


@dataclass(frozen=True)
class Fetched:
    package: str
    version: str
    deb: Path
    size: int
    sha256: str
    files: Path
    control: Path


# --- fetching ------------------------------------------------------------------------------


def cache_dir() -> Path:
    configured = os.environ.get("CUDAENV_KIT_CACHE")
    base = Path(configured) if configured else Path.home() / ".cache" / "cudaenv-kit" / "debian"
    base.mkdir(parents=True, exist_ok=True)
    return base


@contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """One fetch at a time per cache, across processes (pytest-xdist workers, CI jobs)."""
    with (cache / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sources(cache: Path) -> Path:
    mirror = os.environ.get("CUDAENV_KIT_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    security = os.environ.get(
        "CUDAENV_KIT_DEBIAN_SECURITY", "http://deb.debian.org/debian-security"
    )
    components = "main contrib non-free non-free-firmware"
    text = "".join(
        f"deb [signed-by={KEYRING}] {uri} {suite} {components}\n"
        for uri, suite in (
            (mirror, SUITE),
            (mirror, f"{SUITE}-updates"),
            (security, f"{SUITE}-security"),
        )
    )
    path = cache / "apt" / "sources.list"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def _apt(cache: Path, *args: str) -> list[str]:
    apt = cache / "apt"
    for sub in ("lists/partial", "cache/archives/partial"):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "Dir::Etc::SourceList": str(_sources(cache)),
        "Dir::Etc::SourceParts": "/dev/null",
        "Dir::Etc::Preferences": "/dev/null",
        "Dir::Etc::PreferencesParts": "/dev/null",
        "Dir::State::Lists": str(apt / "lists"),
        "Dir::State::Status": "/dev/null",
        "Dir::Cache": str(apt / "cache"),
        "APT::Architecture": ARCH,
        "APT::Architectures": ARCH,
        "Acquire::Languages": "none",
    }
    if os.geteuid() == 0:  # apt would drop to _apt, who cannot write into the cache
        options["APT::Sandbox::User"] = "root"
    command = ["apt-get", "-q"]
    for key, value in options.items():
        command += ["-o", f"{key}={value}"]
    return [*command, *args]


def _run(command: list[str], what: str, cwd: Path | None = None) -> str:
    try:
        result = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, check=False, timeout=1800
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise KitError(f"{what}: {error}") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("E:")]
        detail = (errors or lines or [f"exit status {result.returncode}"])[-1]
        raise KitError(f"{what}: {detail}")
    return result.stdout


def _update(cache: Path) -> None:
    """``apt-get update``; it exits 0 when a mirror cannot be reached, so its warnings count."""
    what = f"apt-get update for Debian {SUITE} failed"
    try:
        result = subprocess.run(
            _apt(cache, "update"), capture_output=True, text=True, check=False, timeout=1800
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise KitError(f"{what}: {error}") from None
    problems = [
        line.strip()
        for line in (result.stdout + result.stderr).splitlines()
        if line.startswith(("E:", "W:", "Err:"))
    ]
    if result.returncode != 0 or problems:
        raise KitError(f"{what}: {(problems or [f'exit status {result.returncode}'])[0]}")


def _resolve(cache: Path, spec: str) -> tuple[str, str, int, str]:
    """``spec`` (``name`` or ``name=version``) → (url, file name, size, sha256) from apt."""
    with tempfile.TemporaryDirectory(dir=cache) as empty:  # apt omits files already present
        out = _run(
            _apt(cache, "download", "--print-uris", spec),
            f"cannot fetch Debian package {spec}",
            cwd=Path(empty),
        )
    for line in out.splitlines():
        match = re.match(r"'([^']+)' (\S+) (\d+) SHA256:([0-9a-f]{64})$", line.strip())
        if match:
            return match[1], match[2], int(match[3]), match[4]
    raise KitError(f"cannot fetch Debian package {spec}: apt-get printed no URI")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(cache: Path, spec: str) -> dict[str, str | int]:
    _url, filename, size, sha256 = _resolve(cache, spec)
    debs = cache / "debs"
    debs.mkdir(exist_ok=True)
    deb = debs / filename
    if not deb.exists() or _sha256(deb) != sha256:
        deb.unlink(missing_ok=True)
        _run(_apt(cache, "download", spec), f"cannot fetch Debian package {spec}", cwd=debs)
    if _sha256(deb) != sha256:
        raise KitError(f"cannot fetch Debian package {spec}: {filename} fails its SHA256")
    name, version, _arch = filename[: -len(".deb")].split("_")
    stem = f"{name}_{version}"
    for kind, flag in (("x", "-x"), ("ctl", "-e")):
        final = cache / kind / stem
        if final.is_dir():
            continue
        final.parent.mkdir(exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{stem}.", dir=final.parent))
        target = scratch / "t"
        _run(["dpkg", flag, str(deb), str(target)], f"dpkg {flag} {filename} failed")
        target.rename(final)  # atomic: a directory is there whole or not at all
        scratch.rmdir()
    return {"package": name, "version": version, "deb": filename, "size": size, "sha256": sha256}


def _manifest_path(cache: Path) -> Path:
    return cache / "fetched.json"


def _load_manifest(cache: Path) -> dict[str, dict[str, str | int]]:
    try:
        data: dict[str, dict[str, str | int]] = json.loads(_manifest_path(cache).read_text())
    except (OSError, ValueError):
        return {}
    return data


def _save_manifest(cache: Path, manifest: dict[str, dict[str, str | int]]) -> None:
    scratch = _manifest_path(cache).with_suffix(f".{os.getpid()}.tmp")
    scratch.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    scratch.replace(_manifest_path(cache))  # atomic


def _fetched(cache: Path, record: dict[str, str | int]) -> Fetched:
    stem = f"{record['package']}_{record['version']}"
    return Fetched(
        package=str(record["package"]),
        version=str(record["version"]).replace("%3a", ":"),
        deb=cache / "debs" / str(record["deb"]),
        size=int(record["size"]),
        sha256=str(record["sha256"]),
        files=cache / "x" / stem,
        control=cache / "ctl" / stem,
    )


_REFRESHED: set[str] = set()  # with CUDAENV_KIT_REFRESH: specs resolved again by this process


def fetch_records(packages: Iterable[str]) -> dict[str, Fetched]:
    """Like ``fetch``, with what was fetched (version, .deb, size, sha256, control dir)."""
    cache = cache_dir()
    wanted = list(dict.fromkeys(packages))
    refresh = os.environ.get("CUDAENV_KIT_REFRESH", "") not in ("", "0")
    with _locked(cache):
        manifest = _load_manifest(cache)
        missing = [
            spec
            for spec in wanted
            if (refresh and spec not in _REFRESHED)
            or spec not in manifest
            or not _fetched(cache, manifest[spec]).files.is_dir()
        ]
        if missing:
            lists = cache / "apt" / "lists"
            updated = False
            if (refresh and not _REFRESHED) or not any(lists.glob("*_InRelease")):
                try:
                    _update(cache)
                except KitError as error:
                    raise KitError(
                        f"cannot fetch Debian package {', '.join(missing)}: {error}"
                    ) from None
                updated = True
            for spec in missing:
                try:
                    manifest[spec] = _download(cache, spec)
                except KitError as error:
                    if updated:
                        raise
                    try:  # lists older than the archive: a version superseded, or new
                        _update(cache)
                    except KitError as update_error:
                        raise KitError(f"{error} ({update_error})") from None
                    updated = True
                    manifest[spec] = _download(cache, spec)
                _REFRESHED.add(spec)
                _save_manifest(cache, manifest)
    return {
        _fetched(cache, manifest[spec]).package: _fetched(cache, manifest[spec]) for spec in wanted
    }


def fetch(packages: Iterable[str]) -> dict[str, Path]:
    """Package name → its extracted files (``dpkg -x``), downloading each ``.deb`` once.

    ``packages`` are names (apt's candidate in bookworm, -updates and -security, all
    components) or ``name=version``.  Safe to call from several processes at once.
    """
    return {name: record.files for name, record in fetch_records(packages).items()}


def control_dir(package: str) -> Path:
    """The control files (``dpkg -e``: postinst, triggers, ...) of a fetched package."""
    return fetch_records([package])[package].control


# --- files inside a root ---------------------------------------------------------------------


def _inside(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def _resolve_in_root(root: Path, path: str, hops: int = 40) -> Path | None:
    """``path`` with every symlink followed as the machine would (absolute targets inside
    ``root``); None when dangling or looping."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        if candidate.is_symlink():
            hops -= 1
            if hops < 0:
                return None
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        if not candidate.exists() and not candidate.is_symlink():
            return None
        resolved.append(part)
    return root.joinpath(*resolved)


def _is_file(root: Path, path: str) -> bool:
    """The shell's ``[ -f path ]`` on the machine ``root`` stands for."""
    real = _resolve_in_root(root, path)
    return real is not None and real.is_file()


def _is_dir(root: Path, path: str) -> bool:
    real = _resolve_in_root(root, path)
    return real is not None and real.is_dir()


def _place(src: Path, dst: Path) -> None:
    """A file as dpkg would unpack it: replaces what is there; hard link, else copy."""
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _symlink(target: str, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def _unpack(tree: Path, root: Path) -> None:
    """Copy a ``dpkg -x`` tree into ``root``: directories, files (hard links) and links."""
    for dirpath, dirnames, filenames in os.walk(tree):
        rel = Path(dirpath).relative_to(tree)
        dest = root / rel
        dest.mkdir(parents=True, exist_ok=True)
        for name in list(dirnames):
            src = Path(dirpath, name)
            if src.is_symlink():
                _symlink(os.readlink(src), dest / name)
                dirnames.remove(name)
        for name in filenames:
            src = Path(dirpath, name)
            if src.is_symlink():
                _symlink(os.readlink(src), dest / name)
            else:
                _place(src, dest / name)


# --- distro skeleton -------------------------------------------------------------------------


def merged_usr(root: Path) -> None:
    """Debian 12's merged ``/usr``: ``/bin``, ``/sbin``, ``/lib``, ``/lib64`` are relative links
    into ``/usr`` (as on this build machine and every bookworm install), with the multiarch
    library directory and ``/usr/local`` ones."""
    for sub in ("usr/bin", "usr/sbin", f"usr/lib/{TRIPLET}", "usr/lib64", "usr/include"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("usr/local/bin", "usr/local/lib", "usr/local/include", "etc", "var/lib/dpkg"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")):
        _symlink(target, root / name)
    _symlink("usr/lib64", root / "lib64")


def ld_so_conf(root: Path) -> None:
    """Debian 12's ``/etc/ld.so.conf`` and ``ld.so.conf.d/{libc,x86_64-linux-gnu}.conf``,
    verbatim (libc-bin / libc6 2.36-9+deb12u14, saved in tests/data/real/debian/etc), and
    libc-bin's ``/var/cache/ldconfig`` (where ldconfig keeps its aux-cache)."""
    source = DATA / "etc"
    (root / "etc/ld.so.conf.d").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "ld.so.conf", root / "etc/ld.so.conf")
    for conf in sorted((source / "ld.so.conf.d").glob("*.conf")):
        shutil.copyfile(conf, root / "etc/ld.so.conf.d" / conf.name)
    (root / "var/cache/ldconfig").mkdir(parents=True, exist_ok=True)


def _ldconfig() -> str:
    for candidate in ("/sbin/ldconfig", "/usr/sbin/ldconfig"):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("ldconfig")
    if found is None:
        raise KitError("glibc's ldconfig not found")
    return found


def run_ldconfig(root: Path, dirs: Iterable[str] = ()) -> str:
    """The real ``ldconfig -r root``: writes ``root/etc/ld.so.cache`` from ``root``'s
    ``/etc/ld.so.conf`` and updates SONAME links, exactly as the libc-bin trigger after
    ``apt install`` does (``ldconfig -r "$DPKG_ROOT/"``, no ``-X``).  ``dirs`` are extra
    directories on the command line, as nvidia-container-cli's hook passes them
    (``CONTAINER_LDCONFIG_DIRS``).  Returns ldconfig's warnings."""
    command = [_ldconfig(), "-r", str(root)]
    if dirs:
        command += ["-f", "/etc/ld.so.conf", "-C", "/etc/ld.so.cache", *dirs]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0 or not (root / "etc/ld.so.cache").is_file():
        raise KitError(f"ldconfig -r {root} failed: {result.stderr.strip()}")
    return result.stderr


# --- the driver ------------------------------------------------------------------------------


def _postinst_slaves(postinst: str) -> tuple[dict[str, list[list[str]]], str, tuple[str, ...]]:
    """The ``$(add_slave ...)`` / ``$(add_multiarch_slave ...)`` calls of nvidia-alternative's
    postinst, per shell variable; the file guarding ``libnvidia_ml_so_slave``; TRIPLETS."""
    triplets_match = re.search(r'^TRIPLETS="([^"]*)"', postinst, re.MULTILINE)
    guard_match = re.search(
        r"if \[ -f (\S+) \]; then\s+libnvidia_ml_so_slave=", postinst, re.MULTILINE
    )
    if triplets_match is None or guard_match is None:
        raise KitError("nvidia-alternative postinst: unexpected shape (TRIPLETS, nvml guard)")
    calls: dict[str, list[list[str]]] = {}
    variable = ""
    for line in postinst.splitlines():
        opening = re.match(r'\s*(\w+)="(.*)$', line)
        if opening:
            variable = opening[1]
            line = opening[2]
        for call in re.findall(r"\$\((add_slave|add_multiarch_slave) ([^)]*)\)", line):
            calls.setdefault(variable, []).append([call[0], *shlex.split(call[1])])
    return calls, guard_match[1], tuple(triplets_match[1].split())


def _evaluate(
    root: Path, calls: list[list[str]], triplets: tuple[str, ...], prefix: str
) -> list[tuple[str, str, str]]:
    """The postinst's add_slave semantics: (link, name, path) when ``[ -f path ]`` and the
    link's directory exists, evaluated on ``root``."""
    slaves: list[tuple[str, str, str]] = []

    def add_slave(link: str, name: str, path: str) -> None:
        if _is_file(root, path) and _is_dir(root, os.path.dirname(link)):
            slaves.append((link, prefix + name, path))

    for call in calls:
        if call[0] == "add_slave":
            add_slave(call[1], call[2], call[3])
            continue
        target_dir, target_sub, file, source_dir, source_sub = call[1:6]
        name_prefix = call[6] if len(call) > 6 else ""
        for triplet in triplets:
            suffix = triplet.rstrip("/")
            suffix = f"-{suffix.lstrip('/')}" if suffix else ""
            add_slave(
                f"{target_dir}{triplet}{target_sub}{file}",
                f"{name_prefix}{file}{suffix}",
                f"{source_dir}{triplet}{source_sub}{file}",
            )
    return slaves


def _update_alternatives(root: Path, *args: str) -> None:
    for sub in ("etc/alternatives", "var/lib/dpkg/alternatives", "var/log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    _run(
        ["update-alternatives", "--quiet", "--root", str(root), *args],
        f"update-alternatives {' '.join(args[:2])} in {root} failed",
    )


def _debian_alternatives(root: Path, postinst: str) -> None:
    """What nvidia-alternative's postinst ("triggered" branch, run by the dpkg trigger on
    /usr/lib/x86_64-linux-gnu/nvidia/current) and then glx-alternative-nvidia's
    setup_alternatives do, with the real update-alternatives working on ``root``."""
    calls, nvml_guard, triplets = _postinst_slaves(postinst)
    install = re.search(r"update-alternatives --install (\S+) (\S+) (\S+) (\d+) \$slaves", postinst)
    if install is None:
        raise KitError("nvidia-alternative postinst: no update-alternatives --install line")
    link, name, path, priority = install.groups()

    def slaves(variable: str) -> list[tuple[str, str, str]]:
        return _evaluate(root, calls.get(variable, []), triplets, "nvidia--")

    main, conf, kmod, kmod_open = (
        slaves("slaves"),
        slaves("conf_slaves"),
        slaves("kmod_slaves"),
        slaves("kmod_open_slaves"),
    )
    ml_so = slaves("libnvidia_ml_so_slave") if _is_file(root, nvml_guard) else []
    normal = bool(main) and (bool(kmod) or not kmod_open)
    open_ = bool(main) and bool(kmod_open)
    flags = [x for s in (*main, *conf) for x in ("--slave", *s)]
    if normal:
        _update_alternatives(
            root,
            "--install",
            link,
            name,
            path,
            priority,
            *flags,
            *[x for s in (*kmod, *ml_so) for x in ("--slave", *s)],
        )
    if open_:
        open_path = path + "-open"
        _update_alternatives(
            root,
            "--install",
            link,
            name,
            open_path,
            str(int(priority) - 1),
            *flags,
            *[x for s in (*kmod_open, *ml_so) for x in ("--slave", *s)],
        )
    else:
        _update_alternatives(root, "--remove", name, path + "-open")
    # glx-alternative-nvidia 1.2.2 postinst, setup_alternatives(): no libGL/nvidia_drv.so but
    # /usr/lib/<triplet>/libcuda.so is a file -> "cudaonly": the glx master link with the
    # kernel/mesa/misc slaves, all absent here (no nvidia-kernel-support conf files, no
    # mesa-diverted libs, no libnvidia-cfg1); no libGL -> the bumblebee choice is removed.
    if _is_file(root, f"/usr/lib/{TRIPLET}/libcuda.so"):
        _update_alternatives(root, "--install", "/usr/lib/glx", "glx", "/usr/lib/nvidia", "100")
    _update_alternatives(root, "--remove", "glx", "/usr/lib/nvidia/bumblebee")


def _nvrm_id(version: str) -> str:
    """``pNVRM_ID`` (``NVRM_ID + 11``, past "nvidia id: ") of the proprietary module of this
    driver version, read from the nv-kernel.o_binary Debian ships in nvidia-kernel-dkms."""
    tree = fetch([f"{KERNEL_PACKAGE}={version}"])[KERNEL_PACKAGE]
    for blob in sorted(tree.glob("usr/src/*/nvidia/nv-kernel.o_binary")):
        data = blob.read_bytes()
        start = data.find(b"nvidia id: ")
        if start >= 0:
            end = data.index(b"\0", start)
            return data[start + len(b"nvidia id: ") : end].decode()
    raise KitError(f"{KERNEL_PACKAGE} {version}: no 'nvidia id: ' string in nv-kernel.o_binary")


def write_kernel_files(
    root: Path,
    driver_version: str,
    nvrm_id: str,
    gpu_model: str,
    pci: str = "0000:01:00.0",
    gpu_uuid: str = "GPU-5f2e9c1a-7b3d-4e8f-9a6c-1d2e3f405162",
) -> None:
    """What the loaded ``nvidia`` module shows (formats from nv-procfs.c of 535.309.01):
    ``/proc/driver/nvidia/version`` (``"NVRM version: %s\\n"`` with pNVRM_ID, ``"GCC version:
    %s\\n"`` with NV_COMPILER), ``/sys/module/nvidia/version`` (MODULE_VERSION, nv-frontend.c)
    and ``gpus/<pci>/information`` (nv_procfs_read_gpu_info).  IRQ, UUID, VBIOS, DMA and
    minor values are per machine: the ones written are illustrative, in the real format."""
    proc = root / "proc/driver/nvidia"
    proc.mkdir(parents=True, exist_ok=True)
    (proc / "version").write_text(f"NVRM version: {nvrm_id}\nGCC version:  {DEBIAN12_GCC}\n")
    sysmod = root / "sys/module/nvidia"
    sysmod.mkdir(parents=True, exist_ok=True)
    (sysmod / "version").write_text(f"{driver_version}\n")
    gpu = proc / "gpus" / pci
    gpu.mkdir(parents=True, exist_ok=True)
    (gpu / "information").write_text(
        f"Model: \t\t {gpu_model}\n"
        "IRQ:   \t\t 16\n"
        f"GPU UUID: \t {gpu_uuid}\n"
        "Video BIOS: \t ??.??.??.??.??\n"
        "Bus Type: \t PCIe\n"
        "DMA Size: \t 47 bits\n"
        "DMA Mask: \t 0x7fffffffffff\n"
        f"Bus Location: \t {pci}\n"
        "Device Minor: \t 0\n"
        "GPU Excluded:\t No\n"
    )


def _upstream(version: str) -> str:
    """NVIDIA's version in a Debian version: 535.309.01-0+deb12u1 -> 535.309.01."""
    return version.split("-", maxsplit=1)[0]


def _driver_files(records: dict[str, Fetched], version: str) -> dict[str, Path]:
    """The real versioned files: libcuda.so.<v> ..., and nvidia-smi."""
    upstream = _upstream(version)
    current = f"usr/lib/{TRIPLET}/nvidia/current"
    files = {
        f"libcuda.so.{upstream}": records["libcuda1"].files / current,
        f"libnvidia-ml.so.{upstream}": records["libnvidia-ml1"].files / current,
        f"libnvidia-ptxjitcompiler.so.{upstream}": records["libnvidia-ptxjitcompiler1"].files
        / current,
        f"libnvidia-pkcs11-openssl3.so.{upstream}": records["libnvidia-pkcs11-openssl3"].files
        / f"usr/lib/{TRIPLET}",
    }
    out = {name: where / name for name, where in files.items()}
    out["nvidia-smi"] = records["nvidia-smi"].files / "usr/lib/nvidia/current/nvidia-smi"
    for name, path in out.items():
        if not path.is_file():
            raise KitError(f"driver {version}: {name} missing from its package ({path})")
    return out


def install_driver(
    root: Path,
    flavour: Flavour = "debian",
    *,
    gpu_model: str = "NVIDIA GeForce RTX 3090",
    pci: str = "0000:01:00.0",
    loaded: bool = True,
) -> str:
    """Lay the NVIDIA driver's user space into ``root``; return its version ("535.309.01").

    ``"debian"``: ``apt install libcuda1 libnvidia-ml1 libnvidia-ptxjitcompiler1 nvidia-smi``
    on bookworm (without Recommends): the packages' files (libraries under
    ``/usr/lib/x86_64-linux-gnu/nvidia/current/``, nvidia-smi under ``/usr/lib/nvidia/current``)
    and the alternatives their maintainer scripts create, made by the real update-alternatives
    from nvidia-alternative's postinst (``/usr/lib/x86_64-linux-gnu/libcuda.so.1`` ->
    ``/etc/alternatives/nvidia--libcuda.so.1-x86_64-linux-gnu`` ->
    ``/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1`` -> ``libcuda.so.535.309.01``;
    the same for libcuda.so, libnvidia-ml.so.1, libnvidia-ptxjitcompiler.so.1 and
    ``/usr/bin/nvidia-smi``).  The ldconfig trigger is ``run_ldconfig``'s job.

    ``"flat"``: the layout of Ubuntu's libnvidia-compute-<branch>, NVIDIA's CUDA repository
    and .run installer, from the same real files: ``/usr/lib/x86_64-linux-gnu/libcuda.so.<v>``
    with ``libcuda.so.1`` -> it and ``libcuda.so`` -> ``libcuda.so.1``, the same for
    libnvidia-ml; ``libnvidia-ptxjitcompiler.so.1``; ``/usr/bin/nvidia-smi``.

    ``"container"``: what nvidia-container-toolkit injects for
    ``NVIDIA_DRIVER_CAPABILITIES=compute,utility`` into a Debian-family image: the versioned
    files the host's cache names (libnvidia-container src/nvc_info.c utility_libs and
    compute_libs present in this driver: libnvidia-ml, libcuda, libnvidia-ptxjitcompiler,
    libnvidia-pkcs11-openssl3; utility_bins: nvidia-smi) bind-mounted into
    ``/usr/lib/x86_64-linux-gnu`` and ``/usr/bin``, the ``libcuda.so`` -> ``libcuda.so.1`` link
    (nvc_mount.c symlink_libraries) and the SONAME links its ldconfig hook makes
    (nvc_ldcache.c; run ``run_ldconfig(root, CONTAINER_LDCONFIG_DIRS)`` for the cache).

    ``loaded``: write the kernel module's files (``write_kernel_files``); the NVRM id comes
    from nvidia-kernel-dkms of the same version.
    """
    version = fetch_records(["libcuda1"])["libcuda1"].version
    records = fetch_records(
        [f"{package}={version}" for package in DRIVER_PACKAGES] + list(SUPPORT_PACKAGES)
    )
    upstream = _upstream(version)
    if flavour == "debian":
        for package in (*DRIVER_PACKAGES, *SUPPORT_PACKAGES):
            _unpack(records[package].files, root)
        postinst = (records["nvidia-alternative"].control / "postinst").read_text()
        _debian_alternatives(root, postinst)
    elif flavour in ("flat", "container"):
        files = _driver_files(records, version)
        libdir = root / "usr/lib" / TRIPLET
        libdir.mkdir(parents=True, exist_ok=True)
        (root / "usr/bin").mkdir(parents=True, exist_ok=True)
        for name, path in files.items():
            _place(path, (root / "usr/bin" / name) if name == "nvidia-smi" else libdir / name)
        for stem in ("libcuda", "libnvidia-ml", "libnvidia-ptxjitcompiler"):
            _symlink(f"{stem}.so.{upstream}", libdir / f"{stem}.so.1")
        _symlink("libcuda.so.1", libdir / "libcuda.so")
        if flavour == "flat":
            _symlink("libnvidia-ml.so.1", libdir / "libnvidia-ml.so")
    else:
        raise KitError(f"unknown driver flavour {flavour!r}")
    if loaded:
        write_kernel_files(root, upstream, _nvrm_id(version), gpu_model, pci)
    return upstream


# --- the toolkit -----------------------------------------------------------------------------


PLACEHOLDER = (
    "/* cudaenv test kit PLACEHOLDER, not the real file: {path} of Debian package "
    "nvidia-cuda-dev {version} (a 774 MB .deb, not downloaded); path from Debian's "
    "bookworm non-free Contents-amd64 index. */\n"
)


def _contents(name: str) -> list[str]:
    """Paths of a package from the saved Contents-amd64 lines (``path<spaces>section/pkg``)."""
    paths = []
    for line in (DATA / "cuda-toolkit.contents").read_text().splitlines():
        path, _, owners = line.rpartition(" ")
        if any(owner.rsplit("/", 1)[-1] == name for owner in owners.split(",")):
            paths.append(path.strip())
    return paths


def install_distro_toolkit(root: Path) -> str:
    """Debian 12's ``apt install nvidia-cuda-toolkit`` (CUDA 11.8), returns its version.

    Real files: nvidia-cuda-toolkit (``/usr/bin/nvcc``, a 59-byte sh wrapper exec'ing
    ``/usr/lib/nvidia-cuda-toolkit/bin/nvcc``; ptxas, cuobjdump ... in ``/usr/bin``;
    ``/usr/lib/nvidia-cuda-toolkit/{bin,libdevice}``; ``/etc/nvcc.profile``; the CUDA_HOME
    stand-in ``/usr/lib/cuda`` with ``include/cuda.h`` -> ``../../../include/cuda.h`` and
    ``nvvm/libdevice``) and libcudart11.0 (``libcudart.so.11.8.89`` and the
    ``libcudart.so.11.0`` link).  PLACEHOLDERS: nvidia-cuda-dev's headers under
    ``/usr/include`` (cuda.h, cuda_runtime.h, cuda_runtime_api.h, crt/...; paths from the
    Contents index, text a placeholder comment), and its ``libcudart.so`` dev link ->
    ``libcudart.so.11.0`` (Debian Policy 8.4: the -dev package's unversioned link).  Its other
    libraries (static archives, stubs, dev links of libraries not installed) are left out.
    Debian's toolkit has no version.json / version.txt anywhere.
    """
    records = fetch_records(TOOLKIT_PACKAGES)
    for package in TOOLKIT_PACKAGES:
        _unpack(records[package].files, root)
    version = records["nvidia-cuda-toolkit"].version
    for path in _contents("nvidia-cuda-dev"):
        if path.startswith("usr/include/"):
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(PLACEHOLDER.format(path="/" + path, version=version))
    _symlink("libcudart.so.11.0", root / f"usr/lib/{TRIPLET}/libcudart.so")
    return version
