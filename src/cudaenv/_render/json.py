"""The report as one JSON document (``cudaenv.report/1``, schema in ``schemas/``)."""

from __future__ import annotations

import json
import re
from typing import Any

from ..findings import Report

__all__ = ["json_document", "render_json"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def json_document(value: Any) -> str:  # noqa: ANN401 - any JSON value
    """Indented JSON, UTF-8 text as it is; a file name that is not UTF-8 (its bytes held as
    lone surrogates, as ``os`` reads them) as ``\\udcXX`` escapes, so the document stays valid
    UTF-8 and reads back to the same name."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def render_json(report: Report) -> str:
    return json_document(report.to_dict())
