"""The compilers builds and run-time compilation would use: nvcc's host compiler, XLA's
ptxas and libdevice, Triton's ptxas."""

from __future__ import annotations

import pytest

from cudaworld import driver
from worlds import ML, ML_SITE, World, assert_diagnosis, finding, ml_world

GCC_LIMIT = (
    "#if __GNUC__ > {n}\n#error -- unsupported GNU version! gcc versions later than {n} are not "
    "supported! The nvcc flag '-allow-unsupported-compiler' can be used to override this "
    "version check\n#endif\n"
)


def build_world(world: World, cuda: str = "12.4.1", gcc: str = "gcc-14") -> str:
    ml_world(world)
    root = world.toolkit(f"/usr/local/cuda-{cuda[:4]}", cuda)
    world.env["CUDA_HOME"] = root
    world.file(f"/usr/bin/{gcc}", "stand-in for gcc\n", 0o755)
    world.link("/usr/bin/gcc", gcc)
    return root


# -- host-compiler-unsupported --------------------------------------------------------------------


def test_gcc_newer_than_the_toolkit_accepts(world: World) -> None:
    build_world(world, "12.4.1", "gcc-14")
    report = world.doctor()
    found = finding(report, "host-compiler-unsupported")
    assert "gcc 14" in found["title"]
    assert "gcc versions later than 13 are not supported" in found["detail"]
    assert found["fix"][0].startswith("install gcc-13")
    assert any("toolkit ≥ 12.8" in fix for fix in found["fix"])
    assert report["facts"]["host_compiler"]["version_from"] == "file name gcc-14"


def test_accepted_gcc_is_quiet(world: World) -> None:
    build_world(world, "12.4.1", "gcc-13")
    assert_diagnosis(world.doctor(), must_not=["host-compiler-unsupported"], max_severity="info")


def test_the_toolkits_own_header_is_the_authority(world: World) -> None:
    root = build_world(world, "12.4.1", "gcc-13")
    world.file(f"{root}/include/crt/host_config.h", GCC_LIMIT.format(n=12))
    found = finding(world.doctor(), "host-compiler-unsupported")
    assert any(f"{root}/include/crt/host_config.h" in e for e in found["evidence"])


def test_allow_unsupported_compiler_silences_it(world: World) -> None:
    build_world(world, "12.4.1", "gcc-14")
    world.env["NVCC_APPEND_FLAGS"] = "-allow-unsupported-compiler"
    assert "host-compiler-unsupported" not in world.codes()


def test_conda_ccbin_from_nvcc_prepend_flags(world: World) -> None:
    """conda's cuda-nvcc activation: -ccbin=$CXX, versioned by the gxx_impl record."""
    build_world(world, "12.4.1", "gcc-12")
    cxx = f"{ML}/bin/x86_64-conda-linux-gnu-c++"
    world.file(cxx, "stand-in\n", 0o755)
    world.conda_record(ML, "gxx_impl_linux-64", "14.2.0", "h2c4a3d5_1")
    world.env["NVCC_PREPEND_FLAGS"] = f" -ccbin={cxx}"
    report = world.doctor()
    compiler = report["facts"]["host_compiler"]
    assert (compiler["chosen_by"], compiler["version"]) == ("NVCC_PREPEND_FLAGS -ccbin", 14)
    assert "host-compiler-unsupported" in [f["code"] for f in report["findings"]]


# -- toolkit-older-than-framework -----------------------------------------------------------------


def jax_plugin(world: World) -> None:
    world.dist(ML_SITE, "jax", "0.4.35")
    world.dist(ML_SITE, "jaxlib", "0.4.35")
    world.dist(
        ML_SITE,
        "jax-cuda12-plugin",
        "0.4.35",
        requires=[
            "jax-cuda12-pjrt==0.4.35",
            "nvidia-cuda-nvcc-cu12>=12.6.85; extra == 'with-cuda'",
        ],
    )
    world.dist(ML_SITE, "jax-cuda12-pjrt", "0.4.35")


def test_xla_would_use_an_older_ptxas(world: World) -> None:
    ml_world(world)
    jax_plugin(world)
    driver(world)
    root = world.toolkit("/usr/local/cuda-12.2", "12.2.2")
    world.file(f"{root}/nvvm/libdevice/libdevice.10.bc", "bitcode\n")
    world.env["XLA_FLAGS"] = f"--xla_gpu_cuda_data_dir={root}"
    found = finding(world.doctor(), "toolkit-older-than-framework")
    assert any("CUDA ≥ 12.6" in e for e in found["evidence"])
    assert "nvidia-cuda-nvcc-cu12>=12.6" in found["fix"][0]


