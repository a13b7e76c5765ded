"""Dead records as outbox rows: a record that cannot be decoded, or that belongs to a quarantined key,
is staged for its topic's DLQ in the same transaction that moves the offsets past it, so it reaches
the DLQ exactly when it leaves the partition (never lost by a crash in between, never sent twice).
The DLQ copy keeps key, value and headers, and adds the error and where the record came from
(`werkplek_common.kafka.dlq_record`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import orjson
from aiokafka import ConsumerRecord

from ..kafka import dlq_record
from ..outbox import OutboxColumns

_NS = uuid.UUID("3b1f6f0e-2c55-4d7e-9a53-5e0f1d9c7a20")


class Quarantined(Exception):
    """A record of a key whose handling failed earlier: it goes to the DLQ with the original reason."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"key {key!r} is quarantined: {reason}")
        self.field = "key"


def dead_columns(dead: Sequence[tuple[ConsumerRecord, Exception]], consumer: str) -> OutboxColumns:
    """Outbox rows of DLQ copies. The row id is derived from consumer and source offset, so a
    record is staged once per consumer. Header values that are not UTF-8 (a record may be dead for
    exactly that) are kept with backslash escapes: the outbox stores headers as JSON text."""
    cols = OutboxColumns([], [], [], [], [])
    for rec, exc in dead:
        copy = dlq_record(rec, exc, consumer)
        cols.topics.append(copy.topic)
        cols.keys.append(copy.key)
        cols.values.append(copy.value)
        cols.headers.append(orjson.dumps([[k, (v or b"").decode(errors="backslashreplace")]
                                          for k, v in copy.headers]).decode())
        cols.event_ids.append(uuid.uuid5(_NS, f"{consumer}:{rec.topic}:{rec.partition}:{rec.offset}"))
    return cols


def extend(into: OutboxColumns, more: OutboxColumns) -> None:
    for mine, theirs in zip(into, more, strict=True):
        mine.extend(theirs)  # type: ignore[attr-defined]
