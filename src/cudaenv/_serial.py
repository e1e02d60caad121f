"""Dataclass records ⇄ plain JSON values, driven by the records' type hints.

Supported field types: ``str``, ``int``, ``float``, ``bool``, ``Optional[X]``,
``tuple[X, ...]``, ``dict[str, X]`` and nested records.  Unknown keys in a document are
ignored and missing keys take the field's default, so a snapshot written by a newer or older
cudaenv of the same schema major still loads.
"""

from __future__ import annotations

import functools
import typing
from typing import Any, TypeVar, Union

from ._records import is_record, record_fields
from .errors import SnapshotFormatError

__all__ = ["from_json", "to_json"]

T = TypeVar("T")


def to_json(value: Any) -> Any:
    """A JSON-serialisable copy of a record tree (records, tuples, dicts, scalars)."""
    if is_record(value):
        return {name: to_json(getattr(value, name)) for name in record_fields(type(value))}
    if isinstance(value, (tuple, list)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(cls: type[T], data: Any, where: str = "$") -> T:
    """Build a ``cls`` record from a JSON value, raising SnapshotFormatError on a mismatch."""
    return typing.cast("T", _convert(cls, data, where))


def _convert(tp: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if data is None:
            return None
        return _convert(args[0], data, where)
    if origin is tuple:
        if not isinstance(data, list):
            raise SnapshotFormatError(f"{where}: expected a list")
        (item,) = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(data))
    if origin is dict:
        if not isinstance(data, dict):
            raise SnapshotFormatError(f"{where}: expected an object")
        _, item = typing.get_args(tp)
        return {str(k): _convert(item, v, f"{where}.{k}") for k, v in data.items()}
    if isinstance(tp, type) and record_fields(tp):
        if not isinstance(data, dict):
            raise SnapshotFormatError(f"{where}: expected an object")
        hints = _hints(tp)
        kwargs = {
            name: _convert(hints[name], data[name], f"{where}.{name}")
            for name in record_fields(tp)
            if name in data
        }
        try:
            return tp(**kwargs)
        except TypeError as exc:  # a required field is missing
            raise SnapshotFormatError(f"{where}: {exc}") from None
    if tp is Any:
        return data
    if tp is float and isinstance(data, (int, float)) and not isinstance(data, bool):
        return float(data)
    if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
        raise SnapshotFormatError(f"{where}: expected {tp.__name__}")
    return data
