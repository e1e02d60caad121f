"""Gather node snapshots over a running Dask cluster (``cudaenv fleet --scheduler``).

The only module that imports Dask, and only when that command runs.  Two rounds, every
worker asked at once and each answer awaited at most ``timeout`` seconds:

1. every worker says who it is (``_fleetnode.node_identity``); workers that share a host and
   the world they would diagnose are one node, asked once;
2. one worker per node runs ``cudaenv snapshot`` in a child process (``node_snapshot``), which
   the worker stops after ``timeout`` seconds.

A worker that does not answer, raises, or cannot import cudaenv becomes a failed node with
the reason; the command always returns.  Snapshots are checked here, by this cudaenv, so
every node is judged by the same rules.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Sequence
from typing import Any, Optional

from ._fleet import NodeInput
from .errors import UsageError
from .snapshot import is_snapshot_document

__all__ = ["gather_from_dask"]

_GRACE = 5.0  # seconds beyond the node's own timeout for its answer to travel back


class _NoAnswerError(Exception):
    pass


def gather_from_dask(
    address: str,
    target: Optional[Sequence[str]],
    timeout: float,
) -> tuple[list[NodeInput], list[tuple[str, str]]]:
    """The nodes' snapshots, and the workers that gave none (with why)."""
    try:
        import distributed  # noqa: F401, PLC0415 - the optional extra, checked before use
    except ImportError:
        raise UsageError(
            "fleet --scheduler needs Dask distributed: python -m pip install 'dask[distributed]'"
        ) from None
    return asyncio.run(_gather(address, target, timeout))


async def _gather(
    address: str,
    target: Optional[Sequence[str]],
    timeout: float,
) -> tuple[list[NodeInput], list[tuple[str, str]]]:
    from distributed import Client  # noqa: PLC0415

    from ._fleetnode import node_identity, node_snapshot  # noqa: PLC0415

    try:
        client = await Client(  # type: ignore[no-untyped-call]
            address,
            asynchronous=True,
            timeout=timeout,  # Dask retries a refused connection until then
            set_as_default=False,
            name="cudaenv-fleet",
        )
    except (OSError, ValueError, asyncio.TimeoutError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: {_first_line(exc)}"
        ) from None
    try:
        info = (await client.scheduler.identity()).get("workers", {})
        workers = sorted(info)
        if not workers:
            raise UsageError(f"the Dask scheduler at {address} has no workers")

        async def ask(worker: str, call: Awaitable[dict[str, Any]], limit: float) -> Any:  # noqa: ANN401
            try:
                answers = await asyncio.wait_for(call, limit)
            except asyncio.TimeoutError:
                return _NoAnswerError(f"no answer within {limit:g} s")
            return answers.get(worker, _NoAnswerError("the worker left the cluster"))

        identities = await asyncio.gather(
            *(
                ask(w, client.run(node_identity, workers=[w], on_error="return"), timeout)
                for w in workers
            )
        )
        failed: list[tuple[str, str]] = []
        chosen: dict[tuple[str, ...], tuple[str, dict[str, str]]] = {}
        for worker, identity in zip(workers, identities):
            if isinstance(identity, BaseException):
                name = info[worker].get("name")  # a name given to the worker (--name)
                label = f"{name} ({worker})" if isinstance(name, str) and name != worker else worker
                failed.append((label, _worker_error(identity)))
                continue
            key: tuple[str, ...] = (identity["host"], identity["root"], identity["env_file"])
            if target is None:  # each worker diagnoses its own interpreter's environment
                key += (identity["python"],)
            chosen.setdefault(key, (worker, identity))
        picked = list(chosen.values())
        answers = await asyncio.gather(
            *(
                ask(
                    w,
                    client.run(node_snapshot, target, timeout, workers=[w], on_error="return"),
                    timeout + _GRACE,
                )
                for w, _ in picked
            )
        )
    finally:
        await client.close()
    nodes: list[NodeInput] = []
    names: set[str] = set()
    for (worker, identity), answer in zip(picked, answers):
        snapshot, error = _snapshot_of(answer)
        if snapshot is None:
            failed.append((f"{identity['host']} ({worker})", error))
            continue
        name = snapshot.get("hostname") or identity["host"]
        if name in names:  # two worlds on one host (another interpreter or root)
            name = f"{name} ({worker})"
        names.add(name)
        nodes.append(NodeInput(name, snapshot))
    return nodes, failed


def _snapshot_of(answer: Any) -> tuple[Optional[dict[str, Any]], str]:  # noqa: ANN401
    """The snapshot a worker sent, or why there is none."""
    if isinstance(answer, BaseException):
        return None, _worker_error(answer)
    if "error" in answer:
        return None, str(answer["error"])
    if answer["returncode"] != 0:
        lines = [line for line in answer["stderr"].splitlines() if line.strip()]
        said = lines[-1].removeprefix("cudaenv: error: ") if lines else "no message"
        return None, f"cudaenv snapshot exited with status {answer['returncode']}: {said}"
    try:
        snapshot = json.loads(answer["stdout"])
    except (ValueError, RecursionError):
        return None, "cudaenv snapshot wrote no JSON document"
    if not is_snapshot_document(snapshot):
        return None, "cudaenv snapshot wrote something other than a snapshot"
    return snapshot, ""


def _worker_error(exc: BaseException) -> str:
    # The worker's ImportError reaches here wrapped or re-raised, depending on the Dask version.
    if "No module named 'cudaenv'" in str(exc):
        return (
            "cudaenv is not installed in the worker's Python (install it there from a clone "
            "of the repository: python -m pip install ./cudaenv)"
        )
    if "No module named 'cudaenv." in str(exc):
        return "the worker's cudaenv is older than fleet --scheduler (upgrade it there)"
    if isinstance(exc, _NoAnswerError):
        return str(exc)
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
