"""The report as one JSON document (``cudaenv.report/1``, schema in ``schemas/``)."""

from __future__ import annotations

import json

from ..findings import Report

__all__ = ["render_json"]


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
