"""What a consumer is, for the runtime: a pure step over one key's state and events, and how that
state and the step's outputs are stored. No Kafka and no loop here: the runtime owns those.

    handle(state, events, ctx) -> (state, outputs)

is called once per key per batch with that key's decoded events in arrival order (which keeps each
partition's order). It must be deterministic enough that applying the same events again changes
nothing (at-least-once delivery: every state ignores event ids it has applied), and it returns the
very same state object when nothing changed, so the runtime writes nothing for that key. A step that
raises, or whose outputs cannot be encoded or written, quarantines its key (see `engine.py`).

The runtime commits, per chunk of keys, in ONE PostgreSQL transaction: the stored offsets
(compare-and-set), the keys' states, `write(conn, outputs)` (the consumer's read models) and the
outputs to publish (outbox)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import asyncpg
from werkplek_events import Event, KafkaRecord, topic_for

S = TypeVar("S")
_SINGLE: dict[type[Event], str | None] = {}  # event class -> its only key field (None: several)


def registry_key(event: Event) -> str:
    """The topic registry's key of `event`; one attribute read for the usual single-field key, as
    this runs for every record."""
    cls = type(event)
    if cls not in _SINGLE:
        fields = topic_for(cls).key_fields
        _SINGLE[cls] = fields[0] if len(fields) == 1 else None
    field = _SINGLE[cls]
    return str(getattr(event, field)) if field else topic_for(cls).key_of(event)


@dataclass(frozen=True)
class Context:
    """What a step may know besides its state and events. `reevaluate`: no new events, the step is
    asked again because time passed (a new `period`) or reference data it depends on changed."""

    now: datetime
    today: date
    reevaluate: bool = False
    rebuild: bool = False  # replaying history: outputs are not published (they were already)
    # `<topic>:<partition>` -> next offset of the key's records in this batch (processors that ask)
    positions: Mapping[str, int] = field(default_factory=dict)


class Processor(Generic[S]):
    """Subclass per consumer. `name` labels metrics and DLQ headers; `source` is the CloudEvents
    source of published outputs (events, or ready `KafkaRecord`s such as a DLQ copy the step made,
    staged as they are). A stateless processor (`stateful = False`) keeps no state row; its step
    usually returns its events as outputs for `write` to apply."""

    name: str = ""
    source: str = ""
    topics: Sequence[str] = ()
    stateful: bool = True
    publish: bool = True  # outputs go to the outbox (and from there to their topics)
    positions: bool = False  # give each step the positions of its records (`Context.positions`)
    parted: bool = False  # the state is a head (`dump`) plus parts written when changed (`dump_parts`)
    # the step needs personal fields in plain text (docs/adr/0070): the runtime looks up the batch's
    # data keys in the key store and the codec opens sealed fields; otherwise they decode as sealed
    opens_personal: bool = False

    def key_of(self, event: Event) -> str:
        """The key a record of this event must carry (the registry's); another key is poison."""
        return registry_key(event)

    def initial(self, key: str) -> S:
        raise NotImplementedError

    def handle(self, state: S, events: Sequence[Event], ctx: Context) -> tuple[S, Sequence[Event | KafkaRecord]]:
        raise NotImplementedError

    def dump(self, state: S) -> bytes:
        raise NotImplementedError

    def load(self, key: str, blob: bytes) -> S:
        raise NotImplementedError

    def dump_parts(self, state: S) -> Mapping[str, bytes | None]:
        """A parted state: the parts the step that made `state` changed (None: the part is gone)."""
        return {}

    def load_parted(self, key: str, head: bytes, parts: Mapping[str, bytes]) -> S:
        raise NotImplementedError

    def tags(self, state: S) -> Iterable[str]:
        """Labels stored with the state, to find the keys a change of reference data concerns
        (`Engine.reevaluate_tagged`), e.g. `programme:<id>`."""
        return ()

    def period(self, now: datetime) -> str | None:
        """A label of the current period; when it changes, every owned key is re-evaluated once
        (chunk by chunk, between batches). None: never."""
        return None

    async def write(self, conn: asyncpg.Connection, outputs: Sequence[Any], ctx: Context) -> None:
        """The consumer's own rows for a chunk's outputs, inside the runtime's transaction."""

    def committed(self, outputs: Sequence[Any]) -> None:
        """After a transaction with these outputs committed (for the consumer's own metrics)."""
