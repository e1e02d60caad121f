"""Frozen, slotted record classes — what ``@dataclass(frozen=True)`` gives, made cheaply.

``dataclasses`` costs about 15 ms to import (it loads ``inspect``) and ~0.6 ms per class;
cudaenv defines some forty record classes and is run where milliseconds count (a login
script, every node of a cluster).  :func:`record` builds the same shape — keyword or
positional ``__init__`` with defaults, ``__slots__``, immutability, ``__eq__``, ``__hash__``,
``__repr__`` — in a fraction of that.  Type checkers see it as a dataclass (PEP 681).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

__all__ = ["field", "is_record", "record", "record_fields"]

T = TypeVar("T")

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[T], T]:
        return lambda function: function


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], object]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], T]) -> T:
    """A field whose default is made fresh for each record (``field(default_factory=dict)``)."""
    factory: Any = _Factory(default_factory)
    return factory  # type: ignore[no-any-return]


def _frozen_setattr(self: object, name: str, _value: object) -> None:
    raise AttributeError(f"{type(self).__name__} is frozen: cannot assign {name!r}")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """Turn an annotated class into a frozen record (fields in annotation order)."""
    # The class's own annotations, in order (strings under `from __future__ import annotations`).
    names = tuple(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063
    defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
    namespace: dict[str, Any] = {"_set": object.__setattr__}
    params, body = [], []
    for name in names:
        if name in defaults:
            default = defaults[name]
            namespace[f"_d_{name}"] = default.make if isinstance(default, _Factory) else default
            marker = "_FACTORY" if isinstance(default, _Factory) else f"_d_{name}"
            params.append(f"{name}={marker}")
            if isinstance(default, _Factory):
                namespace["_FACTORY"] = _Factory
                body.append(f" _set(self, {name!r}, _d_{name}() if {name} is _FACTORY else {name})")
                continue
        else:
            params.append(name)
        body.append(f" _set(self, {name!r}, {name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or " pass")
    exec(source, namespace)  # noqa: S102  # the source is built from identifiers only

    def equal(self: object, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return False
        return all(bool(getattr(self, n) == getattr(other, n)) for n in names)

    def hashed(self: object) -> int:
        return hash(tuple(getattr(self, n) for n in names))

    def represent(self: object) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{cls.__name__}({fields})"

    attrs = {
        key: value
        for key, value in cls.__dict__.items()
        if key not in names and key not in ("__dict__", "__weakref__")
    }
    attrs.update(
        __slots__=names,
        __init__=namespace["__init__"],
        __record_fields__=names,
        __setattr__=_frozen_setattr,
        __eq__=equal,
        __hash__=hashed,
        __repr__=represent,
    )
    result: type[T] = type(cls.__name__, cls.__bases__, attrs)
    result.__qualname__ = cls.__qualname__
    result.__module__ = cls.__module__

    def reduce(self: object) -> tuple[type[T], tuple[Any, ...]]:
        # pickled by fields, rebuilt through __init__ (slots and frozen: no __dict__ to restore)
        return result, tuple(getattr(self, n) for n in names)

    result.__reduce__ = reduce  # type: ignore[method-assign]
    return result


def is_record(value: object) -> bool:
    return hasattr(type(value), "__record_fields__")


def record_fields(cls: type) -> tuple[str, ...]:
    fields: tuple[str, ...] = getattr(cls, "__record_fields__", ())
    return fields
