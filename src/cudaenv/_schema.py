"""JSON Schemas of the documents built from records (the snapshot, the fix plan), generated
from the records' type hints so that the shipped schema cannot drift from the code: a test
compares the files in ``schemas/`` with what this module generates.

Regenerate after changing a record: ``python -m cudaenv._schema``.
"""

from __future__ import annotations

import json
import typing
from importlib import resources
from pathlib import Path
from typing import Any, Union

from ._records import record_fields

__all__ = ["GENERATED", "generate", "record_schema"]


def _type_schema(tp: Any, definitions: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN401
    origin = typing.get_origin(tp)
    if origin is Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = _type_schema(args[0], definitions)
        return {"anyOf": [inner, {"type": "null"}]}
    if origin is tuple:
        (item,) = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return {"type": "array", "items": _type_schema(item, definitions)}
    if origin is dict:
        _, item = typing.get_args(tp)
        return {"type": "object", "additionalProperties": _type_schema(item, definitions)}
    if isinstance(tp, type) and record_fields(tp):
        name = tp.__name__
        if name not in definitions:
            definitions[name] = {}  # reserve: records may refer to themselves
            definitions[name] = _object_schema(tp, definitions)
        return {"$ref": f"#/$defs/{name}"}
    if tp is Any:
        return {}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if tp in simple:
        return {"type": simple[tp]}
    raise TypeError(f"no JSON Schema for {tp!r}")


def _object_schema(cls: type, definitions: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    fields = record_fields(cls)
    properties = {name: _type_schema(hints[name], definitions) for name in fields}
    doc = (cls.__doc__ or "").strip().split("\n\n", 1)[0]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = [name for name in fields if _required(cls, name)]
    if required:
        schema["required"] = required
    if doc:
        schema["description"] = " ".join(doc.split())
    return schema


def _required(cls: type, name: str) -> bool:
    """A field without a default (the record's ``__init__`` needs it)."""
    init = cls.__init__  # type: ignore[misc]
    defaults = init.__defaults__ or ()
    code = init.__code__
    names = code.co_varnames[1 : code.co_argcount]
    return bool(names.index(name) < len(names) - len(defaults))


def record_schema(cls: type, schema_id: str, title: str) -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    root = _object_schema(cls, definitions)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
        **root,
        "$defs": dict(sorted(definitions.items())),
    }


def _snapshot() -> dict[str, Any]:
    from .snapshot import SNAPSHOT_SCHEMA, Snapshot  # noqa: PLC0415

    schema = record_schema(Snapshot, SNAPSHOT_SCHEMA, "cudaenv snapshot: every fact collected")
    schema["properties"]["schema"] = {"const": SNAPSHOT_SCHEMA}
    return schema


def _plan() -> dict[str, Any]:
    from ._fix.plan import Plan  # noqa: PLC0415

    schema = record_schema(Plan, "cudaenv.plan/1", "cudaenv fix: the plan")
    schema["properties"].update(
        {
            "schema": {"const": "cudaenv.plan/1"},
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "remove", "why"],
                    "properties": {
                        "path": {"type": "string"},
                        "remove": {"type": "boolean"},
                        "why": {"type": "string"},
                    },
                },
            },
            "notes": {"type": "array", "items": {"type": "string"}},
            "environment": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "before", "after"],
                    "properties": {
                        "name": {"type": "string"},
                        "before": {"type": ["string", "null"]},
                        "after": {"type": ["string", "null"]},
                    },
                },
            },
        }
    )
    return schema


def _toolkits() -> dict[str, Any]:
    from .snapshot import Toolkit, ToolkitChoice  # noqa: PLC0415

    definitions: dict[str, Any] = {}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "cudaenv.toolkits/1",
        "title": "cudaenv toolkits --format json",
        "type": "object",
        "required": ["toolkits", "choices"],
        "properties": {
            "schema": {"const": "cudaenv.toolkits/1"},
            "toolkits": {"type": "array", "items": _type_schema(Toolkit, definitions)},
            "choices": {"type": "array", "items": _type_schema(ToolkitChoice, definitions)},
        },
        "$defs": dict(sorted(definitions.items())),
    }


def _diff() -> dict[str, Any]:
    from ._diff import Difference  # noqa: PLC0415

    definitions: dict[str, Any] = {}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "cudaenv.diff/1",
        "title": "cudaenv diff --format json",
        "type": "object",
        "required": ["schema", "before", "after", "differences"],
        "properties": {
            "schema": {"const": "cudaenv.diff/1"},
            "before": {"type": "string"},
            "after": {"type": "string"},
            "differences": {"type": "array", "items": _type_schema(Difference, definitions)},
        },
        "$defs": dict(sorted(definitions.items())),
    }


