"""The snapshot: every fact the probes collected, as plain frozen records.

Probes write these records and never judge; checks read them and never touch the machine.
A snapshot is JSON-serialisable (:meth:`Snapshot.to_dict`) and loads back
(:meth:`Snapshot.from_dict`), so a check runs unchanged on a snapshot taken elsewhere.

All paths are as seen inside the diagnosed world (with ``--root /``, real paths).
The field types are written with ``Optional``/``Tuple`` so that Python 3.9 can evaluate them.
"""

from __future__ import annotations

from typing import Any, Optional

from ._records import field, record
from ._serial import from_json, to_json
from .errors import SnapshotFormatError

__all__ = [
    "SNAPSHOT_SCHEMA",
    "ActiveEnv",
    "Command",
    "CondaEnvEntry",
    "CondaPackage",
    "CondaSetup",
    "Container",
    "Distribution",
    "Driver",
    "DriverCopy",
    "DriverLibrary",
    "Environment",
    "Framework",
    "Gpu",
    "GpuCode",
    "HostCompiler",
    "Interpreter",
    "Kernelspec",
    "Libraries",
    "LibraryTree",
    "LiveCheck",
    "LoadedLibrary",
    "LoaderAttempt",
    "MissingDirectory",
    "ModuleEntry",
    "PipConfig",
    "PipConfigFile",
    "PipSetting",
    "Problem",
    "PythonHome",
    "Resolution",
    "ShellAlias",
    "ShippedLibrary",
    "SiteDir",
    "Snapshot",
    "SymbolGap",
    "Target",
    "Toolkit",
    "ToolkitChoice",
    "UncachedLibraries",
    "UserSite",
    "VenvConfig",
    "Workdir",
    "is_snapshot_document",
]

SNAPSHOT_SCHEMA = "cudaenv.snapshot/1"


def is_snapshot_document(data: object) -> bool:
    """A JSON value that says it is a cudaenv snapshot (of any version)."""
    family = SNAPSHOT_SCHEMA.split("/", maxsplit=1)[0] + "/"
    return isinstance(data, dict) and str(data.get("schema", "")).startswith(family)


@record
class Interpreter:
    """A Python interpreter named by a path, and the environment it would run in."""

    path: str
    """The path as invoked (a PATH hit, a ``#!`` line, a kernelspec's ``argv[0]``)."""
    exists: bool
    resolved: Optional[str] = None
    """The binary after every symlink."""
    prefix: Optional[str] = None
    """The ``sys.prefix`` it would get: the venv for a venv's python, else the installation."""
    version: Optional[str] = None
    """``X.Y``, read from file names, ``pyvenv.cfg`` or conda-meta — never by running it."""
    env_kind: str = "unknown"
    """conda-base, conda-env, pixi, venv, pyenv, system, unknown."""


@record
class Command:
    """What the shell runs for a command name (``python``, ``pip`` ...)."""

    name: str
    via: str = "missing"
    """path (the first PATH hit), alias, pyenv (a shim resolved by pyenv's rules), missing."""
    path: Optional[str] = None
    resolved: Optional[str] = None
    also_on_path: tuple[str, ...] = ()
    """Later PATH hits that the first one hides."""
    shebang: Optional[str] = None
    interpreter: Optional[Interpreter] = None
    """The interpreter that runs it: itself for a python, the ``#!`` target for a script."""
    detail: Optional[str] = None
    """How it was found: the alias line, the pyenv version and where it was set."""


@record
class CondaPackage:
    """A conda-meta record, from its file name ``<name>-<version>-<build>.json``."""

    name: str
    version: str
    build: str


@record
class VenvConfig:
    """A venv's ``pyvenv.cfg``."""

    home: Optional[str] = None
    include_system_site_packages: bool = False
    version: Optional[str] = None
    base_prefix: Optional[str] = None
    """The installation ``home`` belongs to."""
    base_kind: Optional[str] = None


@record
class Environment:
    """An environment (conda env, venv, installation) identified by its prefix."""

    prefix: str
    kind: str
    exists: bool = True
    name: Optional[str] = None
    python: Optional[str] = None
    """The environment's own interpreter, when it has one."""
    python_version: Optional[str] = None
    has_conda_meta: bool = False
    conda_packages: tuple[CondaPackage, ...] = ()
    venv: Optional[VenvConfig] = None
    site_packages: tuple[str, ...] = ()


@record
class Distribution:
    """An installed Python distribution (``*.dist-info`` or ``*.egg-info``)."""

    name: str
    version: str
    path: str
    installer: Optional[str] = None
    requires_dist: tuple[str, ...] = ()