def test_xla_without_libdevice(world: World) -> None:
    ml_world(world)
    jax_plugin(world)
    driver(world)
    found = finding(world.doctor(), "toolkit-older-than-framework")
    assert any("libdevice" in e for e in found["evidence"])


def test_xla_with_its_nvcc_wheel_is_quiet(world: World) -> None:
    ml_world(world)
    jax_plugin(world)
    driver(world)
    base = f"{ML_SITE}/nvidia/cuda_nvcc"
    world.file(f"{base}/bin/ptxas", "stand-in\n", 0o755)
    world.file(f"{base}/nvvm/libdevice/libdevice.10.bc", "bitcode\n")
    world.dist(ML_SITE, "nvidia-cuda-nvcc-cu12", "12.6.85")
    report = world.doctor()
    assert_diagnosis(report, must_not=["toolkit-older-than-framework"], max_severity="info")


def jax_release(world: World, version: str) -> None:
    """jax[cuda12] at ``version`` with its nvcc wheel (ptxas 12.6.85), and an old CUDA 11.2
    toolkit's bin/ on PATH."""
    world.dist(ML_SITE, "jax", version)
    world.dist(ML_SITE, "jaxlib", version)
    world.dist(
        ML_SITE,
        "jax-cuda12-plugin",
        version,
        requires=["nvidia-cuda-nvcc-cu12>=12.1.105; extra == 'with-cuda'"],
    )
    world.dist(ML_SITE, "jax-cuda12-pjrt", version)
    base = f"{ML_SITE}/nvidia/cuda_nvcc"
    world.file(f"{base}/bin/ptxas", "stand-in\n", 0o755)
    world.file(f"{base}/nvvm/libdevice/libdevice.10.bc", "bitcode\n")
    world.dist(ML_SITE, "nvidia-cuda-nvcc-cu12", "12.6.85")
    old = world.toolkit("/opt/cuda-11.2", "11.2.2")
    world.file(f"{old}/nvvm/libdevice/libdevice.10.bc", "bitcode\n")
    world.env["PATH"] = f"{old}/bin:" + world.env["PATH"]


@pytest.mark.parametrize(
    ("jaxlib", "rule"),
    [
        # ≤ 0.4.23: ptxas on PATH first (TSL's PreferPtxasFromPath() is true)
        ("0.4.23", "ptxas on PATH"),
        # 0.4.24 and 0.4.25: jax's data dir (the nvcc wheel), then PATH
        ("0.4.25", "pip cuda_nvcc wheel (jax's data dir)"),
        ("0.4.35", "pip cuda_nvcc wheel (jax's data dir)"),
    ],
)
def test_xla_takes_ptxas_in_its_releases_order(world: World, jaxlib: str, rule: str) -> None:
    ml_world(world)
    jax_release(world, jaxlib)
    driver(world)
    report = world.doctor()
    xla = next(c for c in report["facts"]["toolkit_choices"] if c["consumer"] == "xla")
    assert xla["rule"] == rule
    older = "toolkit-older-than-framework" in [f["code"] for f in report["findings"]]
    assert older == (rule == "ptxas on PATH")


def test_xla_0_4_26_passes_over_a_ptxas_older_than_11_8(world: World) -> None:
    ml_world(world)
    jax_release(world, "0.4.26")
    world.env["XLA_FLAGS"] = "--xla_gpu_cuda_data_dir=/opt/cuda-11.2"  # below XLA's minimum
    driver(world)
    xla = next(c for c in world.doctor()["facts"]["toolkit_choices"] if c["consumer"] == "xla")
    assert xla["root"] != "/opt/cuda-11.2"


def test_triton_pointed_at_an_older_ptxas(world: World) -> None:
    ml_world(world)
    world.dist(ML_SITE, "triton", "3.3.0")
    world.file(f"{ML_SITE}/triton/backends/nvidia/include/cuda.h", "#define CUDA_VERSION 12080\n")
    root = world.toolkit("/usr/local/cuda-12.1", "12.1.1")
    world.env["TRITON_PTXAS_PATH"] = f"{root}/bin/ptxas"
    report = world.doctor()
    triton = next(f for f in report["facts"]["frameworks"] if f["name"] == "triton")
    assert (triton["cuda"], triton["cuda_from"]) == ("12.8", "bundled cuda.h")
    found = finding(report, "toolkit-older-than-framework")
    assert found["fix"][0].startswith("unset TRITON_PTXAS_PATH")
