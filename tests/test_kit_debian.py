"""The Debian 12 kit (tests/kit_debian.py) builds what a real bookworm machine has: checked
with the real ``ldconfig`` and its real ``ld.so.cache``, never by reading our own writing back.

What these tests pin down (observed, see tests/data/real/debian/README.md):

- after ``apt install libcuda1 ...`` on merged ``/usr``, ldconfig records
  ``libcuda.so.1 => /lib/x86_64-linux-gnu/libcuda.so.1``: the directory is one directory under
  two names (``/lib/x86_64-linux-gnu`` and ``/usr/lib/x86_64-linux-gnu``, listed in that order
  by ``ld.so.conf.d/x86_64-linux-gnu.conf``), and the entry carries the first name;
- the link reaches the library through the alternatives system:
  ``/usr/lib/x86_64-linux-gnu/libcuda.so.1`` -> ``/etc/alternatives/...`` ->
  ``/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1`` -> ``libcuda.so.<version>``;
- ldconfig (run as the libc-bin trigger runs it, without ``-X``) leaves every link as it is;
- inside a container, nvidia-container-cli's hook names the directory on ldconfig's command
  line, and then entries carry ``/usr/lib/x86_64-linux-gnu``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import kit_debian as kit

pytestmark = pytest.mark.slow

LIB = "/lib/x86_64-linux-gnu"
USRLIB = "/usr/lib/x86_64-linux-gnu"


def cache_entries(root: Path) -> dict[str, list[str]]:
    """SONAME → paths, as the real ``ldconfig -p`` reads ``root/etc/ld.so.cache``."""
    out = subprocess.run(
        [kit._ldconfig(), "-p", "-C", str(root / "etc/ld.so.cache")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entries: dict[str, list[str]] = {}
    for line in out.splitlines():
        match = re.match(r"\s+(\S+) \(([^)]*)\) => (\S+)$", line)
        if match:
            entries.setdefault(match[1], []).append(match[3])
    return entries


def links(root: Path) -> dict[str, str]:
    """Every symlink in ``root`` (as seen inside it) → its target text."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            if path.is_symlink():
                found["/" + str(path.relative_to(root))] = os.readlink(path)
    return found


def first_name(root: Path) -> str:
    """Of the two names of the multiarch directory, the one ld.so.conf lists first."""
    conf = (root / "etc/ld.so.conf.d/x86_64-linux-gnu.conf").read_text().split()
    return min((LIB, USRLIB), key=conf.index)


Built = tuple[Path, str, dict[str, str]]


def build(root: Path, flavour: kit.Flavour) -> tuple[str, dict[str, str]]:
    """A Debian 12 root with the driver; the version and the links before ldconfig ran."""
    kit.merged_usr(root)
    kit.ld_so_conf(root)
    version = kit.install_driver(root, flavour, gpu_model="NVIDIA A100-SXM4-80GB")
    return version, links(root)


