"""Real PyPI data for the tests: what pip resolves, what the wheels hold, read offline.

Everything under ``tests/data/real/pypi`` is made by ``python tests/kit_pypi.py refresh`` from
the network and nothing else, so that no value in it is written from memory:

- ``closures/<slug>.json``: the dependency closure ``pip install --dry-run --report`` chose for
  one requirement set on Linux x86_64, CPython 3.11 (name, version, Requires-Dist,
  Requires-Python, the wheel's file name and sha256 of every distribution);
- ``records.json``: the file paths of the RECORD of the NVIDIA and framework wheels in those
  closures (by wheel sha256; long RECORDs cut to libraries, programs and version files);
- ``members/SOURCES.json`` and ``members/site-packages/<wheel>/<member>``: small files of the
  wheels, byte for byte (kept under a ``site-packages`` folder, which ruff and mypy skip);
- ``elf/<wheel>/<member>.json``: the dynamic section (DT_NEEDED, DT_RPATH, DT_RUNPATH,
  DT_SONAME) and the ``lib*.so*`` strings of shared objects inside the wheels.

Wheels are never downloaded whole: files.pythonhosted.org answers HTTP range requests, so the
zip's central directory and then one member are read (``zipfile`` on a range-reading file).
The loaders (``closures``, ``closure``, ``member``, ``members``, ``elf``, ``elf_keys``) use the
standard library only and no network.
"""

from __future__ import annotations

import base64
import concurrent.futures
import csv
import datetime as dt
import fnmatch
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from typing import Any, Optional

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "real", "pypi")
CLOSURES = os.path.join(DATA, "closures")
RECORDS = os.path.join(DATA, "records.json")
MANIFEST = os.path.join(DATA, "MANIFEST.json")
MEMBERS = os.path.join(DATA, "members")
MEMBER_FILES = os.path.join(MEMBERS, "site-packages")
SOURCES = os.path.join(MEMBERS, "SOURCES.json")
ELF = os.path.join(DATA, "elf")

INDEX = "https://pypi.org/simple"
JSON_API = "https://pypi.org/pypi"
USER_AGENT = "cudaenv-test-kit (+https://github.com/cudaenv/cudaenv)"

# slug -> the requirements given to one `pip install --dry-run --report` (one resolution).
SPECS: dict[str, tuple[str, ...]] = {
    "torch-1.13.1": ("torch==1.13.1",),
    "torch-2.1.2": ("torch==2.1.2",),
    "torch-2.4.1": ("torch==2.4.1",),
    "torch-2.4.1-torchvision-0.19.1": ("torch==2.4.1", "torchvision==0.19.1"),
    "torch-2.7.1": ("torch==2.7.1",),
    "torch-2.8.0": ("torch==2.8.0",),
    "torch-latest": ("torch",),
    "jax-cuda12-0.4.30": ("jax[cuda12]==0.4.30",),
    "jax-cuda12-latest": ("jax[cuda12]",),
    "tensorflow-2.12.0": ("tensorflow==2.12.0",),
    "tensorflow-and-cuda-2.15.1": ("tensorflow[and-cuda]==2.15.1",),
    "tensorflow-and-cuda-latest": ("tensorflow[and-cuda]",),
    "tensorflow-latest": ("tensorflow",),
    "cupy-cuda12x-13.3.0": ("cupy-cuda12x==13.3.0",),
    "cupy-cuda12x-latest": ("cupy-cuda12x",),
    "cupy-cuda12x-ctk-latest": ("cupy-cuda12x[ctk]",),
    "vllm-latest": ("vllm",),
    "vllm-0.10.1.1": ("vllm==0.10.1.1",),  # the last vllm on torch 2.7.1 (CUDA 12.6 wheels)
    "numba-nvidia-cuda-nvcc-cu12": ("numba", "nvidia-cuda-nvcc-cu12"),
}
# What pip itself accepts on a glibc 2.28 x86_64 machine: every manylinux_2_x up to 2_28, and
# manylinux2014 (which pip widens to manylinux2010 and manylinux1). Naming only 2_17, 2014 and
# 2_28 is not enough: wheels tagged manylinux_2_27 alone (nvidia-cudnn-cu12 9.10, jaxlib 0.6+,
# tensorflow 2.21) are then refused, torch 2.8.0 fails and "newest" resolves to old releases.
PLATFORMS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(28, 4, -1)),
    "manylinux2014_x86_64",
)
PIP_OPTIONS = (
    "install",
    "--dry-run",
    "--quiet",
    "--ignore-installed",
    "--report",
    "report.json",
    "--index-url",
    INDEX,
    "--only-binary=:all:",
    "--python-version",
    "3.11",
    *(word for platform in PLATFORMS for word in ("--platform", platform)),
    "--target",
    "target",
)
# Environment variables pip may keep from this machine: everything else PIP_* is dropped.
PIP_ENV_KEPT = ("PIP_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_DISABLE_PIP_VERSION_CHECK")

