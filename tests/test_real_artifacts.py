"""Worlds built from the real files the kit keeps (tests/data/real/pypi): file formats as
shipped, and the layouts and links of real wheels, each against the defect it exposed."""

from __future__ import annotations

from pathlib import Path

import pytest

import kit_pypi
from cudaworld import built, driver, place, simple
from worlds import ML, ML_SITE, World, assert_diagnosis, finding, ml_world

BUILD_INFOS = {
    # wheel: (CUDA, cuDNN) as its build_info.py says
    "tensorflow-2.1.4-cp37-cp37m-manylinux2010_x86_64.whl": ("10.1", "7"),
    "tensorflow-2.3.4-cp38-cp38-manylinux2010_x86_64.whl": ("10.1", "7"),
    "tensorflow-2.4.4-cp38-cp38-manylinux2010_x86_64.whl": ("11.0", "8"),
    "tensorflow-2.12.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": ("11.8", "8"),
    "tensorflow-2.15.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": ("12.2", "8"),
    "tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl": ("12.5.1", "9"),
}


@pytest.mark.parametrize("wheel", sorted(BUILD_INFOS))
def test_every_tensorflow_build_info_format_is_read(world: World, wheel: str) -> None:
    """Module variables (2.1, in tensorflow_core/), a dict (2.3), an OrderedDict of pairs
    (2.4 and later): the real files, byte for byte."""
    ml_world(world)
    member = next(
        key.partition("/")[2]
        for key in kit_pypi.members()
        if key.startswith(wheel + "/") and key.endswith("build_info.py")
    )
    version = wheel.split("-")[1]
    world.dist(ML_SITE, "tensorflow", version)
    world.file(f"{ML_SITE}/{member}", kit_pypi.member(f"{wheel}/{member}").decode())
    tf = next(f for f in world.doctor()["facts"]["frameworks"] if f["name"] == "tensorflow")
    assert (tf["variant"], tf["cuda"], tf["cudnn"]) == ("cuda", *BUILD_INFOS[wheel])


TORCH_112 = "torch-1.12.1-cp310-cp310-manylinux1_x86_64.whl"


def torch_112_venv(world: World) -> str:
    """PyPI's torch 1.12.1 (CUDA 10.2): cuBLAS bundled in torch/lib, unhashed, found through
    DT_RUNPATH $ORIGIN (tests/data/real/pypi/elf and listings)."""
    world.system_python("3.10")
    world.venv("/home/u/v", version="3.10")
    site = "/home/u/v/lib/python3.10/site-packages"
    world.dist(site, "torch", "1.12.1", requires=["typing-extensions"])
    world.file(
        f"{site}/torch/version.py", kit_pypi.member(f"{TORCH_112}/torch/version.py").decode()
    )
    deps = kit_pypi.elf(f"{TORCH_112}/torch/lib/libtorch_global_deps.so")
    assert deps["runpath"] == "$ORIGIN"
    assert "libcublas.so.10" in deps["needed"]
    lt = built("t112-lt", "int lt(void){return 0;}", soname="libcublasLt.so.10", runpath="$ORIGIN")
    cublas = built(
        "t112-cublas",
        "int lt(void); int cb(void){return lt();}",
        soname="libcublas.so.10",
        needed=[lt],
        runpath="$ORIGIN",
    )
    global_deps = built(
        "t112-gd",
        "int cb(void); int gd(void){return cb();}",
        soname="libtorch_global_deps.so",
        needed=[cublas],
        runpath=deps["runpath"],
    )
    ext = built(
        "t112-C",
        "int gd(void); int PyInit__C(void){return gd();}",
        soname="_C.so",
        needed=[global_deps],
        runpath="$ORIGIN/lib",
    )
    for lib, name in ((lt, "libcublasLt.so.10"), (cublas, "libcublas.so.10")):
        place(world, f"{site}/torch/lib/{name}", lib)
    place(world, f"{site}/torch/lib/libtorch_global_deps.so", global_deps)
    place(world, f"{site}/torch/_C.cpython-310-x86_64-linux-gnu.so", ext)
    world.activate_venv("/home/u/v")
    driver(world, "470.82.01", gpus=("Tesla V100-SXM2-16GB",))
    return site


def cuda_module(world: World, version: str, cublas: str) -> None:
    """`module load cuda/<version>`: its lib64 first on LD_LIBRARY_PATH."""
    lib64 = f"/apps/cuda/{version}/lib64"
    place(world, f"{lib64}/libcublas.so.{cublas}", simple("libcublas.so.10", "cublasCreate"))
    world.link(f"{lib64}/libcublas.so.10", f"libcublas.so.{cublas}")
    world.env["LD_LIBRARY_PATH"] = lib64


