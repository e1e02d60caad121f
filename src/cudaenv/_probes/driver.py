"""The NVIDIA driver and the GPUs, from the files a real driver leaves (docs/worlds.md rule 3).

* the kernel module: ``/proc/driver/nvidia/version`` (present only while it is loaded; the
  proprietary module writes "Kernel Module  535.104.05", the open one "Open Kernel Module for
  x86_64  575.57.08") and ``/sys/module/nvidia/version``; Jetson's ``/etc/nv_tegra_release``;
* user space: ``libcuda.so.1`` and ``libnvidia-ml.so.1`` as the loader finds them from the
  target interpreter (the library probe resolves them), and every ``libcuda.so.<version>`` in a
  directory the loader may search — forward-compatibility copies included;
* WSL (``/usr/lib/wsl/lib``, the kernel release, WSL_* variables) and containers
  (``/.dockerenv``, ``/run/.containerenv``, the NVIDIA container runtime's variables);
* GPUs: ``/proc/driver/nvidia/gpus/<pci>/information``, model → compute capability by table.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import Optional

from .._host import Host
from .._knowledge.container_require import disables_require
from .._knowledge.drivers import cuda_of_driver
from .._knowledge.gpus import capability_of_model, forward_compat_supported
from .._records import record_fields
from ..snapshot import (
    Container,
    Driver,
    DriverCopy,
    DriverLibrary,
    Environment,
    Gpu,
    Libraries,
    LoadedLibrary,
)

__all__ = ["driver_facts", "driver_module", "gpus"]

PROC_VERSION = "/proc/driver/nvidia/version"
SYS_VERSION = "/sys/module/nvidia/version"
PROC_GPUS = "/proc/driver/nvidia/gpus"
WSL_LIBRARIES = "/usr/lib/wsl/lib"
TEGRA_RELEASE = "/etc/nv_tegra_release"

_MODULE_VERSION = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)")
_ANY_VERSION = re.compile(r"\b(\d{3}\.\d+(?:\.\d+)?)\b")
_LIBCUDA_FILE = re.compile(r"^libcuda\.so\.(\d+(?:\.\d+)+)$")
_DRIVER_DIRS = (
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu/nvidia",
    "/usr/lib/aarch64-linux-gnu/tegra",
    "/usr/local/nvidia/lib",
    "/usr/local/nvidia/lib64",
    WSL_LIBRARIES,
)


def _module_version(host: Host) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(version, flavor, source) of the loaded kernel module."""
    text = host.read_text(PROC_VERSION, limit=4096)
    if text is not None:
        first = text.splitlines()[0] if text.strip() else ""
        match = _MODULE_VERSION.search(first) or _ANY_VERSION.search(first)
        flavor = "open" if "Open Kernel Module" in first else "proprietary"
        return (match.group(1) if match else None), flavor, PROC_VERSION
    return None, None, None


def _is_compat(path: str, env: Optional[Environment]) -> bool:
    if "/compat/" in path + "/" or "/cuda-compat/" in path + "/":
        return True
    if env is not None and path.startswith(env.prefix + "/"):
        return any(p.name in ("cuda-compat", "cuda-compat-impl") for p in env.conda_packages)
    return False


def _library_version(real: Optional[str]) -> Optional[str]:
    if real is None:
        return None
    match = _LIBCUDA_FILE.match(posixpath.basename(real)) or re.match(
        r"^libnvidia-ml\.so\.(\d+(?:\.\d+)+)$", posixpath.basename(real)
    )
    if match is None:
        return None
    version = match.group(1)
    return version if int(version.split(".")[0]) >= 100 else None  # WSL's libcuda.so.1.1


def _driver_library(
    host: Host, loaded: Optional[LoadedLibrary], env: Optional[Environment]
) -> Optional[DriverLibrary]:
    if loaded is None:
        return None
    real = host.resolve(loaded.path) if loaded.path else None
    path = loaded.path or ""
    return DriverLibrary(
        name=loaded.name,
        path=loaded.path,
        via=loaded.via,
        real=real,
        version=_library_version(real),
        compat=bool(loaded.path) and (_is_compat(path, env) or _is_compat(real or "", env)),
        stub=loaded.stub,
        wsl=path.startswith(WSL_LIBRARIES + "/"),
        tried=loaded.tried,
    )


def _search_dirs(
    host: Host,
    libraries: Libraries,
    env: Optional[Environment],
    conf_dirs: Sequence[tuple[str, str]],
) -> list[str]:
    dirs = list(libraries.ld_library_path)
    dirs += [directory for _, directory in conf_dirs]
    dirs += list(_DRIVER_DIRS)
    for base in ("/usr/local",):
        for name in host.listdir(base):
            if name.startswith("cuda"):
                dirs.append(posixpath.join(base, name, "compat"))
    if env is not None:
        dirs += [posixpath.join(env.prefix, "cuda-compat"), posixpath.join(env.prefix, "lib")]
    seen: set[str] = set()
    unique = []
    for directory in dirs:
        key = host.resolve(directory)
        if key is not None and key not in seen and host.is_dir(directory):
            seen.add(key)
            unique.append(directory)
    return unique


def _libcuda_files(names: list[str]) -> tuple[str, ...]:
    return tuple(n for n in names if _LIBCUDA_FILE.match(n))