@pytest.fixture(scope="module")
def debian(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("debian") / "root"
    version, before = build(root, "debian")
    kit.run_ldconfig(root)
    return root, version, before


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("flat") / "root"
    version, before = build(root, "flat")
    kit.run_ldconfig(root)
    return root, version, before


def test_debian_driver_is_recorded_under_the_first_name(debian: Built) -> None:
    root, version, _ = debian
    assert first_name(root) == LIB
    entries = cache_entries(root)
    assert entries == {
        "libcuda.so.1": [f"{LIB}/libcuda.so.1"],
        "libcuda.so": [f"{LIB}/libcuda.so"],
        "libnvidia-ml.so.1": [f"{LIB}/libnvidia-ml.so.1"],
        "libnvidia-ptxjitcompiler.so.1": [f"{LIB}/libnvidia-ptxjitcompiler.so.1"],
        f"libnvidia-pkcs11-openssl3.so.{version}": [
            f"{LIB}/libnvidia-pkcs11-openssl3.so.{version}"
        ],
    }


def test_debian_driver_links_are_the_alternatives(debian: Built) -> None:
    root, version, before = debian
    alt = "/etc/alternatives/nvidia--"
    current = f"{USRLIB}/nvidia/current"
    expected = {
        "/bin": "usr/bin",
        "/sbin": "usr/sbin",
        "/lib": "usr/lib",
        "/lib64": "usr/lib64",
        # shipped in the .debs (dpkg-deb -c)
        f"{current}/libcuda.so": "libcuda.so.1",
        f"{current}/libcuda.so.1": f"libcuda.so.{version}",
        f"{current}/libnvidia-ml.so": "libnvidia-ml.so.1",
        f"{current}/libnvidia-ml.so.1": f"libnvidia-ml.so.{version}",
        f"{current}/libnvidia-ptxjitcompiler.so.1": f"libnvidia-ptxjitcompiler.so.{version}",
        # update-alternatives, from nvidia-alternative's postinst
        "/usr/lib/nvidia/nvidia": "/etc/alternatives/nvidia",
        "/etc/alternatives/nvidia": "/usr/lib/nvidia/current",
        f"{USRLIB}/libcuda.so.1": f"{alt}libcuda.so.1-x86_64-linux-gnu",
        f"{alt}libcuda.so.1-x86_64-linux-gnu": f"{current}/libcuda.so.1",
        f"{USRLIB}/libcuda.so": f"{alt}libcuda.so-x86_64-linux-gnu",
        f"{alt}libcuda.so-x86_64-linux-gnu": f"{current}/libcuda.so",
        f"{USRLIB}/libnvidia-ml.so.1": f"{alt}libnvidia-ml.so.1-x86_64-linux-gnu",
        f"{alt}libnvidia-ml.so.1-x86_64-linux-gnu": f"{current}/libnvidia-ml.so.1",
        f"{USRLIB}/libnvidia-ptxjitcompiler.so.1": (
            f"{alt}libnvidia-ptxjitcompiler.so.1-x86_64-linux-gnu"
        ),
        f"{alt}libnvidia-ptxjitcompiler.so.1-x86_64-linux-gnu": (
            f"{current}/libnvidia-ptxjitcompiler.so.1"
        ),
        "/usr/bin/nvidia-smi": f"{alt}nvidia-smi",
        f"{alt}nvidia-smi": "/usr/lib/nvidia/current/nvidia-smi",
        "/usr/share/man/man1/nvidia-smi.1.gz": f"{alt}nvidia-smi.1.gz",
        f"{alt}nvidia-smi.1.gz": "/usr/lib/nvidia/current/nvidia-smi.1.gz",
        # update-alternatives, from glx-alternative-nvidia's postinst ("cudaonly")
        "/usr/lib/glx": "/etc/alternatives/glx",
        "/etc/alternatives/glx": "/usr/lib/nvidia",
    }
    found = {k: v for k, v in links(root).items() if not k.startswith("/usr/share/doc/")}
    assert found == expected
    assert before == links(root), "ldconfig changed links that apt left"
    real = kit._resolve_in_root(root, f"{LIB}/libcuda.so.1")
    assert real == root / f"usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.{version}"
    assert real is not None
    assert real.read_bytes()[:4] == b"\x7fELF"
    assert not (root / "usr/lib/x86_64-linux-gnu/libnvidia-ml.so").is_symlink()  # no nvml.h
    admin = (root / "var/lib/dpkg/alternatives/nvidia").read_text().splitlines()
    assert admin[:2] == ["auto", "/usr/lib/nvidia/nvidia"]
    assert "/usr/lib/nvidia/current" in admin
    assert version.split(".")[0] in admin  # the priority is the driver branch


def test_kernel_files_are_the_modules_text(debian: Built) -> None:
    root, version, _ = debian
    text = (root / "proc/driver/nvidia/version").read_text()
    assert re.fullmatch(
        rf"NVRM version: NVIDIA UNIX x86_64 Kernel Module  {re.escape(version)}  "
        r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}\n"
        r"GCC version:  gcc version 12\.2\.0 \(Debian 12\.2\.0-14\+deb12u1\) \n",
        text,
    ), text
    assert (root / "sys/module/nvidia/version").read_text() == f"{version}\n"
    info = (root / "proc/driver/nvidia/gpus/0000:01:00.0/information").read_text()
    assert info.startswith("Model: \t\t NVIDIA A100-SXM4-80GB\n")
    assert "Bus Location: \t 0000:01:00.0\n" in info


def test_flat_driver_is_recorded_under_the_first_name(flat: Built) -> None:
    root, version, before = flat
    assert before == links(root)
    assert {k: v for k, v in links(root).items() if k.startswith(USRLIB)} == {
        f"{USRLIB}/libcuda.so": "libcuda.so.1",
        f"{USRLIB}/libcuda.so.1": f"libcuda.so.{version}",
        f"{USRLIB}/libnvidia-ml.so": "libnvidia-ml.so.1",
        f"{USRLIB}/libnvidia-ml.so.1": f"libnvidia-ml.so.{version}",
        f"{USRLIB}/libnvidia-ptxjitcompiler.so.1": f"libnvidia-ptxjitcompiler.so.{version}",
    }
    entries = cache_entries(root)
    assert entries["libcuda.so.1"] == [f"{LIB}/libcuda.so.1"]
    assert entries["libcuda.so"] == [f"{LIB}/libcuda.so"]
    assert entries["libnvidia-ml.so.1"] == [f"{LIB}/libnvidia-ml.so.1"]
    assert entries["libnvidia-ml.so"] == [f"{LIB}/libnvidia-ml.so"]
    assert (root / "usr/bin/nvidia-smi").read_bytes()[:4] == b"\x7fELF"


