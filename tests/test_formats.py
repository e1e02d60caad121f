"""The pure parsers, on literal inputs."""

from __future__ import annotations

import pytest

from cudaenv._formats.conda import (
    parse_conda_meta_filename,
    parse_condarc_list,
    parse_environments_txt,
)
from cudaenv._formats.jupyter import KernelspecError, parse_kernel_json
from cudaenv._formats.metadata import (
    canonicalize_name,
    parse_dist_dirname,
    parse_metadata_headers,
    requirement_name,
)
from cudaenv._formats.pipconf import normalize_pip_key, parse_pip_config, pip_bool
from cudaenv._formats.pyvenv import parse_pyvenv_cfg
from cudaenv._formats.pyversion import version_from_executable_name, version_in_path
from cudaenv._formats.shebang import parse_shebang
from cudaenv._formats.shellrc import parse_aliases


@pytest.mark.parametrize(
    ("text", "interpreter", "lookup"),
    [
        ("#!/opt/env/bin/python3.12\nimport re\n", "/opt/env/bin/python3.12", None),
        ("#! /usr/bin/python3 -E\n", "/usr/bin/python3", None),
        ("#!/usr/bin/env python3\n", "/usr/bin/env", "python3"),
        ("#!/usr/bin/env -S python3 -u\n", "/usr/bin/env", "python3"),
        ("#!/usr/bin/env PYTHONNOUSERSITE=1 python\n", "/usr/bin/env", "python"),
        ("#!/bin/sh\n'''exec' \"/a b/bin/python\" \"$0\" \"$@\"\n' '''\n", "/a b/bin/python", None),
        ("#!/bin/sh\n'''exec' /long/bin/python3 \"$0\" \"$@\"\n", "/long/bin/python3", None),
        ("#!/bin/sh\necho hi\n", "/bin/sh", None),
        ("#!/opt/x/bin/python\r\nimport re\r\n", "/opt/x/bin/python", None),
    ],
)
def test_shebang(text: str, interpreter: str, lookup: str | None) -> None:
    parsed = parse_shebang(text)
    assert parsed is not None
    assert parsed.interpreter == interpreter
    assert parsed.env_lookup == lookup


@pytest.mark.parametrize("text", ["import re\n", "", "#!\n", "\x7fELF..."])
def test_no_shebang(text: str) -> None:
    assert parse_shebang(text) is None


def test_pyvenv_cfg() -> None:
    cfg = parse_pyvenv_cfg(
        "home = /usr/bin\nInclude-System-Site-Packages = TRUE\nversion_info = 3.12.1\nbroken\n"
    )
    assert cfg == {
        "home": "/usr/bin",
        "include-system-site-packages": "TRUE",
        "version_info": "3.12.1",
    }


def test_metadata_headers_stop_at_the_body_and_join_continuations() -> None:
    text = (
        "Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1+cu124\n"
        "Requires-Dist: nvidia-cuda-runtime-cu12==12.4.127; platform_system == 'Linux'\n"
        "Requires-Dist: filelock\nSummary: a long\n  continued summary\n\n"
        "Requires-Dist: not-a-header\n"
    )
    fields = parse_metadata_headers(text)
    assert fields["name"] == ["torch"]
    assert fields["version"] == ["2.5.1+cu124"]
    assert len(fields["requires-dist"]) == 2
    assert fields["summary"] == ["a long continued summary"]
    assert requirement_name(fields["requires-dist"][0]) == "nvidia-cuda-runtime-cu12"


@pytest.mark.parametrize(
    ("dirname", "expected"),
    [
        ("torch-2.5.1+cu124.dist-info", ("torch", "2.5.1+cu124")),
        ("nvidia_cublas_cu12-12.4.5.8.dist-info", ("nvidia_cublas_cu12", "12.4.5.8")),
        ("numpy-1.24.4-py3.9.egg-info", ("numpy", "1.24.4")),
        ("mypkg.egg-info", ("mypkg", "")),
        ("torch", None),
    ],
)
def test_dist_dirname(dirname: str, expected: tuple[str, str] | None) -> None:
    assert parse_dist_dirname(dirname) == expected


def test_canonicalize_name() -> None:
    assert canonicalize_name("Nvidia_CUBLAS.cu12") == "nvidia-cublas-cu12"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        (
            "pytorch-2.1.0-py3.11_cuda12.1_cudnn8.9.2_0.json",
            ("pytorch", "2.1.0", "py3.11_cuda12.1_cudnn8.9.2_0"),
        ),
        ("cuda-nvcc-impl-12.4.131-h0_0.json", ("cuda-nvcc-impl", "12.4.131", "h0_0")),
        ("history", None),
        ("bad-name.json", None),
    ],
)
def test_conda_meta_filename(filename: str, expected: tuple[str, str, str] | None) -> None:
    assert parse_conda_meta_filename(filename) == expected


def test_environments_txt() -> None:
    assert parse_environments_txt("/a\n\n  /b  \n# comment\n") == ["/a", "/b"]


def test_condarc_block_and_flow_lists() -> None:
    block = (
        "channels:\n  - conda-forge\nenvs_dirs:\n  - ~/envs   # mine\n  - '/shared/envs'\n"
        "- /x\npkgs_dirs: [/p]\n"
    )
    assert parse_condarc_list(block, "envs_dirs") == ["~/envs", "/shared/envs", "/x"]
    assert parse_condarc_list("envs_dirs: [/a, '/b']\n", "envs_dirs") == ["/a", "/b"]
    assert parse_condarc_list("nested:\n  envs_dirs:\n    - /no\n", "envs_dirs") == []


def test_pip_config_sections_keys_and_lines() -> None:
    text = (
        "[global]\nindex-url = https://x\ntarget=/t\n  /continued\n\n"
        "[Install]\nUSER: yes\n; comment\n"
    )
    parsed = parse_pip_config(text)
    assert parsed["global"]["target"] == ("/t\n/continued", 3)
    assert parsed["install"]["user"] == ("yes", 7)
    assert normalize_pip_key("--no_cache-dir") == "no-cache-dir"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("yes", True), ("On", True), ("0", False), ("off", False), ("maybe", None)],
)
def test_pip_bool(value: str, expected: bool | None) -> None:
    assert pip_bool(value) is expected


def test_kernel_json() -> None:
    display, argv = parse_kernel_json('{"argv": ["/e/bin/python", "-m", "x"], "display_name": "E"}')
    assert display == "E"
    assert argv[0] == "/e/bin/python"
    for bad in ("{", "[]", '{"argv": []}', '{"argv": [1]}'):
        with pytest.raises(KernelspecError):
            parse_kernel_json(bad)


def test_aliases() -> None:
    text = (
        "alias ll='ls -l'\n"
        "  alias python=\"/opt/conda/bin/python\" pip='python -m pip'\n"
        "# alias no=1\n"
    )
    assert parse_aliases(text) == [
        ("ll", "ls -l", 1),
        ("python", "/opt/conda/bin/python", 2),
        ("pip", "python -m pip", 2),
    ]


def test_python_versions_in_names() -> None:
    assert version_from_executable_name("python3.12") == "3.12"
    assert version_from_executable_name("python3.13t") == "3.13"
    assert version_from_executable_name("python3") is None
    assert version_in_path("/x/lib/python3.9/site-packages") == "3.9"
    assert version_in_path("/usr/lib/python3/dist-packages") is None
