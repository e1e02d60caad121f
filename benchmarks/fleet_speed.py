"""Aggregating a fleet: 1,000 synthetic node snapshots, in process and as a whole command.

    python benchmarks/fleet_speed.py [--nodes 1000] [--variants 10] [--runs 7]

Builds two node worlds of real ELF files (tests/test_fleet.py's: a pip CUDA torch with the
NVIDIA wheels and a driver; one with an older libnvJitLink first on LD_LIBRARY_PATH), writes
their snapshots with ``cudaenv snapshot``, and makes ``--nodes`` node files from them: each
with its own host name, ``--variants`` of them with another driver version (their own
group), one with the odd LD_LIBRARY_PATH.  Then times ``aggregate()`` on the parsed
documents, and ``cudaenv fleet --from DIR --format json`` and ``--format html`` as processes
(reading and parsing every file included), and checks the answer: the groups and the odd node.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--variants", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    from cudaenv._fleet import NodeInput, aggregate  # noqa: PLC0415
    from cudaworld import node_world  # noqa: PLC0415 - the tests' worlds
    from test_fleet import snapshot_of  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        plain = snapshot_of(node_world(base / "plain"), base / "plain.json")
        odd = snapshot_of(node_world(base / "odd", odd_ld_path=True), base / "odd.json")
        other = json.loads(json.dumps(plain))
        other["driver"]["version"] = "535.183.01"
        nodes_dir = base / "nodes"
        nodes_dir.mkdir()
        documents = []
        odd_index = args.variants + 1
        for i in range(args.nodes):
            doc = odd if i == odd_index else other if 0 < i <= args.variants else plain
            doc = {**doc, "hostname": f"node{i:04d}"}
            documents.append(doc)
            (nodes_dir / f"node{i:04d}.json").write_text(json.dumps(doc))

        inputs = [NodeInput(d["hostname"], d) for d in documents]
        seconds = []
        for _ in range(args.runs):
            start = time.perf_counter()
            fleet = aggregate(inputs)
            seconds.append(time.perf_counter() - start)
        sizes = [len(g.nodes) for g in fleet.groups]
        assert sizes == [args.nodes - args.variants - 1, args.variants, 1], sizes
        assert [o.node for o in fleet.outliers][-1] == f"node{odd_index:04d}"

        cli = Path(sys.executable).parent / "cudaenv"
        whole: dict[str, list[float]] = {"json": [], "html": []}
        for _ in range(args.runs):
            for form, times in whole.items():
                command = [str(cli), "fleet", "--from", str(nodes_dir), "--format", form]
                start = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                times.append(time.perf_counter() - start)
        size = sum(p.stat().st_size for p in nodes_dir.iterdir()) / 2**20
    print(f"{args.nodes} node snapshots ({size:.0f} MiB), {len(sizes)} groups, {args.runs} runs")
    print(f"{'step':42} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in (
        ("aggregate() on parsed documents", seconds),
        ("cudaenv fleet --from DIR --format json", whole["json"]),
        ("cudaenv fleet --from DIR --format html", whole["html"]),
    ):
        print(f"{name:42} {statistics.median(values):9.3f} {min(values):7.3f} {max(values):7.3f}")


if __name__ == "__main__":
    main()
