"""Every event type through the real broker with the codec: decoded equal, CloudEvents-valid
headers, key as the registry says."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from werkplek_common.kafka import publish
from werkplek_events import TOPICS, decode, topic_for

from tests.support import read_until
from tests.unit.samples import sample_events

CE_REQUIRED = {"ce_specversion", "ce_id", "ce_source", "ce_type"}
TYPE_RE = re.compile(r"^be\.werkplek\.[a-z_]+\.[a-z_]+\.[a-z_]+\.v[0-9]+$")


def test_samples_cover_every_registered_event():
    assert {type(e) for e in sample_events()} == {t.event for t in TOPICS}


async def test_every_event_type_roundtrips_through_the_broker(stack, producer):
    events = sample_events()
    await publish(producer, events, source="/werkplek/tests")
    wanted = {e.event_id for e in events}
    topics = sorted({topic_for(e).name for e in events})

    def seen_all(recs):
        # other tests write malformed records (no CloudEvents headers) to these topics on purpose
        return wanted <= {uuid.UUID(h["ce_id"].decode()) for r in recs if "ce_id" in (h := dict(r.headers))}

    records = await read_until(stack.kafka_bootstrap, topics, seen_all)
    by_id = {e.event_id: e for e in events}
    for rec in records:
        headers = {k: v.decode() for k, v in rec.headers}
        if "ce_id" not in headers or (event_id := uuid.UUID(headers["ce_id"])) not in wanted:
            continue
        original = by_id[event_id]
        assert CE_REQUIRED <= headers.keys()
        assert headers["ce_specversion"] == "1.0"
        assert TYPE_RE.match(headers["ce_type"]), headers["ce_type"]
        assert headers["ce_source"].startswith("/")
        datetime.fromisoformat(headers["ce_time"])  # RFC 3339
        assert headers["content-type"] == "application/json"
        assert rec.key.decode() == topic_for(original).key_of(original)
        assert decode(rec.topic, rec.value, rec.headers) == original