def test_container_hook_names_the_usr_directory(tmp_path: Path) -> None:
    root = tmp_path / "root"
    version, _ = build(root, "container")
    for soname in ("libcuda.so.1", "libnvidia-ml.so.1", "libnvidia-ptxjitcompiler.so.1"):
        (root / "usr/lib/x86_64-linux-gnu" / soname).unlink()
    kit.run_ldconfig(root, kit.CONTAINER_LDCONFIG_DIRS)  # the hook's ldconfig makes the links
    assert links(root)[f"{USRLIB}/libcuda.so.1"] == f"libcuda.so.{version}"
    assert links(root)[f"{USRLIB}/libcuda.so"] == "libcuda.so.1"
    assert not (root / "usr/lib/x86_64-linux-gnu/libnvidia-ml.so").exists()
    entries = cache_entries(root)
    assert entries["libcuda.so.1"] == [f"{USRLIB}/libcuda.so.1"]
    assert entries["libnvidia-ml.so.1"] == [f"{USRLIB}/libnvidia-ml.so.1"]
    kit.run_ldconfig(root)  # without the command-line directory: the first name again
    assert cache_entries(root)["libcuda.so.1"] == [f"{LIB}/libcuda.so.1"]


def test_distro_toolkit_layout(tmp_path: Path) -> None:
    root = tmp_path / "root"
    kit.merged_usr(root)
    kit.ld_so_conf(root)
    assert kit.install_distro_toolkit(root).startswith("11.8.89~11.8.0-")
    nvcc = (root / "usr/bin/nvcc").read_text()
    assert nvcc == '#!/bin/sh\n\nexec /usr/lib/nvidia-cuda-toolkit/bin/nvcc "$@"\n'
    assert (root / "usr/lib/nvidia-cuda-toolkit/bin/nvcc").read_bytes()[:4] == b"\x7fELF"
    assert os.readlink(root / "usr/lib/cuda/include/cuda.h") == "../../../include/cuda.h"
    for header in ("cuda.h", "cuda_runtime.h", "cuda_runtime_api.h", "crt/host_config.h"):
        assert "PLACEHOLDER" in (root / "usr/include" / header).read_text()
    assert (root / "usr/include/nvvm.h").read_text().startswith("//")  # real (toolkit .deb)
    assert not list(root.rglob("version.json"))
    assert not list(root.rglob("version.txt"))
    kit.run_ldconfig(root)
    entries = cache_entries(root)
    assert entries["libcudart.so.11.0"] == [f"{LIB}/libcudart.so.11.0"]
    real = kit._resolve_in_root(root, f"{LIB}/libcudart.so.11.0")
    assert real is not None
    assert real.name == "libcudart.so.11.8.89"
    assert real.read_bytes()[:4] == b"\x7fELF"


def test_this_machine_records_the_first_name_too() -> None:
    """The build machine's own ``/`` (when it is a merged-/usr Debian with the same conf)."""
    conf = Path("/etc/ld.so.conf.d/x86_64-linux-gnu.conf")
    saved = kit.DATA / "etc/ld.so.conf.d/x86_64-linux-gnu.conf"
    if not (Path("/lib").is_symlink() and conf.is_file()) or conf.read_text() != saved.read_text():
        pytest.skip("not a merged-/usr Debian 12 machine")
    out = subprocess.run([kit._ldconfig(), "-p"], capture_output=True, text=True, check=True).stdout
    assert f"libc.so.6 (libc6,x86-64) => {LIB}/libc.so.6" in out


def test_fetch_is_idempotent_and_offline_once_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    first = kit.fetch(["libcudart11.0"])
    monkeypatch.setenv("CUDAENV_KIT_DEBIAN_MIRROR", "http://cudaenv-kit.invalid/debian")
    assert kit.fetch(["libcudart11.0"]) == first
    assert (first["libcudart11.0"] / "usr/lib/x86_64-linux-gnu/libcudart.so.11.0").is_symlink()


def test_a_missing_package_fails_loudly() -> None:
    with pytest.raises(kit.KitError, match=r"cudaenv-no-such-package.*Unable to locate"):
        kit.fetch(["cudaenv-no-such-package"])