# Whose RECORD is kept: every nvidia-* distribution and these.
RECORD_OF = frozenset(
    {
        "torch",
        "torchvision",
        "triton",
        "jaxlib",
        "jax-cuda12-plugin",
        "jax-cuda12-pjrt",
        "cupy-cuda12x",
        "tensorflow",
        "vllm",
        "torchaudio",
        "cuda-bindings",
        "cuda-pathfinder",
        "cuda-toolkit",
    }
)
RECORD_ALL_UP_TO = 300  # a RECORD this long is kept whole; a longer one only by RECORD_KEEP
RECORD_KEEP = (
    "*.dist-info/*",
    "*.so*",
    "*/bin/*",
    "*/include/cuda*.h",
    "*version*",
    "*.json",
    "*build_info.py",
)
ELF_MAX_COMPRESSED = 40 * 1024 * 1024  # shared objects read for their dynamic section
SO_STRING = re.compile(rb"lib[A-Za-z0-9_+-]*\.so(?:\.[0-9]+)*")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- loaders (offline)


@dataclass(frozen=True)
class Dist:
    """One distribution of a closure, as pip's report and the wheel's RECORD gave it."""

    name: str
    version: str
    requires_dist: tuple[str, ...]
    requires_python: Optional[str]
    wheel: str
    sha256: str
    record: tuple[str, ...] = ()

    def metadata_text(self) -> str:
        """A METADATA file (core metadata 2.1) of the real name, version and requirements."""
        lines = ["Metadata-Version: 2.1", f"Name: {self.name}", f"Version: {self.version}"]
        if self.requires_python is not None:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines.extend(f"Requires-Dist: {requirement}" for requirement in self.requires_dist)
        return "\n".join(lines) + "\n"

    @property
    def key(self) -> str:
        """The normalized project name (PEP 503)."""
        return _normalize(self.name)


def _load_json(path: str) -> Any:
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def closures() -> list[str]:
    """The slugs of the closures on disk (failed resolutions have none)."""
    if not os.path.isdir(CLOSURES):
        return []
    return sorted(name[: -len(".json")] for name in os.listdir(CLOSURES) if name.endswith(".json"))


def closure_document(name: str) -> dict[str, Any]:
    """The whole closure file: slug, spec, command, pip version, date and items."""
    document: dict[str, Any] = _load_json(os.path.join(CLOSURES, f"{name}.json"))
    return document


def records() -> dict[str, dict[str, Any]]:
    """wheel sha256 -> {"wheel", "entries" (RECORD lines), "filtered", "paths"}."""
    if not os.path.isfile(RECORDS):
        return {}
    loaded: dict[str, dict[str, Any]] = _load_json(RECORDS)
    return loaded


def closure(name: str) -> list[Dist]:
    """The distributions pip chose for the closure ``name`` (see ``closures()``), by name."""
    kept = records()
    dists = []
    for item in closure_document(name)["items"]:
        record = kept.get(item["sha256"], {}).get("paths", [])
        dists.append(
            Dist(
                name=item["name"],
                version=item["version"],
                requires_dist=tuple(item["requires_dist"]),
                requires_python=item["requires_python"],
                wheel=item["wheel"],
                sha256=item["sha256"],
                record=tuple(record),
            )
        )
    return dists


