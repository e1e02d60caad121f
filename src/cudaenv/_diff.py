"""What differs between two snapshots (two machines, or one environment before and after).

The snapshots are compared as JSON trees.  Lists of records are matched by what identifies
them (a framework by its name, a toolkit by its root, a GPU by its PCI address ...) rather than
by position, so an added environment is one addition, not a shift of everything after it.
Differences about CUDA come first: the driver and GPUs, the frameworks, the toolkits and the
libraries, the CUDA variables; then the rest.
"""

from __future__ import annotations

from typing import Any

from ._records import record

__all__ = ["Difference", "diff_snapshots"]

_IDENTITY = ("name", "prefix", "root", "path", "pci", "consumer", "subject", "code", "key")
_IGNORED = frozenset({"tool_version", "redacted"})
_PRIORITY = (
    "driver",
    "gpus",
    "frameworks",
    "toolkits",
    "toolkit_choices",
    "host_compiler",
    "libraries",
    "environ",
    "target",
)
_CUDA_WORDS = ("cuda", "nvidia", "cudnn", "nccl", "torch", "cupy", "jax", "tensorflow", "ld_")


@record
class Difference:
    path: str
    """Where: ``frameworks[torch].cuda``, ``environ.CUDA_HOME``."""
    kind: str
    """added, removed or changed."""
    before: Any = None
    after: Any = None
    cuda: bool = False
    """About CUDA: listed first."""


def _key(item: Any, index: int) -> str:  # noqa: ANN401
    if isinstance(item, dict):
        for field in _IDENTITY:
            value = item.get(field)
            if isinstance(value, str) and value:
                return value
    return f"#{index}"


def _walk(path: str, a: Any, b: Any, out: list[Difference]) -> None:  # noqa: ANN401
    if isinstance(a, dict) and isinstance(b, dict):
        for name in list(a) + [k for k in b if k not in a]:
            where = f"{path}.{name}" if path else str(name)
            if name not in b:
                out.append(Difference(where, "removed", before=a[name]))
            elif name not in a:
                out.append(Difference(where, "added", after=b[name]))
            else:
                _walk(where, a[name], b[name], out)
        return
    if isinstance(a, list) and isinstance(b, list) and (a or b):
        keyed_a = {_key(v, i): v for i, v in enumerate(a)}
        keyed_b = {_key(v, i): v for i, v in enumerate(b)}
        if len(keyed_a) == len(a) and len(keyed_b) == len(b):
            for key in list(keyed_a) + [k for k in keyed_b if k not in keyed_a]:
                where = f"{path}[{key}]"
                if key not in keyed_b:
                    out.append(Difference(where, "removed", before=keyed_a[key]))
                elif key not in keyed_a:
                    out.append(Difference(where, "added", after=keyed_b[key]))
                else:
                    _walk(where, keyed_a[key], keyed_b[key], out)
            return
    if a != b:
        out.append(Difference(path, "changed", before=a, after=b))


def _is_cuda(path: str) -> bool:
    head = path.split(".", 1)[0].split("[", 1)[0]
    if head in _PRIORITY[:7]:
        return True
    lowered = path.lower()
    return any(word in lowered for word in _CUDA_WORDS)


def _order(difference: Difference) -> tuple[int, int, str]:
    head = difference.path.split(".", 1)[0].split("[", 1)[0]
    rank = _PRIORITY.index(head) if head in _PRIORITY else len(_PRIORITY)
    return (0 if difference.cuda else 1, rank, difference.path)


def diff_snapshots(a: dict[str, Any], b: dict[str, Any]) -> list[Difference]:
    """Every difference between two snapshot documents, CUDA-relevant ones first."""
    found: list[Difference] = []
    _walk(
        "",
        {k: v for k, v in a.items() if k not in _IGNORED},
        {k: v for k, v in b.items() if k not in _IGNORED},
        found,
    )
    marked = [Difference(d.path, d.kind, d.before, d.after, cuda=_is_cuda(d.path)) for d in found]
    return sorted(marked, key=_order)
