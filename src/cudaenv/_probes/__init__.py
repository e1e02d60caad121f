"""Probes: collect facts about a host into a :class:`~cudaenv.snapshot.Snapshot`.

Probes read files through the :class:`~cudaenv._host.Host` and never judge; everything a
check needs is in the snapshot they build.  Nothing here executes a program or imports code
from the environment under inspection.
"""