def members() -> dict[str, dict[str, Any]]:
    """``<wheel file name>/<member path>`` -> url, wheel_sha256, member, sha256, size."""
    if not os.path.isfile(SOURCES):
        return {}
    loaded: dict[str, dict[str, Any]] = _load_json(SOURCES)
    return loaded


def member(key: str) -> bytes:
    """The exact bytes of a kept wheel member; key is ``<wheel file name>/<member path>``."""
    if key not in members():
        raise KeyError(key)
    with open(os.path.join(MEMBER_FILES, key), "rb") as file:
        return file.read()


def elf_keys() -> list[str]:
    """The ``<wheel file name>/<member path>`` of every shared object read for its ELF facts."""
    keys = []
    for directory, _, files in os.walk(ELF):
        for name in files:
            if name.endswith(".json"):
                path = os.path.relpath(os.path.join(directory, name), ELF)
                keys.append(path[: -len(".json")])
    return sorted(keys)


def elf(key: str) -> dict[str, Any]:
    """{"needed", "rpath", "runpath", "soname", "so_strings", "source"} of a wheel's member."""
    loaded: dict[str, Any] = _load_json(os.path.join(ELF, f"{key}.json"))
    return loaded


# ---------------------------------------------------------------- ELF (standard library)


def elf_dynamic(data: bytes) -> dict[str, Any]:
    """DT_NEEDED, DT_RPATH, DT_RUNPATH and DT_SONAME of an ELF file's .dynamic section."""
    if data[:4] != b"\x7fELF":
        raise ValueError("not an ELF file")
    wide = data[4] == 2
    order = "<" if data[5] == 1 else ">"
    if wide:
        shoff = struct.unpack_from(order + "Q", data, 0x28)[0]
        shentsize, shnum, _ = struct.unpack_from(order + "HHH", data, 0x3A)
        header, entry = order + "IIQQQQIIQQ", order + "qQ"
    else:
        shoff = struct.unpack_from(order + "I", data, 0x20)[0]
        shentsize, shnum, _ = struct.unpack_from(order + "HHH", data, 0x2E)
        header, entry = order + "IIIIIIIIII", order + "iI"
    sections = [struct.unpack_from(header, data, shoff + i * shentsize) for i in range(shnum)]
    needed: list[str] = []
    found: dict[int, str] = {}
    for section in sections:
        if section[1] != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[section[6]]
        strings = data[strtab[4] : strtab[4] + strtab[5]]
        step = struct.calcsize(entry)
        for offset in range(section[4], section[4] + section[5], step):
            tag, value = struct.unpack_from(entry, data, offset)
            if tag == 0:
                break
            if tag in (1, 14, 15, 29):
                text = strings[value : strings.index(b"\0", value)].decode("utf-8", "replace")
                if tag == 1:
                    needed.append(text)
                else:
                    found[tag] = text
    return {
        "needed": needed,
        "rpath": found.get(15),
        "runpath": found.get(29),
        "soname": found.get(14),
        "so_strings": sorted({m.decode() for m in SO_STRING.findall(data)}),
    }


# ---------------------------------------------------------------- network (refresh only)


def _http(url: str, headers: Optional[dict[str, str]] = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})  # noqa: S310
    for attempt in range(4):
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt == 3:
                raise
            time.sleep(2 + 4 * attempt)
        except (urllib.error.URLError, OSError):
            if attempt == 3:
                raise
            time.sleep(2 + 4 * attempt)
    raise AssertionError("unreachable")


_JSON_CACHE: dict[str, Any] = {}
_FILE_PATH = re.compile(
    r"(?:^|/)packages/(?:packages/)?([0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{60}/[^/]+)$"
)