def test_a_module_cublas_shadows_the_one_torch_bundles(world: World) -> None:
    """Defect 5a: a big torch wheel's own cuBLAS sits behind DT_RUNPATH, which
    LD_LIBRARY_PATH precedes: the module's CUDA 10.1 cuBLAS is what torch gets."""
    torch_112_venv(world)
    cuda_module(world, "10.1", "10.1.0.105")
    found = finding(world.doctor(), "library-shadowed")
    assert any("bundled torch 10.2" in e and "/apps/cuda/10.1" in e for e in found["evidence"])


def test_a_module_of_the_same_cuda_release_is_quiet(world: World) -> None:
    torch_112_venv(world)
    cuda_module(world, "10.2", "10.2.2.89")
    assert "library-shadowed" not in world.codes()


TF_212 = "tensorflow-2.12.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"


def test_conda_cudnn_first_on_the_path_is_not_the_cudnn_tensorflow_was_set_up_with(
    world: World,
) -> None:
    """Defect 5b: TF 2.12's install guide pins nvidia-cudnn-cu11 8.6 and puts
    $CONDA_PREFIX/lib first on LD_LIBRARY_PATH; an older conda cudnn 8.1 there is what TF's
    dlopen (from libtensorflow_framework.so.2, RUNPATH "$ORIGIN/") gets. That the file belongs
    to the environment does not make it the framework's copy."""
    ml_world(world)
    world.dist(ML_SITE, "tensorflow", "2.12.0")
    info = "tensorflow/python/platform/build_info.py"
    world.file(f"{ML_SITE}/{info}", kit_pypi.member(f"{TF_212}/{info}").decode())
    runpath = kit_pypi.elf(f"{TF_212}/tensorflow/libtensorflow_framework.so.2")["runpath"]
    framework = built(
        "tf212-fw",
        "int tf(void){return 0;}",
        soname="libtensorflow_framework.so.2",
        runpath=runpath,
    )
    place(world, f"{ML_SITE}/tensorflow/libtensorflow_framework.so.2", framework)
    world.dist(ML_SITE, "nvidia-cudnn-cu11", "8.6.0.163")
    place(world, f"{ML_SITE}/nvidia/cudnn/lib/libcudnn.so.8", simple("libcudnn.so.8"))
    world.conda_record(ML, "cudatoolkit", "11.8.0", "h6a678d5_0")
    place(world, f"{ML}/lib/libcudart.so.11.8.89", simple("libcudart.so.11.0"))
    world.link(f"{ML}/lib/libcudart.so.11.0", "libcudart.so.11.8.89")
    driver(world, "535.104.05", gpus=("NVIDIA GeForce RTX 3090",))
    world.link("/usr/lib/x86_64-linux-gnu/libcuda.so", "libcuda.so.1")
    world.env["LD_LIBRARY_PATH"] = f"{ML}/lib/:{ML_SITE}/nvidia/cudnn/lib"
    assert_diagnosis(world.doctor(), must_not=["library-shadowed"], max_severity="info")
    world.conda_record(ML, "cudnn", "8.1.0.77", "h90431f1_0")
    place(world, f"{ML}/lib/libcudnn.so.8.1.0", simple("libcudnn.so.8"))
    world.link(f"{ML}/lib/libcudnn.so.8", "libcudnn.so.8.1.0")
    found = finding(world.doctor(), "library-shadowed")
    assert any(
        "conda cudnn 8.1.0.77" in e and "nvidia-cudnn-cu11 8.6" in e for e in found["evidence"]
    )


def test_plain_tensorflow_on_a_gpu_desktop_cannot_use_the_gpu(tmp_path: Path) -> None:
    """TF 2.12 from PyPI is a CUDA 11.8 build without CUDA wheels (its metadata names none):
    on a machine with a GPU it runs on the CPU only. On a CPU laptop that is no alarm."""
    import kit_debian
    from reference import debian_root, install_closure, machine_driver

    for gpu in (True, False):
        world = World(tmp_path / f"gpu-{gpu}")
        debian_root(world)
        if gpu:
            machine_driver(world, "flat", "NVIDIA GeForce RTX 4090")
        world.system_python("3.11")
        world.venv("/home/u/proj/.venv")
        install_closure(
            world, "/home/u/proj/.venv/lib/python3.11/site-packages", "tensorflow-2.12.0"
        )
        world.activate_venv("/home/u/proj/.venv")
        kit_debian.run_ldconfig(world.root)
        report = world.doctor()
        if gpu:
            # the libraries TF opens by name are missing (the spec's library-missing), and
            # the fix names the extra that brings them
            assert_diagnosis(report, must=["tensorflow-cuda-mismatch", "library-missing"])
            found = finding(report, "library-missing")
            assert "python -m pip install 'tensorflow[and-cuda]==2.12.0'" in found["fix"]
        else:
            assert_diagnosis(report, max_severity="info")


