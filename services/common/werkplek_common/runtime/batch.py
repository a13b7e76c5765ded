"""From a fetched batch to per-key groups of records, and a key's records to events. Pure.

`group` keeps only what the owned partitions have not committed yet (a fetch from before a seek or a
revocation may carry records already committed, or of partitions no longer owned) and says how far
each partition advances. `decode_all` decodes a key's records with the contract's codec (opening
sealed personal fields with `keys`, when the processor asked for them); a record that does not
decode, or whose key is not its event's, is dead (it goes to the DLQ); a compacted topic's tombstone
(no value: an erased contact) is no event and is skipped."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from aiokafka import ConsumerRecord, TopicPartition
from werkplek_events import DecodeError, Event, decode
from werkplek_events.personal import KeyLookup

from ..kafka import PoisonRecord

Groups = dict[bytes | None, tuple[int, list[ConsumerRecord]]]  # key -> (partition number, records)


class Grouped(NamedTuple):
    groups: Groups
    advanced: dict[TopicPartition, int]  # next offset of each partition the batch moves


def group(batch: Mapping[TopicPartition, Sequence[ConsumerRecord]], committed: Mapping[TopicPartition, int]) -> Grouped:
    """Group the uncommitted records of owned partitions by key, in arrival order."""
    groups: Groups = {}
    advanced: dict[TopicPartition, int] = {}
    for tp, records in batch.items():
        expected = committed.get(tp)
        if expected is None or not records or records[-1].offset < expected:
            continue  # revoked while fetched, or all committed already
        advanced[tp] = records[-1].offset + 1
        for rec in records if records[0].offset >= expected else [r for r in records if r.offset >= expected]:
            found = groups.get(rec.key)
            if found is None:
                groups[rec.key] = (tp.partition, [rec])
            else:
                found[1].append(rec)
    return Grouped(groups, advanced)


class Decoded(NamedTuple):
    events: list[Event]
    records: list[ConsumerRecord]  # the records of `events`, in the same order
    dead: list[tuple[ConsumerRecord, Exception]]


def decode_all(records: Sequence[ConsumerRecord], key: str | None, key_of: Callable[[Event], str],
               keys: KeyLookup | None = None) -> Decoded:
    """`key`: the records' common key, decoded (None: records without a key, all poison)."""
    events: list[Event] = []
    good: list[ConsumerRecord] = []
    dead: list[tuple[ConsumerRecord, Exception]] = []
    skipped = False
    for rec in records:
        if rec.value is None:
            skipped = True
            continue
        try:
            event = decode(rec.topic, rec.value, rec.headers, keys)
            if key is None or key_of(event) != key:
                raise PoisonRecord("key", f"record key {rec.key!r} is not the event's key {key_of(event)!r}")
            events.append(event)
            good.append(rec)
        except (DecodeError, PoisonRecord) as exc:
            dead.append((rec, exc))
    return Decoded(events, good if dead or skipped else list(records), dead)