@record
class SiteDir:
    """A directory on the target interpreter's ``sys.path`` that can hold distributions."""

    path: str
    role: str
    """pythonpath, user, site or pth (added by a ``.pth`` file)."""
    exists: bool
    owner: Optional[str] = None
    """The prefix of the environment the directory lies in, when it lies in one."""
    owner_kind: Optional[str] = None
    python_version: Optional[str] = None
    """The ``X.Y`` of a ``lib/pythonX.Y`` component of the path."""
    source: Optional[str] = None
    """Where the entry came from: PYTHONPATH, a ``.pth`` file."""
    distributions: tuple[Distribution, ...] = ()


@record
class UserSite:
    """The user site-packages of the target interpreter."""

    path: Optional[str] = None
    enabled: bool = False
    reason: str = ""


@record
class ActiveEnv:
    """What the shell's variables say is activated."""

    conda_prefix: Optional[str] = None
    conda_default_env: Optional[str] = None
    conda_shlvl: Optional[str] = None
    conda_stack: tuple[str, ...] = ()
    """``CONDA_PREFIX_1`` ... : the envs below the active one."""
    virtual_env: Optional[str] = None


@record
class Target:
    """The environment being diagnosed and how it was chosen."""

    chosen_by: str
    """--python, --prefix, VIRTUAL_ENV, CONDA_PREFIX, PATH or none."""
    prefix: Optional[str] = None
    interpreter: Optional[Interpreter] = None
    requested: Optional[str] = None


@record
class CondaEnvEntry:
    prefix: str
    name: Optional[str]
    source: str


@record
class CondaSetup:
    """conda installations and the environments they know of."""

    roots: tuple[str, ...] = ()
    envs_dirs: tuple[str, ...] = ()
    envs: tuple[CondaEnvEntry, ...] = ()
    condarc_files: tuple[str, ...] = ()


@record
class PipConfigFile:
    path: str
    scope: str
    """global, user, site or env (PIP_CONFIG_FILE) — pip's own names."""
    exists: bool


@record
class PipSetting:
    """One install-location setting (target, prefix, root, user) from a file or a variable."""

    key: str
    value: str
    source: str
    """``PIP_TARGET``-style variable name, or the config file's path."""
    scope: str
    section: Optional[str] = None
    line: Optional[int] = None


@record
class PipConfig:
    files: tuple[PipConfigFile, ...] = ()
    settings: tuple[PipSetting, ...] = ()
    """Lowest precedence first, as pip applies them."""
    config_disabled: bool = False


@record
class Kernelspec:
    name: str
    path: str
    display_name: Optional[str] = None
    argv: tuple[str, ...] = ()
    interpreter: Optional[Interpreter] = None
    error: Optional[str] = None


@record
class ModuleEntry:
    name: str
    path: str
    kind: str
    """package (with ``__init__``), namespace (a bare directory), module or extension."""


@record
class Workdir:
    path: str
    entries: tuple[ModuleEntry, ...] = ()
    cuda_build: Optional[str] = None
    """A build file here that compiles CUDA code (a ``setup.py`` using torch's
    ``CUDAExtension``): the build a source checkout is about to run."""


@record
class ShellAlias:
    name: str
    value: str
    file: str
    line: int


@record
class Toolkit:
    """A CUDA toolkit (or the part of one) found somewhere: what it holds and its version."""

    root: str
    source: str
    """system, distro (nvidia-cuda-toolkit), conda-cudatoolkit (runtime only, CUDA ≤ 11),
    conda (CUDA 12+ packages), pip (nvidia-* wheels), or given (only named by a variable)."""
    exists: bool = True
    version: Optional[str] = None
    version_from: Optional[str] = None
    """version.json, version.txt, include/cuda.h, conda-meta:<package>, dist-info:<name>, path."""
    nvcc: Optional[str] = None
    nvcc_toolkit: Optional[str] = None
    """When ``bin/nvcc`` links into another toolkit: that toolkit's root (nvcc uses its own)."""
    nvcc_version: Optional[str] = None
    """The CUDA version ``nvcc --version`` would print: its own toolkit's version."""
    ptxas: Optional[str] = None
    runtime_headers: bool = False
    """cuda_runtime.h and cuda_runtime_api.h, in include/ or targets/<triple>/include."""
    include_dir: Optional[str] = None
    targets_include: Optional[str] = None
    """targets/<triple>/include when the headers live there (conda CUDA 12+)."""
    has_include: bool = False
    """``include/cuda_runtime.h`` directly under the root."""
    has_lib64: bool = False
    lib_dirs: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    """CUDA SONAME-style file names in the library directories."""
    libdevice: Optional[str] = None
    stubs: tuple[str, ...] = ()
    """``stubs/libcuda.so`` files: link-time stand-ins for the driver, never to be loaded."""
    named_by: tuple[str, ...] = ()
    """How it is reached: CUDA_HOME, CUDA_PATH, nvcc on PATH, /usr/local/cuda, the env ..."""
    gcc_max: Optional[int] = None
    """The newest gcc major its ``crt/host_config.h`` accepts (None: no header to read)."""
    clang_max: Optional[int] = None
    host_config: Optional[str] = None