def _envs() -> dict[str, Any]:
    """``envs``/``doctor --all``: findings (and, with --details, each report) as doctor's."""
    from ._render.envs import ENVS_SCHEMA  # noqa: PLC0415
    from ._surveyed import READINESS  # noqa: PLC0415

    report = json.loads(
        resources.files("cudaenv").joinpath("schemas/report.schema.json").read_text()
    )
    finding = report["properties"]["findings"]["items"]
    nullable = {"type": ["string", "null"]}
    counts = {
        "type": "object",
        "required": ["error", "warning", "info"],
        "additionalProperties": {"type": "integer", "minimum": 0},
    }
    environment = {
        "type": "object",
        "required": [
            "prefix",
            "sources",
            "active",
            "readiness",
            "kind",
            "name",
            "python",
            "interpreter",
            "frameworks",
            "headline",
            "counts",
            "findings",
            "error",
        ],
        "additionalProperties": False,
        "properties": {
            "prefix": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "active": {"type": "boolean", "description": "what `cudaenv doctor` alone diagnoses"},
            "readiness": {"enum": list(READINESS)},
            "kind": nullable,
            "name": nullable,
            "python": nullable,
            "interpreter": nullable,
            "frameworks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "version", "cuda", "variant"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "version": {"type": "string"},
                        "cuda": nullable,
                        "variant": nullable,
                    },
                },
            },
            "headline": {
                "anyOf": [
                    {
                        "type": "object",
                        "required": ["code", "severity", "title"],
                        "additionalProperties": False,
                        "properties": {
                            "code": finding["properties"]["code"],
                            "severity": finding["properties"]["severity"],
                            "title": {"type": "string"},
                        },
                    },
                    {"type": "null"},
                ]
            },
            "counts": counts,
            "findings": {"type": "array", "items": {"$ref": "#/$defs/Finding"}},
            "error": nullable,
            "report": {"$ref": "#/$defs/Report", "description": "with --details"},
        },
    }
    report_def = {k: v for k, v in report.items() if k not in ("$schema", "$id")}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": ENVS_SCHEMA,
        "title": "cudaenv envs --format json (and doctor --all): every environment",
        "type": "object",
        "required": ["schema", "tool", "machine", "summary", "environments", "problems"],
        "additionalProperties": False,
        "properties": {
            "schema": {"const": ENVS_SCHEMA},
            "tool": report["properties"]["tool"],
            "machine": {
                "type": "object",
                "required": ["hostname", "root", "driver", "driver_loaded", "gpus"],
                "properties": {
                    "hostname": nullable,
                    "root": {"type": "string"},
                    "driver": nullable,
                    "driver_loaded": {"type": "boolean"},
                    "gpus": {"type": "array", "items": {"type": "string"}},
                },
            },
            "summary": {
                "type": "object",
                "required": list(READINESS),
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "environments": {"type": "array", "items": environment},
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "error"],
                    "properties": {"path": {"type": "string"}, "error": {"type": "string"}},
                },
            },
        },
        "$defs": {"Finding": finding, "Report": report_def},
    }


def _fleet() -> dict[str, Any]:
    """``fleet --format json``: the document of spec/worlds.md, and per-finding node lists."""
    from ._fleet import FLEET_SCHEMA  # noqa: PLC0415

    report = json.loads(
        resources.files("cudaenv").joinpath("schemas/report.schema.json").read_text()
    )
    finding = report["properties"]["findings"]["items"]
    nullable = {"type": ["string", "null"]}
    names = {"type": "array", "items": {"type": "string"}}
    library = {
        "type": "object",
        "required": ["name", "path", "version", "error"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "path": nullable,
            "version": nullable,
            "error": nullable,
        },
    }
    stack = {
        "type": "object",
        "required": ["driver", "gpus", "toolkits", "frameworks", "libraries"],
        "additionalProperties": False,
        "properties": {
            "driver": {
                "type": "object",
                "required": ["loaded", "version", "cuda", "libcuda"],
                "additionalProperties": False,
                "properties": {
                    "loaded": {"type": "boolean"},
                    "version": nullable,
                    "cuda": nullable,
                    "libcuda": nullable,
                },
            },
            "gpus": {**names, "description": "model (compute capability), one per GPU"},
            "toolkits": {
                "type": "object",
                "description": "consumer → the toolkit it would use: root (version)",
                "additionalProperties": nullable,
            },
            "frameworks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "version", "cuda", "variant"],
                    "properties": {
                        "name": {"type": "string"},
                        "version": nullable,
                        "cuda": nullable,
                        "variant": nullable,
                    },
                },
            },
            "libraries": {"type": "array", "items": library},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": FLEET_SCHEMA,
        "title": "cudaenv fleet --format json: nodes grouped by CUDA stack",
        "type": "object",
        "required": ["schema", "nodes", "groups", "outliers", "failed", "findings"],
        "additionalProperties": False,
        "properties": {
            "schema": {"const": FLEET_SCHEMA},
            "nodes": {"type": "integer", "minimum": 0},
            "groups": {
                "type": "array",
                "description": "largest first; the first is the majority",
                "items": {
                    "type": "object",
                    "required": ["nodes", "stack"],
                    "additionalProperties": False,
                    "properties": {"nodes": {**names, "minItems": 1}, "stack": stack},
                },
            },
            "outliers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["node", "group", "differs", "findings"],
                    "additionalProperties": False,
                    "properties": {
                        "node": {"type": "string"},
                        "group": {"type": "integer", "minimum": 1},
                        "differs": names,
                        "findings": {"type": "array", "items": finding},
                    },
                },
            },
            "failed": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["node", "error"],
                    "additionalProperties": False,
                    "properties": {"node": {"type": "string"}, "error": {"type": "string"}},
                },
            },
            "findings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "severity", "title", "nodes"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "string"},
                        "severity": {"enum": ["error", "warning", "info"]},
                        "title": {"type": "string"},
                        "nodes": names,
                    },
                },
            },
        },
    }


GENERATED = {
    "snapshot.schema.json": _snapshot,
    "plan.schema.json": _plan,
    "toolkits.schema.json": _toolkits,
    "diff.schema.json": _diff,
    "envs.schema.json": _envs,
    "fleet.schema.json": _fleet,
}


def generate(name: str) -> str:
    return json.dumps(GENERATED[name](), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    directory = Path(str(resources.files("cudaenv").joinpath("schemas")))
    for name in GENERATED:
        (directory / name).write_text(generate(name), encoding="utf-8")


if __name__ == "__main__":
    main()
