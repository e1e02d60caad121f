"""``--live``: ask the driver and the frameworks themselves, each in a child process.

Only when the user asks, and only on the live machine.  Nothing here runs in cudaenv's own
process: the driver is loaded by a child (``python -I``, ctypes only: ``cuDriverGetVersion``,
``cuInit``, the devices and NVML's driver version), and each framework is imported by the
*target* interpreter in a child of its own, with the user's environment and working directory,
so its answer is the one the user's own ``import`` would get.  Every child has a timeout; one
that hangs or crashes becomes a result with an error, never a stuck or failed diagnosis.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from ..snapshot import Gpu, LiveCheck

__all__ = ["FRAMEWORK_SUBJECTS", "live_driver", "live_frameworks", "merge_gpus"]

DRIVER_SCRIPT = r"""
import ctypes, json
out = {}
def text(lib, code):
    name = ctypes.c_char_p()
    try:
        lib.cuGetErrorName(code, ctypes.byref(name))
    except AttributeError:
        return str(code)
    return "%s (%d)" % ((name.value or b"?").decode(), code)
try:
    cuda = ctypes.CDLL("libcuda.so.1")
except OSError as e:
    out["error"] = str(e)
else:
    version = ctypes.c_int()
    if cuda.cuDriverGetVersion(ctypes.byref(version)) == 0:
        out["cuda_version"] = "%d.%d" % (version.value // 1000, version.value % 1000 // 10)
    status = cuda.cuInit(0)
    if status != 0:
        out["error"] = "cuInit: " + text(cuda, status)
    else:
        count = ctypes.c_int()
        cuda.cuDeviceGetCount(ctypes.byref(count))
        devices = []
        for index in range(count.value):
            device = ctypes.c_int()
            cuda.cuDeviceGet(ctypes.byref(device), index)
            name = ctypes.create_string_buffer(256)
            cuda.cuDeviceGetName(name, 256, device)
            major, minor = ctypes.c_int(), ctypes.c_int()
            cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, device)
            cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, device)
            devices.append({"name": name.value.decode(errors="replace"),
                            "capability": "%d.%d" % (major.value, minor.value)})
        out["devices"] = devices
try:
    nvml = ctypes.CDLL("libnvidia-ml.so.1")
    if nvml.nvmlInit_v2() == 0:
        buffer = ctypes.create_string_buffer(96)
        if nvml.nvmlSystemGetDriverVersion(buffer, 96) == 0:
            out["driver_version"] = buffer.value.decode()
        nvml.nvmlShutdown()
except (OSError, AttributeError) as e:
    out["nvml_error"] = str(e)
print(json.dumps(out))
"""

FRAMEWORK_SCRIPT = r"""
import json, sys, warnings
name = sys.argv[1]
out = {}
def first_line(e):
    return ("%s: %s" % (type(e).__name__, e)).splitlines()[0][:400]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out["stage"] = "import"
    try:
        __import__(name)
        out["stage"] = "use"
        if name == "torch":
            import torch
            out["version"] = torch.__version__
            out["cuda"] = torch.version.cuda
            out["available"] = bool(torch.cuda.is_available())
            if out["available"]:
                out["arch_list"] = torch.cuda.get_arch_list()
                out["devices"] = [
                    {"name": torch.cuda.get_device_name(i),
                     "capability": "%d.%d" % torch.cuda.get_device_capability(i)}
                    for i in range(torch.cuda.device_count())]
                try:
                    (torch.ones(8, device="cuda") * 2).sum().item()
                    out["kernel"] = "ok"
                except Exception as e:
                    out["kernel"] = first_line(e)
        elif name == "cupy":
            import cupy
            out["version"] = cupy.__version__
            runtime = cupy.cuda.runtime
            out["cuda"] = runtime.runtimeGetVersion()
            out["driver"] = runtime.driverGetVersion()
            out["available"] = runtime.getDeviceCount() > 0
            if out["available"]:
                try:
                    (cupy.arange(8) * 2).sum().item()
                    out["kernel"] = "ok"
                except Exception as e:
                    out["kernel"] = first_line(e)
        elif name == "jax":
            import jax
            out["version"] = jax.__version__
            out["backend"] = jax.default_backend()
            out["devices"] = [str(d) for d in jax.devices()]
            out["available"] = out["backend"] == "gpu"
        elif name == "tensorflow":
            import tensorflow as tf
            out["version"] = tf.__version__
            info = tf.sysconfig.get_build_info()
            out["cuda"] = info.get("cuda_version")
            out["cudnn"] = info.get("cudnn_version")
            out["available"] = bool(tf.config.list_physical_devices("GPU"))
    except BaseException as e:
        out["error"] = first_line(e)
