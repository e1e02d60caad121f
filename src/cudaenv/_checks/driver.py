"""The NVIDIA driver: loaded at all, reachable by the loader, new enough, one version from
kernel to user space, forward compatibility used where it works, WSL left to Windows."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Optional

from .._knowledge.container_require import brands_of_model, disables_require, evaluate, requirements
from .._knowledge.drivers import (
    MVC_MIN_DRIVER,
    Compatibility,
    min_driver_for,
    parse_version,
)
from .._knowledge.gpus import code_runs_on, cuda_of_ptx_isa
from ..actions import Action, drop_path, prepend_path
from ..findings import Finding
from ..snapshot import DriverLibrary, Framework, Snapshot
from ._common import finding, quote
from ._gpu import (
    cuda_major,
    framework_label,
    gpu_frameworks,
    runs_on_driver,
    torch_install,
    wants_gpu,
)

__all__ = [
    "driver_library_mismatch",
    "driver_library_unreachable",
    "driver_missing",
    "driver_too_old",
    "forward_compat_misuse",
    "wsl_driver_inside",
]

WSL_LIBRARIES = "/usr/lib/wsl/lib"


def _as_minor(cuda: str) -> str:
    """``12`` → ``12.0``: a build known only by its major needs at least that major."""
    return cuda if "." in cuda else f"{cuda}.0"


def _driver_advice(cudas: list[str]) -> str:
    newest = max(cudas, key=parse_version)
    full = min_driver_for(_as_minor(newest))
    major = cuda_major(newest)
    mvc = MVC_MIN_DRIVER.get(major) if major is not None else None
    text = f"install an NVIDIA driver ≥ {full} (the driver of CUDA {newest})" if full else ""
    if mvc and full and parse_version(mvc) < parse_version(full):
        text += f"; any driver ≥ {mvc} runs CUDA {major} builds (minor-version compatibility)"
    return text or f"install an NVIDIA driver that supports CUDA {newest}"


def _ld_library_path_without(s: Snapshot, directory: str) -> str:
    keep = [d for d in s.libraries.ld_library_path if d != directory]
    return f"export LD_LIBRARY_PATH={quote(':'.join(keep))}" if keep else "unset LD_LIBRARY_PATH"


# -- driver-missing -----------------------------------------------------------------------------


def driver_missing(s: Snapshot) -> Iterator[Finding]:
    d = s.driver
    if d.loaded:
        return
    wanting = [f for f in gpu_frameworks(s) if wants_gpu(s, f)]
    container = d.container
    asked = container is not None and container.visible_devices is not None
    if not wanting and not asked:
        return
    evidence = ["/proc/driver/nvidia/version: absent (no NVIDIA kernel module is loaded)"]
    evidence += [f"needs a driver: {framework_label(f)}" for f in wanting[:4]]
    installed = [c for c in d.copies if not c.compat and not c.wsl and c.version]
    fixes: list[str] = []
    cudas = [f.cuda for f in wanting if f.cuda]
    if d.wsl:
        cause = (
            "This is WSL, and WSL's driver comes from Windows: /usr/lib/wsl/lib holds no "
            "libcuda, so the Windows NVIDIA driver is missing or too old for WSL 2."
        )
        fixes.append("install the current NVIDIA driver for Windows (it provides WSL's CUDA)")
        fixes.append("wsl --update, then wsl --shutdown and reopen the distribution")
        evidence += list(d.wsl_evidence)
    elif container is not None:
        evidence.append(f"{container.kind} container: {', '.join(container.markers) or 'env'}")
        if container.visible_devices is not None:
            evidence.append(f"NVIDIA_VISIBLE_DEVICES={container.visible_devices}")
        if container.visible_devices in ("void", "none", ""):
            cause = (
                f"This shell runs in a {container.kind} container whose NVIDIA_VISIBLE_DEVICES="
                f"{container.visible_devices!r} tells the NVIDIA runtime to expose no GPU, so "
                "no driver was mounted in."
            )
        else:
            cause = (
                f"This shell runs in a {container.kind} container started without GPU access: "
                "the NVIDIA container runtime mounts the host's driver (its kernel interface, "
                "libcuda, nvidia-smi) only into containers that ask for GPUs."
            )
        fixes += [
            (
                "on the host: install the NVIDIA Container Toolkit and its runtime hook "
                "(nvidia-ctk runtime configure), then restart the container engine"
            ),
            (
                "start the container with GPUs: docker run --gpus all … (compose: "
                "deploy.resources.reservations.devices with capabilities [gpu]; Kubernetes: "
                "resources.limits nvidia.com/gpu)"
            ),
        ]
    elif installed:
        copy = installed[0]
        cause = (
            f"The driver's libraries are installed (libcuda {copy.version}) but its kernel "
            "module is not loaded: typically Secure Boot refused the unsigned module, DKMS did "
            "not build it for the running kernel, or nouveau holds the GPU."
        )
        evidence.append(f"installed: {copy.path}")
        fixes += [
            "sudo modprobe nvidia   # then read the reason in: sudo dmesg | grep -i nvidia",
            "mokutil --sb-state   # Secure Boot on: enrol the module's key or sign it",
            "sudo dkms status   # no module for $(uname -r): reinstall the driver package",
        ]
    else:
        cause = "No NVIDIA driver is installed or loaded here."
        if cudas:
            fixes.append(_driver_advice(cudas))
        fixes.append("then reboot (or load it: sudo modprobe nvidia) and check with nvidia-smi")
    yield finding(
        "driver-missing",
        "No NVIDIA driver is loaded, so nothing here can use a GPU",
        f"{cause} CUDA calls fail ('Found no NVIDIA driver on your system', "
        "torch.cuda.is_available() is False).",
        evidence,
        fixes,
    )


# -- driver-library-unreachable -------------------------------------------------------------------


def _uses_cudnn8(s: Snapshot) -> Optional[str]:
    names = [o for t in s.libraries.trees for o in t.objects]
    names += list(s.libraries.opened_by_name)
    for obj in names:
        base = posixpath.basename(obj.name)
        if obj.path and re.match(r"libcudnn(_\w+)?\.so\.8$", base):
            return obj.path
    return None


def _reachable_fix(s: Snapshot, directory: str) -> list[str]:
    if directory == WSL_LIBRARIES:
        return [
            f"echo {WSL_LIBRARIES} | sudo tee /etc/ld.so.conf.d/ld.wsl.conf",
            "sudo ldconfig   # WSL copies its libraries; ldconfig must list them in the cache",
        ]
    return [
        f"echo {quote(directory)} | sudo tee /etc/ld.so.conf.d/nvidia-driver.conf",
        "sudo ldconfig",
        f"(for this shell only: export LD_LIBRARY_PATH={quote(directory)}"
        + (":$LD_LIBRARY_PATH" if s.libraries.ld_library_path else "")
        + ")",
    ]


def driver_library_unreachable(s: Snapshot) -> Iterator[Finding]:
    d = s.driver
    if not d.loaded or d.libcuda is None:
        return
    copies = [c for c in d.copies if not c.compat]
    if d.libcuda.path is None:
        evidence = [f"driver loaded: {d.version or 'WSL'} ({d.version_from or 'WSL'})"]
        evidence.append(
            "the loader tried for libcuda.so.1: "
            + (
                ", ".join(
                    f"{a.path} ({a.via}{'' if a.result == 'missing' else ', ' + a.result})"
                    for a in d.libcuda.tried[:6]
                )
                or "nothing"
            )
        )
        fixes: list[str] = []
        actions: list[Action] = []
        if copies:
            directory = posixpath.dirname(copies[0].path)
            actions.append(
                prepend_path("LD_LIBRARY_PATH", (directory,), "frameworks find the driver")
            )
            evidence.append(f"a copy outside the search path: {copies[0].path}")
            if not s.driver.wsl or directory != WSL_LIBRARIES:
                fixes.append(
                    f"sudo ln -s {posixpath.basename(copies[0].path)} "
                    f"{quote(posixpath.join(directory, 'libcuda.so.1'))}   # if the link is gone"
                )
            fixes += _reachable_fix(s, directory)
        elif d.container is not None:
            caps = d.container.driver_capabilities
            if caps is not None and not {"compute", "all"} & set(caps.split(",")):
                evidence.append(f"NVIDIA_DRIVER_CAPABILITIES={caps} (no 'compute')")
            fixes.append(
                "start the container with NVIDIA_DRIVER_CAPABILITIES=compute,utility (or all): "
                "the runtime then mounts libcuda"
            )
        else:
            branch = d.version.split(".")[0] if d.version else "<branch>"
            fixes.append(
                f"install the driver's user-space libraries for {d.version or 'this driver'} "
                f"(Debian/Ubuntu: libnvidia-compute-{branch}; RHEL: nvidia-driver-cuda-libs)"
            )
        yield finding(
            "driver-library-unreachable",
            "The driver is loaded, but the loader cannot find libcuda.so.1",
            "The kernel module is there, yet nothing a framework searches (RPATH/RUNPATH, "
            "LD_LIBRARY_PATH, the ld.so cache, the default directories) holds the driver's "
            "libcuda.so.1, so CUDA initialisation fails ('Found no NVIDIA driver', error 35 "
            "or 100).",
            evidence,
            fixes,
            actions=actions,
        )
        return
    cudnn8 = _uses_cudnn8(s)
    unversioned = d.libcuda_unversioned
    if cudnn8 and unversioned is not None and unversioned.path is None:
        directory = posixpath.dirname(d.libcuda.real or d.libcuda.path)
        fixes = (
            [
                f"export LD_LIBRARY_PATH={WSL_LIBRARIES}"
                + (":$LD_LIBRARY_PATH" if s.libraries.ld_library_path else "")
                + "   # in ~/.bashrc: WSL's libcuda.so is a copy, not a link, so ldconfig "
                "never caches that name"
            ]
            if directory == WSL_LIBRARIES
            else [
                f"sudo ln -s libcuda.so.1 {quote(posixpath.join(directory, 'libcuda.so'))}",
                "sudo ldconfig",
            ]
        )
        yield finding(
            "driver-library-unreachable",
            "cuDNN 8 opens libcuda.so, which the loader cannot find",
            "cuDNN 8 dlopen()s the unversioned libcuda.so (not libcuda.so.1); only driver "
            "development packages, WSL's /usr/lib/wsl/lib and the ld.so cache provide that "
            "name, and none does here: convolutions fail with 'Could not load library "
            "libcudnn_cnn_infer.so.8 … libcuda.so: cannot open shared object file'.",
            [
                f"cuDNN 8 in use: {cudnn8}",
                f"libcuda.so.1 → {d.libcuda.path} ({d.libcuda.via})",
                "the loader tried for libcuda.so: "
                + ", ".join(f"{a.path} ({a.via})" for a in unversioned.tried[:6]),
            ],
            fixes,
            actions=[prepend_path("LD_LIBRARY_PATH", (directory,), "cuDNN 8 finds libcuda.so")]
            if directory == WSL_LIBRARIES
            else [],
        )


# -- driver-library-mismatch ----------------------------------------------------------------------


def _mismatched(s: Snapshot) -> list[DriverLibrary]:
    d = s.driver
    found = []
    for lib in (d.libcuda, d.libnvidia_ml):
        if lib is None or not lib.path or not lib.version or lib.compat or lib.wsl or lib.stub:
            continue
        if d.version and lib.version != d.version:
            found.append(lib)
    return found


def driver_library_mismatch(s: Snapshot) -> Iterator[Finding]:
    d = s.driver
    if not d.loaded or not d.version:
        return
    libs = _mismatched(s)
    if not libs:
        return
    lib = libs[0]
    assert lib.version is not None
    assert lib.path is not None
    newer = parse_version(lib.version) > parse_version(d.version)
    fixes: list[str] = []
    if lib.via == "ld_library_path":
        fixes.append(_ld_library_path_without(s, posixpath.dirname(lib.path)))
    if newer:
        cause = (
            f"The user-space driver was upgraded to {lib.version} while the kernel still runs "
            f"module {d.version} (no reboot since the upgrade)."
        )
        fixes.append(
            "sudo reboot   # or unload and reload the modules: sudo rmmod nvidia_uvm "
            "nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia"
        )
        fixes.append(
            "keep unattended upgrades off the driver: sudo apt-mark hold the nvidia packages"
        )
    elif d.container is not None:
        cause = (
            f"This container carries driver libraries of its own ({lib.version}), older than "
            f"the host's kernel module {d.version}; the NVIDIA runtime would have mounted "
            "matching ones."
        )
        fixes.append(
            "remove the driver packages installed in the image (libnvidia-compute-*, "
            "nvidia-driver-*, cuda-drivers) and let the runtime mount the host's"
        )
    else:
        cause = (
            f"An older user-space driver ({lib.version}) is found before the one matching the "
            f"kernel module {d.version}."
        )
        fixes.append(
            f"remove the stale copy {lib.real or lib.path} (or reinstall the driver's "
            f"user-space packages at {d.version}), then sudo ldconfig"
        )
    yield finding(
        "driver-library-mismatch",
        f"libcuda {lib.version} does not match the loaded kernel module {d.version}",
        f"{cause} NVML then fails with 'Driver/library version mismatch' and CUDA with error "
        "803 ('system has unsupported display driver / cuda driver combination').",
        [f"kernel module: {d.version} ({d.version_from})"]
        + [f"{x.name} → {x.path} → {x.real} ({x.via})" for x in libs],
        fixes,
        actions=[drop_path("LD_LIBRARY_PATH", (posixpath.dirname(lib.path),), "the matching copy")]
        if lib.via == "ld_library_path"
        else [],
    )


# -- forward-compat-misuse ------------------------------------------------------------------------


def forward_compat_misuse(s: Snapshot) -> Iterator[Finding]:
    d = s.driver
    lib = d.libcuda
    if lib is None or not lib.path or not lib.compat:
        return
    reasons = []
    consumer = [g for g in s.gpus if g.forward_compat is False]
    if consumer:
        reasons.append(
            f"{consumer[0].model} is a consumer (GeForce/TITAN) board, where forward "
            "compatibility is not supported: CUDA fails with error 804 ('forward "
            "compatibility was attempted on non supported HW')"
        )
    if d.wsl:
        reasons.append("on WSL the driver is Windows'; a Linux compat libcuda cannot drive it")
    if d.version and lib.version and parse_version(lib.version) < parse_version(d.version):
        reasons.append(
            f"the compat libcuda {lib.version} is older than the kernel driver {d.version}: "
            "forward compatibility only runs a newer user-space driver on an older kernel "
            "driver; this pair fails with error 803"
        )
    if not reasons:
        return
    directory = posixpath.dirname(lib.path)
    fixes = []
    actions: list[Action] = []
    if lib.via == "ld_library_path":
        fixes.append(_ld_library_path_without(s, directory))
        actions.append(drop_path("LD_LIBRARY_PATH", (directory,), "the driver's own libcuda"))
    elif lib.via == "cache":
        fixes.append(f"remove {directory} from the files in /etc/ld.so.conf.d/, then sudo ldconfig")
    fixes.append(
        "uninstall the forward-compatibility package (apt/dnf: cuda-compat-X-Y; conda: "
        "cuda-compat) unless this is a data-center or Jetson GPU on an older driver"
    )
    fixes.append("for a newer CUDA on this GPU, upgrade the driver itself")
    yield finding(
        "forward-compat-misuse",
        "CUDA forward-compatibility libraries are used where they cannot work",
        "The loader picks libcuda from a CUDA forward-compatibility package "
        f"({lib.real or lib.path}), but " + "; and ".join(reasons) + ".",
        [f"libcuda.so.1 → {lib.path} ({lib.via}), compat {lib.version or '?'}"]
        + [f"kernel module: {d.version}" if d.version else ""]
        + [f"GPU: {g.model}" for g in s.gpus[:2]],
        fixes,
        actions=actions,
    )


# -- driver-too-old -------------------------------------------------------------------------------


def _jit_gaps(s: Snapshot, f: Framework) -> list[str]:
    """PTX this driver would have to JIT for a GPU, from a newer toolkit than it knows."""
    if not s.driver.cuda:
        return []
    gaps = []
    for code in f.gpu_code:
        if code.error or not code.ptx_isa:
            continue
        made_by = cuda_of_ptx_isa(code.ptx_isa)
        if made_by is None or parse_version(made_by) <= parse_version(s.driver.cuda):
            continue
        for gpu in s.gpus:
            cc = gpu.capability
            if cc is None or any(code_runs_on(c, cc) for c in code.sass):
                continue
            if any(code_runs_on(c, cc) for c in code.ptx):
                gaps.append(
                    f"{posixpath.basename(code.path)} has no SASS for {gpu.model} ({cc}), only "
                    f"PTX ISA {code.ptx_isa} (CUDA {made_by}), newer than the driver's CUDA "
                    f"{s.driver.cuda}: the JIT fails with error 222"
                )
    return gaps


def driver_too_old(s: Snapshot) -> Iterator[Finding]:
    d = s.driver
    if not d.loaded or not d.version or not d.cuda:
        return
    problems: list[str] = []
    cudas: list[str] = []
    torch_too_new = None
    for f in gpu_frameworks(s):
        assert f.cuda is not None  # gpu_frameworks filters
        verdict = runs_on_driver(s, _as_minor(f.cuda))
        if verdict == Compatibility.TOO_OLD:
            problems.append(f"{framework_label(f)} needs a CUDA {cuda_major(f.cuda)} driver")
            cudas.append(f.cuda)
            if f.name == "torch":
                torch_too_new = f
        else:
            jit = _jit_gaps(s, f)
            problems += jit
            if jit:
                cudas.append(f.cuda)
    names = {f.name for f in s.frameworks}
    if names & {"numba", "numba-cuda"}:
        for toolkit in s.toolkits:
            own = toolkit.root == s.target.prefix or toolkit.source == "pip"
            # Numba compiles with NVVM: only a toolkit that ships it (nvvm/ with libdevice)
            # is one Numba compiles with; runtime wheels alone are not
            nvvm = toolkit.nvcc_version or toolkit.version  # NVVM ships with the compiler
            if not own or not nvvm or not toolkit.exists or not toolkit.libdevice:
                continue
            if parse_version(nvvm)[:2] > parse_version(d.cuda)[:2]:
                problems.append(
                    f"Numba compiles kernels with the NVVM of CUDA {nvvm} "
                    f"({toolkit.root}); the driver (CUDA {d.cuda}) cannot JIT its PTX: "
                    "error 222 'the provided PTX was compiled with an unsupported toolchain'"
                )
                cudas.append(nvvm)
                break
    if s.target_env is not None:
        for package in s.target_env.conda_packages:
            if package.name not in ("cuda-version", "cudatoolkit"):
                continue
            built = ".".join(package.version.split(".")[:2])
            if runs_on_driver(s, _as_minor(built)) == Compatibility.TOO_OLD:
                problems.append(
                    f"conda {package.name} {package.version} is CUDA {built}; the driver "
                    f"supports CUDA {d.cuda}"
                )
                cudas.append(built)
    container = d.container
    if container is not None and not disables_require(s.environ.get("NVIDIA_DISABLE_REQUIRE")):
        gpus = [(g.capability, brands_of_model(g.model)) for g in s.gpus]
        for variable, constraint in requirements(s.environ):
            verdict = evaluate(constraint, cuda=d.cuda, driver=d.version, gpus=gpus)
            if verdict != "refused":
                continue  # one alternative holds (or the files cannot tell): it starts
            problems.append(
                f"the image requires {variable}={constraint}; no alternative holds for driver "
                f"{d.version} (CUDA {d.cuda}), so nvidia-container-cli refuses to start it"
            )
            match = re.search(r"cuda>=(\d+\.\d+)", constraint)
            if match:
                cudas.append(match.group(1))
    for choice in s.toolkit_choices:
        if choice.consumer != "torch" or not choice.root:
            continue
        chosen = next((t for t in s.toolkits if t.root == choice.root), None)
        version = (chosen.nvcc_version or chosen.version) if chosen else None
        series = ".".join(version.split(".")[:2]) if version else None
        if series and runs_on_driver(s, _as_minor(series)) == Compatibility.TOO_OLD:
            problems.append(
                f"programs built with the toolkit builds use ({choice.root}, CUDA {version}) "
                f"need a newer driver than CUDA {d.cuda}'s"
            )
            cudas.append(series)
    if not problems:
        return
    fixes = [_driver_advice(cudas)]
    install = torch_install(s, torch_too_new) if torch_too_new is not None else None
    if install:
        fixes.append(f"or keep this driver and install a torch it runs: {install}")
    yield finding(
        "driver-too-old",
        f"The NVIDIA driver {d.version} (CUDA {d.cuda}) is too old for what is installed",
        "The driver supports CUDA up to its own version, and newer minor versions of the same "
        "major only by minor-version compatibility (which cannot JIT newer PTX). Here "
        + problems[0]
        + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        + ". torch reports 'The NVIDIA driver on your system is too old (found version "
        + f"{parse_version(d.cuda)[0] * 1000 + parse_version(d.cuda)[1] * 10})'.",
        [f"driver {d.version} ({d.version_from}) supports CUDA {d.cuda}", *problems],
        fixes,
    )


# -- wsl-driver-inside ----------------------------------------------------------------------------


def wsl_driver_inside(s: Snapshot) -> Iterator[Finding]:
    d = s.driver
    if not d.wsl:
        return
    inside = [c for c in d.copies if not c.wsl and not c.compat]
    lib = d.libcuda
    picked = lib is not None and lib.path and not lib.wsl and not lib.compat and not lib.stub
    if not inside and not picked:
        return
    evidence = [*d.wsl_evidence]
    evidence += [f"a Linux driver's libcuda: {c.path}" for c in inside[:3]]
    if lib is not None and picked:
        evidence.append(f"libcuda.so.1 → {lib.path} ({lib.via}), before {WSL_LIBRARIES}")
    yield finding(
        "wsl-driver-inside",
        "A Linux NVIDIA driver is installed inside WSL",
        "On WSL 2 the GPU driver is the Windows one, reached through /usr/lib/wsl/lib. A Linux "
        "driver's libcuda inside the distribution shadows it, and CUDA fails (error 100 'no "
        "CUDA-capable device is detected', or 999).",
        evidence,
        [
            "sudo apt-get remove --purge '^nvidia-driver-.*' '^libnvidia-.*' cuda-drivers",
            (
                "install CUDA in WSL only from NVIDIA's wsl-ubuntu repository (cuda-toolkit-X-Y, "
                "which has no driver)"
            ),
            "sudo ldconfig",
        ],
    )