def test_a_missing_bundled_runtime_under_its_hashed_name_is_missing(tmp_path: Path) -> None:
    """torch's cu118 wheels bundle the CUDA runtime under auditwheel's name
    (libcudart-<8 hex>.so.11.0): still a CUDA library, and missing when it is gone."""
    import kit_debian
    from test_reference_machines import SITE
    from test_reference_machines_more import torch_cu118

    world = World(tmp_path / "world")
    torch_cu118(world)
    kit_debian.run_ldconfig(world.root)
    assert_diagnosis(world.doctor(), max_severity="info")
    world.real(f"{SITE}/torch/lib/libcudart-d0da41ae.so.11.0").unlink()
    found = finding(world.doctor(), "library-missing")
    assert any(e.startswith("libcudart-d0da41ae.so.11.0") for e in found["evidence"])


def test_the_local_wheel_members_are_the_recorded_bytes() -> None:
    import hashlib
    import json

    base = Path(__file__).parent / "data/real/local"
    sources = json.loads((base / "SOURCES.json").read_text())
    for member, facts in sources["members"].items():
        data = (base / "site-packages" / sources["wheel"] / member).read_bytes()
        assert hashlib.sha256(data).hexdigest() == facts["sha256"], member


def test_merged_usr_cache_names_are_the_directory_not_its_spelling(tmp_path: Path) -> None:
    """Defect 1: on merged /usr ldconfig records libcuda under /lib/x86_64-linux-gnu (the
    first name ld.so.conf gives the one directory); ld.so.conf also lists
    /usr/lib/x86_64-linux-gnu. Both names are one directory: cached, not stale. A library
    added after ldconfig ran is stale under either name."""
    import kit_debian
    from reference import debian_root, machine_driver

    world = World(tmp_path / "world")
    debian_root(world)
    machine_driver(world, "flat", "NVIDIA GeForce RTX 4090")
    world.system_python("3.11")
    kit_debian.run_ldconfig(world.root)
    report = world.doctor()
    libcuda = next(
        o for o in report["facts"]["libraries"]["opened_by_name"] if o["name"] == "libcuda.so.1"
    )
    assert libcuda["path"] == "/lib/x86_64-linux-gnu/libcuda.so.1"
    assert "ld-cache-stale" not in [f["code"] for f in report["findings"]]
    place(world, "/usr/lib/x86_64-linux-gnu/libcudart.so.12.4.127", simple("libcudart.so.12"))
    world.link("/usr/lib/x86_64-linux-gnu/libcudart.so.12", "libcudart.so.12.4.127")
    found = finding(world.doctor(), "ld-cache-stale")
    assert any("libcudart" in e for e in found["evidence"])


TORCH_VERSION_FILES = sorted(
    key
    for key in kit_pypi.members()
    if key.startswith("torch-") and key.endswith("/torch/version.py")
)


@pytest.mark.parametrize("key", TORCH_VERSION_FILES)
def test_every_torch_version_file_format_is_read(world: World, key: str) -> None:
    """torch/version.py as shipped from 1.12 to the newest: bare `cuda = '10.2'`, then
    `cuda: Optional[str] = '12.1'` with __all__, then hip/rocm/xpu lines."""
    import re

    text = kit_pypi.member(key).decode()
    expected = re.search(r"^cuda\s*(?::[^=]*)?=\s*'([\d.]+)'", text, re.MULTILINE)
    assert expected is not None
    ml_world(world)
    version = re.search(r"__version__ = '([^']+)'", text)
    assert version is not None
    world.dist(ML_SITE, "torch", version.group(1))
    world.file(f"{ML_SITE}/torch/version.py", text)
    torch = next(f for f in world.doctor()["facts"]["frameworks"] if f["name"] == "torch")
    assert (torch["variant"], torch["cuda"]) == ("cuda", expected.group(1))