@record
class GpuCode:
    """The GPU code one ELF file carries (``cudaenv archs``)."""

    path: str
    sass: tuple[str, ...] = ()
    """Distinct SASS architectures, sorted: ``sm_80``, ``sm_90a`` ..."""
    ptx: tuple[str, ...] = ()
    """Distinct PTX targets, sorted: ``compute_90`` ..."""
    ptx_isa: Optional[str] = None
    """The newest PTX ISA version among the PTX entries (it decides the oldest driver that
    can JIT-compile them)."""
    entries: int = 0
    compressed: int = 0
    error: Optional[str] = None


@record
class Framework:
    """An installed framework (or compiled extension) and what it was built for, from its
    files — never imported."""

    name: str
    """The canonical distribution name: ``torch``, ``cupy-cuda12x``, ``jax-cuda12-plugin``."""
    version: str
    site: str
    package_dir: str
    installer: Optional[str] = None
    cuda: Optional[str] = None
    """The CUDA version it was built with (``X.Y``, or just ``X`` when only the major is
    known); None for CPU and ROCm builds and when unknown."""
    cuda_from: str = "unknown"
    """Where ``cuda`` came from: torch/version.py, version tag, conda build, package name,
    build_info.py, NEEDED libcudart ..."""
    variant: Optional[str] = None
    """cuda, cpu or rocm; None when the files do not say."""
    variant_from: str = "unknown"
    cudnn: Optional[str] = None
    """The cuDNN version it was built with, where its files say (TensorFlow's build info,
    conda build strings)."""
    conda_build: Optional[str] = None
    """The build string of the conda record that installed it."""
    requires_dist: tuple[str, ...] = ()
    runtime_needed: tuple[str, ...] = ()
    """The CUDA runtime SONAMEs (``libcudart.so.12``) its own shared objects list as NEEDED."""
    gpu_code: tuple[GpuCode, ...] = ()
    """The GPU code of its main binaries — read only when the machine has a GPU to judge."""


@record
class ToolkitChoice:
    """The toolkit a consumer would use, following that consumer's own rules."""

    consumer: str
    root: Optional[str]
    rule: str


@record
class LoaderAttempt:
    """One file the loader model tried, and why it was passed over (or taken)."""

    path: str
    via: str
    """rpath, ld_library_path, runpath, cache, default or path."""
    result: str
    """found, missing, wrong-class, wrong-machine, or invalid (fatal, as in glibc)."""


@record
class Resolution:
    """Which file the glibc loader would open for a name, and how it got there."""

    name: str
    path: Optional[str] = None
    """As seen in the world, directories as searched; ``None`` when nothing is found."""
    via: Optional[str] = None
    """rpath, ld_library_path, runpath, cache, default, loaded (reused), path or preload."""
    tried: tuple[LoaderAttempt, ...] = ()
    needed_by: Optional[str] = None
    error: Optional[str] = None
    """The loader's own error when it stops (``file too short``, ``invalid ELF header``)."""


@record
class LoadedLibrary:
    """One library in the modelled process: how the loader found it, and what it is."""

    name: str
    path: Optional[str] = None
    via: Optional[str] = None
    needed_by: Optional[str] = None
    error: Optional[str] = None
    tried: tuple[LoaderAttempt, ...] = ()
    """Kept for CUDA libraries (the loader's trace); empty for the rest."""
    cuda: bool = False
    version: Optional[str] = None
    """The library's own version: its owner's, or its real file name's (``.so.12.4.127``)."""
    owner: Optional[str] = None
    """Who put it there: ``pip nvidia-cublas-cu12``, ``conda libcublas``, ``toolkit <root>``."""
    stub: bool = False
    """A link-time stand-in (``stubs/libcuda.so``) rather than the real library."""


