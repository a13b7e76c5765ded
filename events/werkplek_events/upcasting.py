"""Upcasters turn an old payload into the current one on read; history is never rewritten.

Register with `@upcaster("placement.time_entry.logged", from_version=1)`: the function takes the
decoded JSON object of that version and returns the object of the next version. Version numbers here
are the *minor* schema revisions carried in the `ce_schemarevision` header within one topic version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]
_UPCASTERS: dict[tuple[str, int], Callable[[Payload], Payload]] = {}


Upcaster = Callable[[Payload], Payload]


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        _UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def current_revision(event_type: str) -> int:
    revision = 1
    while (event_type, revision) in _UPCASTERS:
        revision += 1
    return revision


def upcast(event_type: str, revision: int, payload: Payload) -> Payload:
    while (event_type, revision) in _UPCASTERS:
        payload = _UPCASTERS[(event_type, revision)](payload)
        revision += 1
    return payload