def _copies(host: Host, dirs: list[str], env: Optional[Environment]) -> tuple[DriverCopy, ...]:
    copies = []
    for directory in dirs:
        for name in host.listdir_parsed(directory, "libcuda-files", _libcuda_files) or ():
            match = _LIBCUDA_FILE.match(name)
            assert match is not None  # kept by _libcuda_files
            path = posixpath.join(directory, name)
            if host.is_link(path) or not host.is_file(path):
                continue  # libcuda.so.1 → libcuda.so.535.104.05: the link is not a copy
            version = match.group(1)
            wsl = directory == WSL_LIBRARIES
            copies.append(
                DriverCopy(
                    path=path,
                    version=version if int(version.split(".")[0]) >= 100 else None,
                    compat=_is_compat(path, env),
                    wsl=wsl,
                )
            )
    return tuple(copies)


def _wsl(host: Host) -> tuple[str, ...]:
    evidence = []
    for name in ("/proc/sys/kernel/osrelease", "/proc/version"):
        text = host.read_text(name, limit=4096)
        if text and re.search(r"microsoft|WSL", text, re.IGNORECASE):
            evidence.append(f"{name}: {text.strip().splitlines()[0][:80]}")
            break
    for variable in ("WSL_DISTRO_NAME", "WSL_INTEROP"):
        if host.env(variable):
            evidence.append(f"{variable}={host.env(variable)}")
    if any(n.startswith("libcuda.so") for n in host.listdir(WSL_LIBRARIES)):
        evidence.append(f"{WSL_LIBRARIES} holds WSL's libcuda")
    return tuple(evidence)


def _container(host: Host) -> Optional[Container]:
    markers = tuple(m for m in ("/.dockerenv", "/run/.containerenv") if host.exists(m))
    env_markers = tuple(
        v for v in ("NVIDIA_VISIBLE_DEVICES", "NVIDIA_REQUIRE_CUDA") if host.env(v) is not None
    )
    kubernetes = host.env("KUBERNETES_SERVICE_HOST") is not None
    if not markers and not env_markers and not kubernetes:
        return None
    if "/.dockerenv" in markers:
        kind = "docker"
    elif markers:
        kind = "podman"
    elif kubernetes:
        kind = "kubernetes"
    else:
        kind = "container"
    disable = disables_require(host.env("NVIDIA_DISABLE_REQUIRE"))
    return Container(
        kind=kind,
        markers=markers + (("KUBERNETES_SERVICE_HOST",) if kubernetes else ()),
        visible_devices=host.env("NVIDIA_VISIBLE_DEVICES"),
        driver_capabilities=host.env("NVIDIA_DRIVER_CAPABILITIES"),
        require_cuda=host.env("NVIDIA_REQUIRE_CUDA"),
        disable_require=disable,
        image_cuda=host.env("CUDA_VERSION"),
    )


def driver_module(host: Host) -> Driver:
    """What does not depend on the environment: the kernel module, WSL, the container."""
    version, flavor, source = _module_version(host)
    sys_text = host.read_text(SYS_VERSION, limit=256)
    sys_version = sys_text.strip() or None if sys_text is not None else None
    loaded = source is not None or sys_version is not None
    if version is None and sys_version is not None:
        version, source = sys_version, SYS_VERSION
        flavor = flavor or "unknown"
    if not loaded and host.exists(TEGRA_RELEASE):
        loaded, flavor, source = True, "tegra", TEGRA_RELEASE
    wsl_evidence = _wsl(host)
    wsl_dir = WSL_LIBRARIES if any("holds WSL" in e for e in wsl_evidence) else None
    wsl = bool(wsl_evidence)
    if wsl and wsl_dir is not None:
        loaded = True  # WSL's driver lives in Windows: no /proc/driver/nvidia
        flavor = flavor or "wsl"
    return Driver(
        loaded=loaded,
        version=version,
        version_from=source if version else None,
        flavor=flavor,
        sys_module_version=sys_version,
        cuda=cuda_of_driver(version) if version else None,
        cuda_from="driver branch table" if version else "unknown",
        wsl=wsl,
        wsl_libraries=wsl_dir,
        wsl_evidence=wsl_evidence,
        container=_container(host),
    )


def driver_facts(
    host: Host,
    module: Driver,
    libraries: Libraries,
    env: Optional[Environment],
    conf_dirs: Sequence[tuple[str, str]],
) -> Driver:
    """``module`` completed with the driver libraries the environment's Python would load."""
    by_name = {o.name: o for o in libraries.opened_by_name}
    fields = {name: getattr(module, name) for name in record_fields(Driver)}
    fields.update(
        libcuda=_driver_library(host, by_name.get("libcuda.so.1"), env),
        libcuda_unversioned=_driver_library(host, by_name.get("libcuda.so"), env),
        libnvidia_ml=_driver_library(host, by_name.get("libnvidia-ml.so.1"), env),
        copies=_copies(host, _search_dirs(host, libraries, env, conf_dirs), env),
    )
    return Driver(**fields)


def gpus(host: Host) -> tuple[Gpu, ...]:
    found = []
    for pci in sorted(host.listdir(PROC_GPUS)):
        source = posixpath.join(PROC_GPUS, pci, "information")
        text = host.read_text(source, limit=1 << 14)
        if text is None:
            continue
        fields = {}
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        model = fields.get("model") or None
        capability = capability_of_model(model) if model else None
        found.append(
            Gpu(
                pci=pci,
                model=model,
                capability=capability,
                capability_from="model table" if capability else "unknown",
                forward_compat=forward_compat_supported(model) if model else None,
                uuid=fields.get("gpu uuid") or None,
                source=source,
            )
        )
    return tuple(found)
