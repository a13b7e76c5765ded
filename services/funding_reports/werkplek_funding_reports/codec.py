"""A typed JSON encoding of the plain values funding reports keeps: its states in PostgreSQL (the
runtime's `runtime_state`) and the student views it sends itself through the repartition topic.
Events are stored as their contract JSON and validated again on read (tolerant reader: a field added
to an event later is simply absent from older values); frozen dataclasses (`StudentView` and its
parts) by field name, so a field added with a default reads older values too. Pure.

Values: None, bool, int, float, str, Decimal, Fraction, date, datetime, UUID, Enum, list, tuple, set,
frozenset, dict (any hashable keys), a frozen dataclass of `DATACLASSES`, an event of the registry."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any

import orjson
from werkplek_events import TOPICS, Event

from .domain import keys, records

EVENTS: dict[str, type[Event]] = {spec.event.EVENT_TYPE: spec.event for spec in TOPICS}
DATACLASSES: dict[str, type[Any]] = {cls.__name__: cls for module in (records, keys) for cls in vars(module).values()
                                     if isinstance(cls, type) and dataclasses.is_dataclass(cls)}
ENUMS: dict[str, type[Enum]] = {}


def register(*classes: type[Any]) -> None:
    """More dataclasses this codec may meet (by class name, which must be unique)."""
    for cls in classes:
        assert DATACLASSES.setdefault(cls.__name__, cls) is cls, f"two dataclasses named {cls.__name__}"


def _enums() -> dict[str, type[Enum]]:
    if not ENUMS:
        from werkplek_events import vocabulary

        ENUMS.update({cls.__name__: cls for cls in vars(vocabulary).values()
                      if isinstance(cls, type) and issubclass(cls, Enum) and cls is not Enum})
    return ENUMS


def encode(value: Any) -> Any:
    """To JSON-ready data; every non-JSON type becomes a one-key object `{"$tag": ...}`."""
    if isinstance(value, Enum):  # before str and int: enums of this contract are StrEnums
        return {"$enum": [type(value).__name__, value.value]}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Event):
        return {"$event": [value.EVENT_TYPE, orjson.loads(value.model_dump_json())]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"$data": [type(value).__name__, {f.name: encode(getattr(value, f.name))
                                                 for f in dataclasses.fields(value)}]}
    simple = _SIMPLE.get(type(value))
    if simple is not None:
        return {simple[0]: simple[1](value)}
    if isinstance(value, dict):
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return {_CONTAINERS[type(value)]: [encode(v) for v in items]}
    raise TypeError(f"cannot encode a {type(value).__name__}")


_SIMPLE: dict[type, tuple[str, Any]] = {
    Decimal: ("$dec", str), Fraction: ("$frac", str), datetime: ("$dt", datetime.isoformat),
    date: ("$date", date.isoformat), uuid.UUID: ("$uuid", str),
}
_CONTAINERS = {list: "$list", tuple: "$tuple", set: "$set", frozenset: "$frozenset"}


def decode(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    [(tag, body)] = data.items()
    if tag in _READ:
        return _READ[tag](body)
    raise ValueError(f"unknown tag {tag!r}")


def _dataclass(body: list[Any]) -> Any:
    cls = DATACLASSES[body[0]]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: decode(v) for k, v in body[1].items() if k in names})


_READ: dict[str, Any] = {
    "$enum": lambda b: _enums()[b[0]](b[1]),
    "$event": lambda b: EVENTS[b[0]].model_validate(b[1]),
    "$data": _dataclass,
    "$dec": Decimal, "$frac": Fraction, "$dt": datetime.fromisoformat, "$date": date.fromisoformat,
    "$uuid": uuid.UUID,
    "$dict": lambda b: {decode(k): decode(v) for k, v in b},
    "$list": lambda b: [decode(v) for v in b], "$tuple": lambda b: tuple(decode(v) for v in b),
    "$set": lambda b: {decode(v) for v in b}, "$frozenset": lambda b: frozenset(decode(v) for v in b),
}


def dumps(value: Any) -> bytes:
    return orjson.dumps(encode(value))


def loads(raw: bytes) -> Any:
    return decode(orjson.loads(raw))
