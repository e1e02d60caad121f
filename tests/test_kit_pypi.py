"""The PyPI part of the test kit: real closures, RECORDs, wheel members and ELF facts, offline."""

from __future__ import annotations

import email.parser
import fnmatch
import hashlib
import os
import re

import pytest

import kit_pypi

SHA256 = re.compile(r"[0-9a-f]{64}")
ALL_CLOSURES = kit_pypi.closures()


def test_the_kit_has_data() -> None:
    assert "torch-2.4.1" in ALL_CLOSURES
    assert kit_pypi.members()
    assert kit_pypi.elf_keys()


@pytest.mark.parametrize("slug", ALL_CLOSURES)
def test_every_closure_parses(slug: str) -> None:
    document = kit_pypi.closure_document(slug)
    assert document["slug"] == slug
    assert tuple(document["spec"]) == kit_pypi.SPECS[slug]
    assert "--dry-run" in document["command"]
    assert "--report" in document["command"]
    dists = kit_pypi.closure(slug)
    assert dists
    keys = [dist.key for dist in dists]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    for dist in dists:
        assert SHA256.fullmatch(dist.sha256), dist
        assert dist.wheel.endswith(".whl"), dist
        assert dist.wheel.split("-")[0].lower() == dist.key.replace("-", "_"), dist
        assert all(isinstance(requirement, str) for requirement in dist.requires_dist)
    requested = {re.split(r"[\[=<>~!; ]", spec, maxsplit=1)[0] for spec in document["spec"]}
    assert {kit_pypi._normalize(name) for name in requested} <= set(keys)


def test_torch_2_4_1_pulls_nvjitlink_only_transitively() -> None:
    dists = {dist.key: dist for dist in kit_pypi.closure("torch-2.4.1")}
    assert "nvidia-nvjitlink-cu12" in dists
    torch = dists["torch"]
    assert torch.version == "2.4.1"
    assert not any("nvjitlink" in requirement for requirement in torch.requires_dist)
    pulling = [
        key for key, dist in dists.items() if any("nvjitlink" in r for r in dist.requires_dist)
    ]
    assert pulling  # cusolver / cusparse name it
    assert all(key.startswith("nvidia-") for key in pulling)


def test_nvidia_and_framework_wheels_have_their_record() -> None:
    for slug in ALL_CLOSURES:
        for dist in kit_pypi.closure(slug):
            if dist.key.startswith("nvidia-") or dist.key in kit_pypi.RECORD_OF:
                dist_info = [p for p in dist.record if p.endswith(".dist-info/RECORD")]
                assert dist_info, (slug, dist.wheel)
    torch = next(d for d in kit_pypi.closure("torch-2.4.1") if d.key == "torch")
    assert "torch/lib/libtorch_cuda.so" in torch.record
    assert "torch/version.py" in torch.record
    runtime = next(
        d for d in kit_pypi.closure("torch-2.4.1") if d.key == "nvidia-cuda-runtime-cu12"
    )
    assert "nvidia/cuda_runtime/lib/libcudart.so.12" in runtime.record


def test_long_records_keep_only_the_layout() -> None:
    for entry in kit_pypi.records().values():
        assert entry["filtered"] == (entry["entries"] > kit_pypi.RECORD_ALL_UP_TO), entry["wheel"]
        assert entry["paths"] == sorted(entry["paths"])
        if entry["filtered"]:
            for path in entry["paths"]:
                assert any(fnmatch.fnmatch(path, p) for p in kit_pypi.RECORD_KEEP), path
        else:
            assert len(entry["paths"]) == entry["entries"], entry["wheel"]


@pytest.mark.parametrize("key", sorted(kit_pypi.members()))
def test_member_bytes_match_sources(key: str) -> None:
    source = kit_pypi.members()[key]
    data = kit_pypi.member(key)
    assert hashlib.sha256(data).hexdigest() == source["sha256"]
    assert len(data) == source["size"]
    assert key == f"{source['wheel']}/{source['member']}"
    assert source["url"].startswith("https://files.pythonhosted.org/packages/")
    assert source["url"].endswith("/" + source["wheel"])
    assert SHA256.fullmatch(source["wheel_sha256"])


def test_member_wheels_agree_with_closures() -> None:
    by_wheel = {d.wheel: d.sha256 for slug in ALL_CLOSURES for d in kit_pypi.closure(slug)}
    sources = list(kit_pypi.members().values())
    sources += [kit_pypi.elf(key)["source"] for key in kit_pypi.elf_keys()]
    shared = [s for s in sources if s["wheel"] in by_wheel]
    assert shared
    for source in shared:
        assert by_wheel[source["wheel"]] == source["wheel_sha256"], source["wheel"]


def test_unknown_member_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        kit_pypi.member("no-such-1.0-py3-none-any.whl/nothing.py")


@pytest.mark.parametrize("slug", ALL_CLOSURES)
def test_metadata_text_round_trips(slug: str) -> None:
    for dist in kit_pypi.closure(slug):
        message = email.parser.Parser().parsestr(dist.metadata_text())
        assert message["Metadata-Version"] == "2.1"
        assert message["Name"] == dist.name
        assert message["Version"] == dist.version
        assert message["Requires-Python"] == dist.requires_python
        assert tuple(message.get_all("Requires-Dist") or ()) == dist.requires_dist


@pytest.mark.parametrize("key", kit_pypi.elf_keys())
def test_elf_facts_are_complete(key: str) -> None:
    facts = kit_pypi.elf(key)
    assert set(facts) == {"needed", "rpath", "runpath", "soname", "so_strings", "source"}
    assert all(name and "/" not in name for name in facts["needed"])
    assert key == f"{facts['source']['wheel']}/{facts['source']['member']}"
    assert SHA256.fullmatch(facts["source"]["sha256"])


def test_elf_reader_agrees_with_pyelftools() -> None:
    elffile = pytest.importorskip("elftools.elf.elffile")
    import _ssl  # an extension module: a shared object with DT_NEEDED entries

    path = _ssl.__file__
    if path is None or not os.path.isfile(path):
        pytest.skip("_ssl is built into this interpreter")
    with open(path, "rb") as file:
        data = file.read()
        file.seek(0)
        dynamic = elffile.ELFFile(file).get_section_by_name(".dynamic")
        tags = {
            tag.entry.d_tag: tag for tag in dynamic.iter_tags() if tag.entry.d_tag != "DT_NEEDED"
        }
        needed = [tag.needed for tag in dynamic.iter_tags() if tag.entry.d_tag == "DT_NEEDED"]
    facts = kit_pypi.elf_dynamic(data)
    assert facts["needed"] == needed
    assert facts["runpath"] == (tags["DT_RUNPATH"].runpath if "DT_RUNPATH" in tags else None)
    assert facts["rpath"] == (tags["DT_RPATH"].rpath if "DT_RPATH" in tags else None)


def test_cupy_13_and_later_do_not_link_the_runtime() -> None:
    runtime = "cupy_backends/cuda/api/runtime.cpython-311-x86_64-linux-gnu.so"
    by_release = {
        key.split("-")[1]: kit_pypi.elf(key)
        for key in kit_pypi.elf_keys()
        if key.startswith("cupy_cuda12x-") and key.endswith(runtime)
    }
    assert set(by_release) >= {"13.3.0"}
    assert len(by_release) == 3
    twelve = [facts for release, facts in by_release.items() if release.startswith("12.")]
    assert "libcudart.so.12" in twelve[0]["needed"]
    for release, facts in by_release.items():
        if not release.startswith("12."):
            assert not any(name.startswith("libcudart") for name in facts["needed"]), release