out["warnings"] = [str(w.message).splitlines()[0][:400] for w in caught][:5]
print(json.dumps(out, default=str))
"""

FRAMEWORK_SUBJECTS = (
    ("torch", ("torch",)),
    ("cupy", ("cupy", "cupy-cuda11x", "cupy-cuda12x", "cupy-cuda13x")),
    ("jax", ("jax",)),
    ("tensorflow", ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly")),
)
"""Live subject → the distributions whose presence makes it worth asking."""


def _finish(
    subject: str, child: subprocess.Popen[str], started: float, deadline: float
) -> LiveCheck:
    try:
        stdout, stderr = child.communicate(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return LiveCheck(
            subject,
            ok=False,
            seconds=round(time.monotonic() - started, 3),
            error=f"no answer within {deadline - started:.0f} s (killed)",
        )
    seconds = round(time.monotonic() - started, 3)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (stderr.strip().splitlines() or [f"exit status {child.returncode}"])[-1]
        return LiveCheck(subject, ok=False, seconds=seconds, error=tail[:400])
    try:
        answer: dict[str, Any] = json.loads(lines[-1])
    except ValueError:
        return LiveCheck(subject, ok=False, seconds=seconds, error="unreadable answer")
    error = answer.pop("error", None)
    return LiveCheck(subject, ok=error is None, seconds=seconds, error=error, answer=answer)


def _start(
    command: Sequence[str], environ: Mapping[str, str], cwd: Optional[str]
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(environ),
        cwd=cwd,
    )


def live_driver(environ: Mapping[str, str], timeout: float) -> LiveCheck:
    """The driver's own answer, from a child of cudaenv's interpreter (isolated mode)."""
    started = time.monotonic()
    try:
        child = _start([sys.executable, "-I", "-c", DRIVER_SCRIPT], environ, None)
    except OSError as exc:
        return LiveCheck("driver", ok=False, error=f"could not start: {exc.strerror}")
    return _finish("driver", child, started, started + timeout)


def live_frameworks(
    python: Optional[str],
    subjects: Sequence[str],
    environ: Mapping[str, str],
    cwd: Optional[str],
    timeout: float,
) -> tuple[LiveCheck, ...]:
    """Each framework imported by the target interpreter, all children running at once."""
    if not subjects:
        return ()
    if python is None:
        return tuple(
            LiveCheck(s, ok=False, error="no target interpreter to import it with")
            for s in subjects
        )
    started = time.monotonic()
    children: list[tuple[str, Optional[subprocess.Popen[str]], Optional[str]]] = []
    for subject in subjects:
        try:
            children.append(
                (subject, _start([python, "-c", FRAMEWORK_SCRIPT, subject], environ, cwd), None)
            )
        except OSError as exc:
            children.append((subject, None, exc.strerror or "could not start"))
    results = []
    for subject, child, failure in children:
        if child is None:
            results.append(LiveCheck(subject, ok=False, error=f"could not start: {failure}"))
        else:
            results.append(_finish(subject, child, started, started + timeout))
    return tuple(results)


def merge_gpus(gpus: tuple[Gpu, ...], driver: LiveCheck) -> tuple[Gpu, ...]:
    """GPUs the driver reported that the files did not list (a container without
    /proc/driver/nvidia/gpus), and the driver's capability where the model table had none."""
    devices = driver.answer.get("devices") or []
    if not isinstance(devices, list):
        return gpus
    merged = list(gpus)
    for index, device in enumerate(devices):
        if not isinstance(device, dict):
            continue
        name, capability = str(device.get("name", "")), device.get("capability")
        if index < len(merged):
            known = merged[index]
            if known.capability is None and isinstance(capability, str):
                merged[index] = Gpu(
                    pci=known.pci,
                    model=known.model or name,
                    capability=capability,
                    capability_from="cuda driver",
                    forward_compat=known.forward_compat,
                    uuid=known.uuid,
                    source=known.source,
                )
        elif isinstance(capability, str):
            merged.append(
                Gpu(
                    pci=f"cuda:{index}",
                    model=name,
                    capability=capability,
                    capability_from="cuda driver",
                    source="cuDeviceGetName (--live)",
                )
            )
    return tuple(merged)
