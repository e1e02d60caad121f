"""The knowledge tables: consistent with each other, and with the real NVIDIA tools at hand
(the CUDA 13.0 toolkit's nvcc and host_config.h, cuobjdump, fat binaries nvcc wrote)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cudaenv._host import Host
from cudaenv._knowledge.builds import (
    TF_TESTED,
    companion_series,
    conda_build_variant,
    cupy_variant_cuda,
    local_tag_variant,
)
from cudaenv._knowledge.compilers import (
    NVCC_HOST_COMPILERS,
    host_compiler_range,
    limits_from_host_config,
)
from cudaenv._knowledge.drivers import (
    BRANCH_CUDA,
    MVC_MIN_DRIVER,
    TOOLKIT_MIN_DRIVER,
    Compatibility,
    cuda_of_driver,
    driver_runs,
    min_driver_for,
    parse_version,
)
from cudaenv._knowledge.gpus import (
    ARCH_CUDA,
    MODEL_CAPABILITY,
    PTX_ISA_CUDA,
    capability_of_model,
    code_runs_on,
    cuda_can_target,
    cuda_of_ptx_isa,
    forward_compat_supported,
    targets_of_cuda,
)
from cudaenv._probes.archs import gpu_code
from gpucode import FIXTURES, nvcc

NVCC = nvcc()

# -- drivers --------------------------------------------------------------------------------------


def test_every_toolkit_minimum_driver_reports_that_toolkit() -> None:
    # The driver a toolkit ships with belongs to the branch that reports the toolkit's version.
    for toolkit, driver in TOOLKIT_MIN_DRIVER:
        assert cuda_of_driver(driver) == toolkit, (toolkit, driver)


def test_tables_ascend() -> None:
    for table in (TOOLKIT_MIN_DRIVER, PTX_ISA_CUDA):
        keys = [parse_version(k) for k, _ in table]
        values = [parse_version(v) for _, v in table]
        assert keys == sorted(keys)
        assert values == sorted(values)
    branches = [b for b, _ in BRANCH_CUDA]
    assert branches == sorted(branches)
    assert [parse_version(c) for _, c in BRANCH_CUDA] == sorted(
        parse_version(c) for _, c in BRANCH_CUDA
    )


def test_minor_version_minimum_is_in_each_major_first_branch() -> None:
    # Every X.1+ toolkit's driver satisfies X's MVC minimum; the minimum itself is a driver of
    # the X.0 branch (11.0 GA's own 450.51.05 predates it: a documented edge).
    for major, minimum in MVC_MIN_DRIVER.items():
        later = [
            parse_version(d)
            for t, d in TOOLKIT_MIN_DRIVER
            if parse_version(t)[0] == major and parse_version(t)[1] > 0
        ]
        assert parse_version(minimum) <= min(later)
        assert cuda_of_driver(minimum) == f"{major}.0"


@pytest.mark.parametrize(
    ("driver", "cuda", "expected"),
    [
        ("535.104.05", "12.2", Compatibility.FULL),
        ("535.104.05", "12.8", Compatibility.MINOR_VERSION),  # a 12.8 runtime on R535: MVC
        ("535.104.05", "13.0", Compatibility.TOO_OLD),
        ("470.82.01", "12.1", Compatibility.TOO_OLD),  # "found version 11040"
        ("470.82.01", "11.8", Compatibility.MINOR_VERSION),
        ("450.51.05", "11.0", Compatibility.FULL),
        ("450.51.05", "11.2", Compatibility.TOO_OLD),  # below 11.x's MVC minimum 450.80.02
        ("580.65.06", "12.8", Compatibility.FULL),
        ("999.1", "13.3", Compatibility.FULL),  # a future branch reports at least the newest
    ],
)
def test_driver_runs(driver: str, cuda: str, expected: str) -> None:
    assert driver_runs(driver, cuda) == expected


def test_min_driver_for_an_unreleased_minor_is_the_next_release() -> None:
    assert min_driver_for("12.7") == "570.26"
    assert min_driver_for("12.4") == "550.54.14"


# -- GPUs and architectures ---------------------------------------------------------------------

REAL_MODEL_LINES = {
    # as /proc/driver/nvidia/gpus/*/information and nvidia-smi name them
    "NVIDIA GeForce RTX 3090": "8.6",
    "NVIDIA GeForce RTX 4090": "8.9",
    "NVIDIA GeForce RTX 5090": "12.0",
    "NVIDIA GeForce RTX 2080 Ti": "7.5",
    "NVIDIA GeForce GTX 1080 Ti": "6.1",
    "NVIDIA GeForce GTX 1650": "7.5",
    "NVIDIA GeForce GTX 970": "5.2",
    "Tesla T4": "7.5",
    "Tesla V100-SXM2-16GB": "7.0",
    "Tesla P100-PCIE-16GB": "6.0",
    "Tesla K80": "3.7",
    "NVIDIA A100-SXM4-80GB": "8.0",
    "NVIDIA A10G": "8.6",
    "NVIDIA A10": "8.6",
    "NVIDIA RTX A6000": "8.6",
    "NVIDIA L4": "8.9",
    "NVIDIA L40S": "8.9",
    "NVIDIA RTX 6000 Ada Generation": "8.9",
    "NVIDIA H100 80GB HBM3": "9.0",
    "NVIDIA H100 PCIe": "9.0",
    "NVIDIA H200": "9.0",
    "NVIDIA GH200 480GB": "9.0",
    "NVIDIA B200": "10.0",
    "NVIDIA GB200": "10.0",
    "NVIDIA B300 SXM6 AC": "10.3",
    "NVIDIA RTX PRO 6000 Blackwell Server Edition": "12.0",
    "Quadro RTX 8000": "7.5",
    "NVIDIA TITAN V": "7.0",
}


@pytest.mark.parametrize(("model", "capability"), sorted(REAL_MODEL_LINES.items()))
def test_model_names_map_to_their_capability(model: str, capability: str) -> None:
    assert capability_of_model(model) == capability


def test_unknown_models_stay_unknown() -> None:
    assert capability_of_model("NVIDIA Graphics Device") is None
    assert capability_of_model("Matrox G200") is None


def test_every_capability_in_the_model_table_has_an_architecture_row() -> None:
    for _, capability in MODEL_CAPABILITY:
        assert capability in ARCH_CUDA


@pytest.mark.parametrize(
    ("model", "supported"),
    [
        ("NVIDIA H100 80GB HBM3", True),
        ("Tesla T4", True),
        ("NVIDIA L4", True),
        ("NVIDIA GeForce RTX 4090", False),
        ("NVIDIA TITAN RTX", False),
        ("NVIDIA RTX A6000", None),
        ("NVIDIA Graphics Device", None),
    ],
)
def test_forward_compatibility_support(model: str, supported: bool | None) -> None:
    assert forward_compat_supported(model) is supported


@pytest.mark.parametrize(
    ("code", "capability", "runs"),
    [
        ("sm_80", "8.6", True),  # same major, higher minor
        ("sm_86", "8.0", False),
        ("sm_80", "9.0", False),  # SASS never crosses a major
        ("sm_90a", "9.0", True),
        ("sm_90a", "9.1", False),  # architecture-specific: exactly that GPU
        ("compute_90", "12.0", True),  # PTX is JIT-compiled for newer GPUs
        ("compute_90", "8.9", False),
        ("compute_120a", "12.1", False),
        ("compute_100f", "10.3", True),  # family PTX: same major, minor at least
        ("compute_100f", "12.0", False),
        ("sm_100", "10.3", True),
    ],
)
def test_code_runs_on(code: str, capability: str, runs: bool) -> None:
    assert code_runs_on(code, capability) is runs


def test_architecture_ranges() -> None:
    assert cuda_can_target("12.4", "6.1") is True
    assert cuda_can_target("13.0", "6.1") is False  # Pascal dropped in 13.0
    assert cuda_can_target("10.2", "8.6") is False  # Ampere needs 11.1
    assert cuda_can_target("12.6", "12.0") is False  # Blackwell consumer needs 12.8
    assert cuda_can_target("12.8", "12.0") is True
    assert cuda_can_target("12.8", "4.2") is None


@pytest.mark.skipif(NVCC is None, reason="nvcc not installed")
def test_architectures_of_the_toolkit_at_hand_match_nvcc() -> None:
    assert NVCC is not None
    listed = subprocess.run(
        [NVCC, "--list-gpu-arch"], capture_output=True, text=True, check=True
    ).stdout.split()
    release = subprocess.run([NVCC, "--version"], capture_output=True, text=True, check=True).stdout
    version = release.split("release ", 1)[1].split(",", 1)[0]
    from_nvcc = sorted(
        (f"{a[8:-1]}.{a[-1]}" for a in listed if a.startswith("compute_")),
        key=parse_version,
    )
    assert targets_of_cuda(version) == from_nvcc


def test_ptx_isa_of_a_real_fat_binary_names_its_toolkit() -> None:
    # tests/data/fatbin was built by CUDA 13.0, whose PTX is ISA 9.0
    code = gpu_code(Host("/", {}), str(FIXTURES / "libsmall.so"))
    assert code.ptx_isa is not None
    assert cuda_of_ptx_isa(code.ptx_isa) == "13.0"
    assert cuda_of_ptx_isa("99.0") is None


# -- host compilers -----------------------------------------------------------------------------


def _host_configs() -> list[Path]:
    found = []
    for root in sorted(Path("/usr/local").glob("cuda-*")):
        for header in (
            root / "include/crt/host_config.h",
            *root.glob("targets/*/include/crt/host_config.h"),
        ):
            if header.is_file():
                found.append(header)
                break
    return found


@pytest.mark.skipif(not _host_configs(), reason="no CUDA toolkit with host_config.h here")
@pytest.mark.parametrize("header", _host_configs(), ids=lambda p: p.parts[3])
def test_compiler_table_agrees_with_the_real_host_config(header: Path) -> None:
    gcc_max, clang_max = limits_from_host_config(header.read_text(errors="replace"))
    version = header.parts[3].split("-", 1)[1]
    row = NVCC_HOST_COMPILERS[version]
    assert (gcc_max, clang_max) == (row[1], row[3])


def test_host_config_parser_skips_the_grace_and_horizon_clang_checks() -> None:
    text = (
        "#error -- unsupported Grace clang version! The version must be 16.x to 19.x.\n"
        "#error -- unsupported GNU version! gcc versions later than 14 are not supported!\n"
        "#error -- unsupported HOS clang version! The version must be must be less than 20\n"
        "#error -- unsupported clang version! clang version must be less than 20 and greater\n"
    )
    assert limits_from_host_config(text) == (14, 19)


def test_compiler_ranges_never_shrink() -> None:
    rows = sorted(NVCC_HOST_COMPILERS.items(), key=lambda kv: parse_version(kv[0]))
    assert [r[1][1] for r in rows] == sorted(r[1][1] for r in rows)
    assert [r[1][3] for r in rows] == sorted(r[1][3] for r in rows)
    assert host_compiler_range("12.4.1", "gcc") == (6, 13)
    assert host_compiler_range("9.2", "gcc") is None


# -- framework builds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.5.1+cu124", ("cuda", "12.4")),
        ("2.5.1+cpu", ("cpu", None)),
        ("2.7.0+cu128", ("cuda", "12.8")),
        ("1.7.1+cu101", ("cuda", "10.1")),
        ("2.4.0+rocm6.1", ("rocm", None)),
        ("2.1.2+pt21cu121", ("cuda", "12.1")),
        ("0.6.3.post1+cu118", ("cuda", "11.8")),
        ("2.5.1", (None, None)),
    ],
)
def test_local_tags(version: str, expected: tuple[str | None, str | None]) -> None:
    assert local_tag_variant(version) == expected


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        ("py3.11_cuda12.1_cudnn8.9.2_0", ("cuda", "12.1", "8.9.2")),
        ("py3.8_cpu_0", ("cpu", None, None)),
        ("cuda126_generic_py312h1234567_300", ("cuda", "12.6", None)),
        ("cuda120_py311h0123456_301", ("cuda", "12.0", None)),
        ("cpu_generic_py312h1234567_0", ("cpu", None, None)),
        ("py311h1234567_0", (None, None, None)),
    ],
)
def test_conda_build_strings(build: str, expected: tuple[str | None, ...]) -> None:
    assert conda_build_variant(build) == expected


def test_cupy_variants_and_companions() -> None:
    assert cupy_variant_cuda("cupy-cuda12x") == "12"
    assert cupy_variant_cuda("cupy-cuda102") == "10.2"
    assert cupy_variant_cuda("cupy") is None
    assert companion_series("torchvision", "0.23.0") == "2.8"
    assert companion_series("torchvision", "0.14.1") == "1.13"
    assert companion_series("torchaudio", "2.5.1") == "2.5"
    assert companion_series("torchaudio", "0.13.1") == "1.13"


def test_tensorflow_table_ascends_with_releases() -> None:
    rows = sorted(TF_TESTED.items(), key=lambda kv: parse_version(kv[0]))
    cudas = [parse_version(cuda) for _, (cuda, _) in rows]
    assert cudas == sorted(cudas)


def test_torch_releases_limit_the_variants() -> None:
    from cudaenv._knowledge.builds import torch_index_for, torch_release_cuda

    def full_up_to_12_4(cuda: str) -> str:  # an R550 driver
        return driver_runs("550.54.14", cuda)

    assert torch_release_cuda("2.5.1+cu124") == frozenset({"11.8", "12.1", "12.4"})
    assert torch_release_cuda("9.9.0") is None
    # unpinned: the current variants only (cu126 by minor-version compatibility on R550)
    assert torch_index_for(full_up_to_12_4, ["8.9"]) == (
        "12.6",
        "https://download.pytorch.org/whl/cu126",
    )
    # torch 2.5 has cu124, which R550 runs fully
    chosen = torch_index_for(full_up_to_12_4, ["8.9"], torch_release_cuda("2.5.1"))
    assert chosen is not None
    assert chosen[0] == "12.4"
    # an RTX 5090 (12.0) has no torch 2.5 build at all
    assert torch_index_for(full_up_to_12_4, ["12.0"], torch_release_cuda("2.5.1")) is None
