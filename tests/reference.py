"""Reference machines assembled from the real-artifact kit (docs/reference-machines.md).

Each part comes from the real thing: a Debian 12 root with merged ``/usr`` and the cache the
real ``ldconfig -r`` writes (kit_debian), the NVIDIA driver's user space from Debian's archive
(kit_debian), and Python stacks as pip resolves them (kit_pypi): every distribution of the
closure with its real METADATA, every shared library its wheel's RECORD lists at its real
path, framework libraries with the NEEDED entries and RPATH of the real wheel's ELF files,
and the frameworks' real version files.  Library bodies are small gcc-built stand-ins with
the real SONAME: the layout and the links are real, the code is not.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any, Optional

import kit_debian
import kit_pypi
from cudaworld import built, place, simple
from worlds import World

__all__ = ["debian_root", "elf_libraries", "install_closure", "machine_driver"]

_SHARED = re.compile(r"\.so(\.\d+)*$")
_SYSTEM = re.compile(r"^(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux)[.-]")


def debian_root(world: World) -> World:
    """A Debian 12 root: merged /usr and Debian's own ld.so.conf (the cache comes last)."""
    kit_debian.merged_usr(world.root)
    kit_debian.ld_so_conf(world.root)
    return world


def machine_driver(world: World, flavour: kit_debian.Flavour, gpu_model: str) -> str:
    """The real driver user space and the loaded module's files; returns its version."""
    return kit_debian.install_driver(world.root, flavour, gpu_model=gpu_model)


def elf_libraries(world: World, directory: str, sonames: tuple[str, ...]) -> None:
    """Toolkit libraries as ELF stand-ins with their SONAMEs (ldconfig caches only ELF)."""
    for soname in sonames:
        place(world, f"{directory}/{soname}", simple(soname))


def _elf_facts(wheel: str) -> dict[str, Any]:
    """Member path -> the real ELF dynamic facts kept for this wheel."""
    found = {}
    for key in kit_pypi.elf_keys():
        name, _, member = key.partition("/")
        if name == wheel:
            found[member] = kit_pypi.elf(key)
    return found


def _stand_in(
    world: World,
    site: str,
    member: str,
    soname: str,
    facts: Optional[dict[str, Any]],
    by_soname: dict[str, Path],
) -> Path:
    needed_names = [str(n) for n in (facts or {}).get("needed", []) or []]
    needed = [by_soname[n] for n in needed_names if n in by_soname and not _SYSTEM.match(n)]
    rpath = (facts or {}).get("rpath")
    runpath = (facts or {}).get("runpath")
    lib = built(
        f"ref:{member}",
        f"int ref_{abs(hash(member)) % 10**8}(void) {{ return 0; }}",
        soname=soname,
        needed=needed,
        rpath=str(rpath) if rpath else None,
        runpath=str(runpath) if runpath else None,
    )
    place(world, f"{site}/{member}", lib)
    return lib


def install_closure(world: World, site: str, slug: str, *, installer: str = "pip") -> None:
    """Install a real pip closure into ``site``: dist-info, libraries and version files."""
    dists = kit_pypi.closure(slug)
    kept = kit_pypi.members()
    by_soname: dict[str, Path] = {}
    framework_libs: list[tuple[str, str, Optional[dict[str, Any]]]] = []
    for dist in dists:
        info = f"{site}/{re.sub(r'[-.]+', '_', dist.name)}-{dist.version}.dist-info"
        world.file(f"{info}/METADATA", dist.metadata_text())
        world.file(f"{info}/INSTALLER", f"{installer}\n")
        world.file(f"{info}/RECORD", "".join(f"{p},,\n" for p in dist.record))
        wheel_facts = _elf_facts(dist.wheel)
        for member in dist.record:
            if ".dist-info/" in member:
                continue
            if member in _kept_member(kept, dist.wheel):  # the real file, byte for byte
                world.file(f"{site}/{member}", kit_pypi.member(f"{dist.wheel}/{member}").decode())
                continue
            if not _SHARED.search(member):
                # ptxas, libdevice, headers, version files: present at their real paths
                mode = 0o755 if "/bin/" in member else 0o644
                world.file(f"{site}/{member}", f"stand-in for {member}\n", mode)
                continue
            if member.startswith("nvidia/"):
                soname = posixpath.basename(member)
                by_soname[soname] = _stand_in(world, site, member, soname, None, by_soname)
            else:
                framework_libs.append((member, posixpath.basename(member), wheel_facts.get(member)))
    # Framework libraries after the NVIDIA ones, leaves first, so NEEDED names real files.
    pending = framework_libs
    for _ in range(len(pending) + 1):
        waiting: list[tuple[str, str, Optional[dict[str, Any]]]] = []
        for member, soname, facts in pending:
            wanted = [str(n) for n in (facts or {}).get("needed", []) or []]
            own = {m[1] for m in pending}
            if any(n in own and n not in by_soname for n in wanted if n != soname):
                waiting.append((member, soname, facts))
                continue
            by_soname[soname] = _stand_in(world, site, member, soname, facts, by_soname)
        if len(waiting) == len(pending):
            for member, soname, facts in waiting:  # a cycle: link what exists
                by_soname[soname] = _stand_in(world, site, member, soname, facts, by_soname)
            break
        pending = waiting
        if not pending:
            break


def _kept_member(kept: dict[str, dict[str, Any]], wheel: str) -> set[str]:
    return {key.partition("/")[2] for key in kept if key.partition("/")[0] == wheel}