@record
class LibraryTree:
    """What loading one consumer's entry object pulls in, breadth first."""

    consumer: str
    """A framework (torch, cupy ...), a wheel (``nvidia-cusparse-cu12``) or ``interpreter``."""
    start: str
    objects: tuple[LoadedLibrary, ...] = ()


@record
class ShippedLibrary:
    """A copy of a CUDA library that a package installed into the environment."""

    name: str
    path: str
    owner: str
    version: Optional[str] = None


@record
class SymbolGap:
    """A versioned symbol an object imports that the library the loader picks lacks."""

    importer: str
    provider: str
    symbol: str
    version: str
    node_missing: bool = False
    """The provider lacks the version node itself (glibc: "version `X' not found")."""


@record
class UncachedLibraries:
    """CUDA libraries in a directory ld.so.conf lists that /etc/ld.so.cache does not hold."""

    conf: str
    directory: str
    names: tuple[str, ...] = ()


@record
class Libraries:
    """The loader's view of the target interpreter's process."""

    interpreter: Optional[str] = None
    machine: str = "x86_64"
    ld_library_path: tuple[str, ...] = ()
    preload: tuple[LoadedLibrary, ...] = ()
    trees: tuple[LibraryTree, ...] = ()
    opened_by_name: tuple[LoadedLibrary, ...] = ()
    """Names frameworks dlopen() at run time (``libcuda.so.1``, NVRTC), as the loader finds them."""
    shipped: tuple[ShippedLibrary, ...] = ()
    symbol_gaps: tuple[SymbolGap, ...] = ()
    cache_exists: bool = False
    cache_error: Optional[str] = None
    uncached: tuple[UncachedLibraries, ...] = ()


@record
class MissingDirectory:
    """An entry of a search-path variable or of ld.so.conf that names no directory."""

    source: str
    """PATH, LD_LIBRARY_PATH, CUDA_HOME ..., or the ld.so.conf file."""
    entry: str


@record
class PythonHome:
    """PYTHONHOME and what it points at."""

    value: str
    prefix: str
    """The part before ``:`` (``prefix:exec_prefix``), normalised."""
    exists: bool
    stdlib_versions: tuple[str, ...] = ()
    """``X.Y`` of every ``lib/pythonX.Y`` with an ``os.py`` under the prefix."""


@record
class Problem:
    """A file that exists but could not be read or parsed."""

    path: str
    error: str


@record
class HostCompiler:
    """The host compiler nvcc would run for the toolkit builds use."""

    command: str
    """As nvcc gets it: ``gcc`` (its default, from PATH) or the ``-ccbin`` value."""
    chosen_by: str
    """nvcc's default (gcc on PATH), NVCC_CCBIN, or NVCC_PREPEND_FLAGS/NVCC_APPEND_FLAGS."""
    path: Optional[str] = None
    real: Optional[str] = None
    kind: Optional[str] = None
    """gcc or clang."""
    version: Optional[int] = None
    """The major version."""
    version_from: Optional[str] = None
    allow_unsupported: bool = False
    """``-allow-unsupported-compiler`` is among the flags nvcc gets."""


@record
class Gpu:
    """One GPU, from ``/proc/driver/nvidia/gpus/<pci>/information`` (or NVML when live)."""

    pci: str
    model: Optional[str] = None
    capability: Optional[str] = None
    """Compute capability ``X.Y``."""
    capability_from: str = "unknown"
    """model table, nvml, or unknown (a model the table does not know)."""
    forward_compat: Optional[bool] = None
    """Whether CUDA forward compatibility is supported on it (data-center and Jetson)."""
    uuid: Optional[str] = None
    source: Optional[str] = None


@record
class DriverLibrary:
    """A user-space driver library as the loader finds it from the target interpreter."""

    name: str
    path: Optional[str] = None
    via: Optional[str] = None
    real: Optional[str] = None
    """The file the name finally resolves to (``libcuda.so.535.104.05``)."""
    version: Optional[str] = None
    """The driver version in the real file name; None for WSL's ``libcuda.so.1.1``."""
    compat: bool = False
    """From a CUDA forward-compatibility package (``.../compat/``, conda ``cuda-compat``)."""
    stub: bool = False
    wsl: bool = False
    tried: tuple[LoaderAttempt, ...] = ()


@record
class DriverCopy:
    """A ``libcuda.so.<version>`` file in a directory the loader may search."""

    path: str
    version: Optional[str] = None
    compat: bool = False
    wsl: bool = False