def file_url(url: str) -> str:
    """The files.pythonhosted.org address of a distribution file (mirrors answer relative ones)."""
    match = _FILE_PATH.search(url.split("#", 1)[0])
    if match is None:
        raise ValueError(f"not a PyPI file address: {url}")
    return "https://files.pythonhosted.org/packages/" + match.group(1)


def pypi_json(project: str) -> Any:
    """PyPI's JSON API document of a project (its "releases" list every file)."""
    url = f"{JSON_API}/{project}/json"
    if url not in _JSON_CACHE:
        _JSON_CACHE[url] = json.loads(_http(url)[2])
    return _JSON_CACHE[url]


class RangeFile:
    """A read-only, seekable file over HTTP range requests (one window of bytes cached)."""

    TAIL = 64 * 1024
    READ_AHEAD = 256 * 1024

    def __init__(self, url: str) -> None:
        self.url = url
        self.position = 0
        self.requests = 0
        self.fetched = 0
        data, self.size = self._get(f"bytes=-{self.TAIL}")
        self.window_start = self.size - len(data)
        self.window = data

    def _get(self, byte_range: str) -> tuple[bytes, int]:
        status, headers, body = _http(self.url, {"Range": byte_range})
        if status != 206:
            raise OSError(f"{self.url}: no range support (HTTP {status})")
        self.requests += 1
        self.fetched += len(body)
        content_range = {k.lower(): v for k, v in headers.items()}["content-range"]
        return body, int(content_range.rsplit("/", 1)[1])

    def prefetch(self, start: int, length: int) -> None:
        """Fetch [start, start + length) in one request, unless the window holds it."""
        end = min(start + length, self.size)
        if self.window_start <= start and end <= self.window_start + len(self.window):
            return
        self.window, _ = self._get(f"bytes={start}-{end - 1}")
        self.window_start = start

    def read(self, size: Optional[int] = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self.position
        end = min(self.position + size, self.size)
        if end <= self.position:
            return b""
        self.prefetch(self.position, max(end - self.position, self.READ_AHEAD))
        chunk = self.window[self.position - self.window_start : end - self.window_start]
        self.position = end
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = max(base + offset, 0)
        return self.position

    def tell(self) -> int:
        return self.position

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self.window = b""


class RemoteWheel:
    """The members of a wheel on PyPI, read by range requests."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.file = RangeFile(url)
        self.zip = zipfile.ZipFile(self.file)

    def names(self) -> list[str]:
        return self.zip.namelist()

    def info(self, name: str) -> zipfile.ZipInfo:
        return self.zip.getinfo(name)

    def read(self, name: str) -> bytes:
        info = self.zip.getinfo(name)
        # local header (30 bytes), its name and extra field (at most 64 KiB each), then the data
        self.file.prefetch(info.header_offset, 30 + 2 * 65536 + info.compress_size)
        return self.zip.read(info)

    def record(self) -> list[list[str]]:
        """The rows of ``*.dist-info/RECORD``."""
        [name] = [n for n in self.names() if n.endswith(".dist-info/RECORD") and n.count("/") == 1]
        text = self.read(name).decode("utf-8")
        return [row for row in csv.reader(io.StringIO(text)) if row]


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def _pip_command(spec: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "pip", *PIP_OPTIONS, *spec]


def _shown_command(spec: tuple[str, ...]) -> str:
    words = ["python3", *_pip_command(spec)[1:]]
    drop = " ".join(f"-u {name}" for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"))
    return f"env {drop} PIP_CONFIG_FILE=/dev/null " + " ".join(shlex.quote(w) for w in words)


def resolve(slug: str, spec: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Run pip for one spec: the closure document, and wheel file name -> URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k in PIP_ENV_KEPT}
    env["PIP_CONFIG_FILE"] = os.devnull
    with tempfile.TemporaryDirectory(prefix="kit-pypi-") as work:
        result = subprocess.run(
            _pip_command(spec),
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        if result.returncode != 0:
            raise RuntimeError((result.stderr or result.stdout).strip()[-3000:])
        report = _load_json(os.path.join(work, "report.json"))
    items, urls = [], {}
    for entry in report["install"]:
        metadata = entry["metadata"]
        url = file_url(entry["download_info"]["url"])
        wheel = url.rsplit("/", 1)[1]
        urls[wheel] = url
        items.append(
            {
                "name": metadata["name"],
                "version": metadata["version"],
                "requires_dist": metadata.get("requires_dist", []),
                "requires_python": metadata.get("requires_python"),
                "wheel": wheel,
                "sha256": entry["download_info"]["archive_info"]["hashes"]["sha256"],
            }
        )
    items.sort(key=lambda item: _normalize(item["name"]))
    document = {
        "slug": slug,
        "spec": list(spec),
        "command": _shown_command(spec),
        "pip_version": report.get("pip_version"),
        "made": dt.datetime.now(dt.timezone.utc).date().isoformat(),
        "items": items,
    }
    return document, urls


def _keep_paths(paths: list[str]) -> tuple[list[str], bool]:
    if len(paths) <= RECORD_ALL_UP_TO:
        return sorted(paths), False
    kept = [p for p in paths if any(fnmatch.fnmatch(p, pattern) for pattern in RECORD_KEEP)]
    return sorted(kept), True


@dataclass(frozen=True)
class Wheel:
    """A wheel on PyPI: project, version, file name, URL, sha256."""

    project: str
    version: str
    filename: str
    url: str
    sha256: str


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def newest_release(project: str, prefix: str = "") -> str:
    """The newest final release (digits and dots only) whose version starts with ``prefix``."""
    releases: list[str] = [
        v
        for v, files in pypi_json(project)["releases"].items()
        if re.fullmatch(r"[0-9]+(\.[0-9]+)*", v) and v.startswith(prefix) and files
    ]
    return max(releases, key=_version_key)


PYTHON_PREFERENCE = ("cp311", "cp310", "cp39", "cp38", "cp37", "py3")


def release_wheel(project: str, version: str, filename: Optional[str] = None) -> Wheel:
    """The Linux x86_64 wheel of a release (``filename`` if given, else the newest CPython)."""
    candidates = []
    for file in pypi_json(project)["releases"].get(version, []):
        name = file["filename"]
        if not name.endswith(".whl") or file.get("yanked"):
            continue
        if filename is not None and name != filename:
            continue
        python_tag, _, platform = name[: -len(".whl")].split("-")[-3:]
        if platform != "any" and ("linux" not in platform or "x86_64" not in platform):
            continue
        tags = python_tag.split(".")
        rank = min((PYTHON_PREFERENCE.index(t) for t in tags if t in PYTHON_PREFERENCE), default=99)
        candidates.append((rank, name, file_url(file["url"]), file["digests"]["sha256"]))
    if not candidates:
        raise LookupError(f"no Linux x86_64 wheel of {project} {version} ({filename})")
    _, name, url, sha256 = min(candidates)
    return Wheel(project, version, name, url, sha256)


@dataclass(frozen=True)
class Job:
    """Members of one wheel to keep: verbatim files, and shared objects for their ELF facts."""

    wheel: Wheel
    verbatim: tuple[str, ...] = ()  # fnmatch patterns of member paths
    elf: tuple[str, ...] = ()


def _matching(names: list[str], patterns: tuple[str, ...]) -> list[str]:
    return [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]


def run_job(job: Job) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Read one wheel's wanted members; the SOURCES entries and what was skipped."""
    remote = RemoteWheel(job.wheel.url)
    names = remote.names()
    hashes = {row[0]: row[1] for row in remote.record() if len(row) > 1 and row[1]}
    sources: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    wanted = [(n, "verbatim") for n in _matching(names, job.verbatim)]
    wanted += [(n, "elf") for n in _matching(names, job.elf)]
    for name, kind in wanted:
        info = remote.info(name)
        if kind == "elf" and info.compress_size > ELF_MAX_COMPRESSED:
            skipped.append(f"{job.wheel.filename}/{name} ({info.compress_size} bytes compressed)")
            continue
        data = remote.read(name)
        if name in hashes and hashes[name] != _record_hash(data):
            raise ValueError(f"{job.wheel.filename}/{name}: bytes differ from RECORD's hash")
        source = {
            "url": job.wheel.url,
            "wheel": job.wheel.filename,
            "wheel_sha256": job.wheel.sha256,
            "member": name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "compressed_size": info.compress_size,
        }
        key = f"{job.wheel.filename}/{name}"
        if kind == "verbatim":
            path = os.path.join(MEMBER_FILES, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as file:
                file.write(data)
            sources[key] = source
        else:
            facts = {**elf_dynamic(data), "source": source}
            path = os.path.join(ELF, f"{key}.json")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _write_json(path, facts)
    return sources, skipped


def read_record(url: str) -> dict[str, Any]:
    remote = RemoteWheel(url)
    paths = [row[0] for row in remote.record()]
    kept, filtered = _keep_paths(paths)
    return {
        "wheel": url.rsplit("/", 1)[1],
        "entries": len(paths),
        "filtered": filtered,
        "paths": kept,
    }


def _write_json(path: str, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as file:
        json.dump(value, file, indent=1, sort_keys=True)
        file.write("\n")


def _log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


CUPY_ELF = (
    "cupy_backends/cuda/api/runtime.*.so",
    "cupy_backends/cuda/api/driver.*.so",
    "cupy_backends/cuda/libs/nvrtc.*.so",
    "cupy_backends/cuda/libs/cublas.*.so",
    "cupy/_core/core.*.so",
    "cupy/cuda/cufft.*.so",
)
TORCH_ELF = ("torch/_C.*.so", "torch/lib/*.so*")
JAX_VERSION = (
    "jax/version.py",
    "jaxlib/version.py",
    "jax_cuda12_plugin/version.py",
    "jax_plugins/xla_cuda12/version.py",
)
JAX_ELF = (
    "jax_cuda12_plugin/cuda_plugin_extension.so",
    "jax_cuda12_plugin/_versions.so",
    "jax_plugins/xla_cuda12/xla_cuda_plugin.so",
)


def _jobs(documents: dict[str, dict[str, Any]], urls: dict[str, str]) -> list[Job]:
    """What to read from which wheel: from the closures, and a few releases of their own."""

    def of(slug: str, project: str) -> Optional[Wheel]:
        for item in documents.get(slug, {}).get("items", []):
            if _normalize(item["name"]) == project:
                url = urls.get(item["wheel"])
                if url is None:
                    found = release_wheel(project, item["version"], item["wheel"])
                    url = found.url
                return Wheel(project, item["version"], item["wheel"], url, item["sha256"])
        return None

    jobs: list[Job] = []
    torch_seen: set[str] = set()
    for slug in SPECS:
        wheel = of(slug, "torch")
        if wheel is None or wheel.filename in torch_seen:
            continue
        torch_seen.add(wheel.filename)
        deep = slug in ("torch-1.13.1", "torch-2.4.1", "torch-latest")
        jobs.append(Job(wheel, ("torch/version.py",), TORCH_ELF if deep else ()))
    build_info = ("*python/platform/build_info.py",)
    for series in ("2.1.", "2.3.", "2.4."):
        version = newest_release("tensorflow", series)
        jobs.append(Job(release_wheel("tensorflow", version), build_info))
    for slug in ("tensorflow-2.12.0", "tensorflow-and-cuda-2.15.1", "tensorflow-latest"):
        wheel = of(slug, "tensorflow")
        if wheel is not None:
            jobs.append(Job(wheel, build_info))
    for slug in ("jax-cuda12-0.4.30", "jax-cuda12-latest"):
        for project in ("jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda12-pjrt"):
            wheel = of(slug, project)
            if wheel is not None:
                jobs.append(Job(wheel, JAX_VERSION, JAX_ELF))
    cupy = [release_wheel("cupy-cuda12x", newest_release("cupy-cuda12x", "12."))]
    for slug in ("cupy-cuda12x-13.3.0", "cupy-cuda12x-latest"):
        wheel = of(slug, "cupy-cuda12x")
        if wheel is not None:
            cupy.append(wheel)
    jobs.extend(Job(wheel, ("cupy/_environment.py",), CUPY_ELF) for wheel in cupy)
    unique: dict[str, Job] = {}
    for job in jobs:
        unique.setdefault(job.wheel.filename, job)
    return list(unique.values())


def refresh(only: Optional[list[str]] = None) -> None:
    """Rebuild everything under tests/data/real/pypi from the network."""
    slugs = [s for s in SPECS if only is None or s in only]
    os.makedirs(CLOSURES, exist_ok=True)
    earlier = _load_json(MANIFEST) if only is not None and os.path.isfile(MANIFEST) else {}
    manifest: dict[str, Any] = {
        "made": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": sys.version.split()[0],
        "platforms": list(PLATFORMS),
        "closures": {s: c for s, c in earlier.get("closures", {}).items() if s not in slugs},
    }
    documents: dict[str, dict[str, Any]] = {}
    urls: dict[str, str] = {}
    for stale in set(closures()) - set(SPECS):
        os.remove(os.path.join(CLOSURES, f"{stale}.json"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {pool.submit(resolve, slug, SPECS[slug]): slug for slug in slugs}
        for future in concurrent.futures.as_completed(futures):
            slug = futures[future]
            try:
                document, found = future.result()
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                _log(f"closure {slug}: FAILED {error}")
                manifest["closures"][slug] = {"spec": list(SPECS[slug]), "error": str(error)}
                if os.path.isfile(os.path.join(CLOSURES, f"{slug}.json")):
                    os.remove(os.path.join(CLOSURES, f"{slug}.json"))
                continue
            _log(f"closure {slug}: {len(document['items'])} distributions")
            documents[slug] = document
            urls.update(found)
            manifest["closures"][slug] = {
                "spec": list(SPECS[slug]),
                "resolved": {i["name"]: i["version"] for i in document["items"]},
            }
            manifest["pip_version"] = document["pip_version"]
            _write_json(os.path.join(CLOSURES, f"{slug}.json"), document)
    if only is not None:  # a partial refresh keeps the other closures
        for slug in closures():
            documents.setdefault(slug, closure_document(slug))

    wanted: dict[str, dict[str, Any]] = {}  # sha256 -> closure item
    for document in documents.values():
        for item in document["items"]:
            key = _normalize(item["name"])
            if key.startswith("nvidia-") or key in RECORD_OF:
                wanted[item["sha256"]] = item
    kept = {sha: entry for sha, entry in records().items() if sha in wanted}
    todo: dict[str, str] = {}  # sha256 -> url, for the RECORDs not read yet
    for sha, item in wanted.items():
        if sha not in kept:
            url = urls.get(item["wheel"])
            if url is None:
                url = release_wheel(_normalize(item["name"]), item["version"], item["wheel"]).url
            todo[sha] = url
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for sha, entry in zip(todo, pool.map(read_record, todo.values())):
            _log(f"RECORD {entry['wheel']}: {entry['entries']} entries")
            kept[sha] = entry
    _write_json(RECORDS, kept)

    for directory in (MEMBER_FILES, ELF):
        shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(MEMBERS, exist_ok=True)
    sources: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    jobs = _jobs(documents, urls)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for job, (kept_members, left) in zip(jobs, pool.map(run_job, jobs)):
            _log(f"members {job.wheel.filename}: {len(kept_members)} kept, {len(left)} skipped")
            sources.update(kept_members)
            skipped.extend(left)
    _write_json(SOURCES, sources)
    manifest["elf_skipped"] = sorted(skipped)
    _write_json(MANIFEST, manifest)


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "refresh":
        refresh(argv[1:] or None)
        return 0
    sys.stderr.write("usage: python tests/kit_pypi.py refresh [SLUG ...]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