@record
class Container:
    """Signs that the shell runs in a container, and what the NVIDIA runtime was asked for."""

    kind: str
    """docker, podman, kubernetes, or container (only NVIDIA_* variables say so)."""
    markers: tuple[str, ...] = ()
    visible_devices: Optional[str] = None
    driver_capabilities: Optional[str] = None
    require_cuda: Optional[str] = None
    disable_require: bool = False
    image_cuda: Optional[str] = None
    """CUDA_VERSION as NVIDIA's images set it."""


@record
class LiveCheck:
    """What a child process reported (``--live``): the driver through NVML/libcuda, or a
    framework's own answer after importing it."""

    subject: str
    """driver, torch, cupy, jax or tensorflow."""
    ok: bool = False
    seconds: float = 0.0
    error: Optional[str] = None
    answer: dict[str, Any] = field(default_factory=dict)


@record
class Driver:
    """The NVIDIA driver: kernel module, user-space libraries, WSL and container context."""

    loaded: bool = False
    """The kernel module is loaded (``/proc/driver/nvidia/version``, or WSL's driver)."""
    version: Optional[str] = None
    """The kernel module's version."""
    version_from: Optional[str] = None
    flavor: Optional[str] = None
    """proprietary or open (the kernel module's licence), tegra for Jetson."""
    sys_module_version: Optional[str] = None
    cuda: Optional[str] = None
    """The CUDA version the driver supports (what nvidia-smi calls "CUDA Version")."""
    cuda_from: str = "unknown"
    libcuda: Optional[DriverLibrary] = None
    libcuda_unversioned: Optional[DriverLibrary] = None
    """``libcuda.so`` (no version), which cuDNN 8 opens."""
    libnvidia_ml: Optional[DriverLibrary] = None
    copies: tuple[DriverCopy, ...] = ()
    wsl: bool = False
    wsl_libraries: Optional[str] = None
    """``/usr/lib/wsl/lib`` when it holds WSL's libcuda."""
    wsl_evidence: tuple[str, ...] = ()
    container: Optional[Container] = None


@record
class Snapshot:
    """Everything collected about one machine and one target environment."""

    target: Target
    schema: str = SNAPSHOT_SCHEMA
    tool_version: str = ""
    root: str = "/"
    hostname: Optional[str] = None
    environ: dict[str, str] = field(default_factory=dict)
    home: Optional[str] = None
    cwd: Optional[str] = None
    active: ActiveEnv = field(default_factory=ActiveEnv)
    commands: dict[str, Command] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    site_dirs: tuple[SiteDir, ...] = ()
    user_site: UserSite = field(default_factory=UserSite)
    conda: CondaSetup = field(default_factory=CondaSetup)
    pip: PipConfig = field(default_factory=PipConfig)
    kernels: tuple[Kernelspec, ...] = ()
    workdir: Optional[Workdir] = None
    aliases: tuple[ShellAlias, ...] = ()
    pythonhome: Optional[PythonHome] = None
    frameworks: tuple[Framework, ...] = ()
    toolkits: tuple[Toolkit, ...] = ()
    toolkit_choices: tuple[ToolkitChoice, ...] = ()
    libraries: Libraries = field(default_factory=Libraries)
    host_compiler: Optional[HostCompiler] = None
    driver: Driver = field(default_factory=Driver)
    gpus: tuple[Gpu, ...] = ()
    live: tuple[LiveCheck, ...] = ()
    missing_directories: tuple[MissingDirectory, ...] = ()
    problems: tuple[Problem, ...] = ()
    redacted: tuple[str, ...] = ()
    """What was redacted before this snapshot was written: secrets, home, user, host."""

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = to_json(self)
        return result

    @classmethod
    def from_dict(cls, data: object) -> Snapshot:
        if not isinstance(data, dict):
            raise SnapshotFormatError("a snapshot is a JSON object")
        schema = data.get("schema")
        if not is_snapshot_document(data):
            raise SnapshotFormatError(f"not a cudaenv snapshot (schema {schema!r})")
        if schema != SNAPSHOT_SCHEMA:
            raise SnapshotFormatError(f"unsupported snapshot schema {schema!r}")
        return from_json(cls, data)

    # -- lookups the checks share -------------------------------------------------------------

    @property
    def target_env(self) -> Optional[Environment]:
        prefix = self.target.prefix
        return self.environments.get(prefix) if prefix else None

    def command(self, name: str) -> Optional[Command]:
        cmd = self.commands.get(name)
        return cmd if cmd is not None and cmd.via != "missing" else None
