"""The engine over an in-memory store: per-key steps, offsets advanced by the batch, a key whose step
fails quarantined (its records to the DLQ, this batch and later ones) while the others flow, a
redelivered batch changing nothing, records of partitions not owned ignored, and a late commit of a
disowned engine changing no memory."""

from __future__ import annotations

from aiokafka import TopicPartition
from werkplek_common.runtime import Engine
from werkplek_common.runtime.dead import Quarantined
from werkplek_events import KafkaRecord, encode

from .fakes import LOGGED, MemoryStore, Minutes, batch, minutes_of


def engine() -> tuple[Engine, MemoryStore]:
    processor = Minutes()
    store = MemoryStore(processor)
    return Engine(store, processor, hot_capacity=10, chunk=1), store


async def test_each_key_is_handled_and_the_offsets_move_with_the_batch():
    eng, store = engine()
    a, b = minutes_of("s-a", 60, 30), minutes_of("s-b", 45)
    fetched = batch((0, a[0]), (1, b[0]), (0, a[1]))
    await eng.own(fetched)
    assert await eng.account(fetched) == 3
    await eng.settle()
    assert eng.hot["s-a"][1][0] == 90 and eng.hot["s-b"][1][0] == 45
    assert store.offsets == {TopicPartition(LOGGED, 0): 2, TopicPartition(LOGGED, 1): 1}
    assert store.commits == 2  # a key per chunk: the first chunk, then the last with the offsets
    assert await eng.account(fetched) == 0  # already committed: nothing is handled twice
    await eng.settle()
    assert eng.hot["s-a"][1][0] == 90


async def test_a_failing_key_is_quarantined_and_the_others_flow():
    eng, store = engine()
    good, bad = minutes_of("s-good", 60), minutes_of("s-bad", 30, 10)
    first = batch((0, good[0]), (0, bad[0]))
    await eng.own(first)
    await eng.account(first)
    await eng.settle()
    assert eng.hot["s-good"][1][0] == 60
    assert "s-bad" in eng.quarantined and "ValueError: cannot account s-bad" in store.quarantine["s-bad"][0]
    assert [(r.key, type(e).__name__) for r, e in store.dead] == [(b"s-bad", "ValueError")]
    later = batch((0, bad[1]), (0, minutes_of("s-good", 5)[0]), start=2)
    await eng.account(later)
    await eng.settle()
    assert eng.hot["s-good"][1][0] == 65  # the good key keeps flowing
    assert isinstance(store.dead[-1][1], Quarantined) and store.quarantine["s-bad"][1] == 2  # records counted
    assert "s-bad" not in store.states


async def test_undecodable_records_and_wrong_keys_go_to_the_dlq():
    eng, store = engine()
    entry = minutes_of("s-1", 60)[0]
    good = encode(entry, source="/t")
    broken = KafkaRecord(good.topic, b"s-1", b"{not json", good.headers)
    other = encode(minutes_of("s-2", 5)[0], source="/t")
    wrong_key = KafkaRecord(other.topic, b"s-1", other.value, other.headers)
    fetched = batch((0, broken), (0, wrong_key), (0, entry))
    await eng.own(fetched)
    await eng.account(fetched)
    await eng.settle()
    assert eng.hot["s-1"][1][0] == 60 and not eng.quarantined  # a bad record is not a bad key
    assert sorted(type(e).__name__ for _, e in store.dead) == ["DecodeError", "PoisonRecord"]


async def test_records_of_partitions_not_owned_are_ignored_and_a_late_commit_after_disown_changes_no_memory():
    eng, store = engine()
    entries = minutes_of("s-1", 60)
    fetched = batch((3, entries[0]))
    await eng.own([TopicPartition(LOGGED, 0)])
    assert await eng.account(fetched) == 0
    await eng.own(fetched)
    await eng.account(fetched)  # its commit is in flight
    eng.disown()
    await asyncio_pause()
    assert eng.hot == {} and eng.next == {}
    assert store.offsets[TopicPartition(LOGGED, 3)] == 1  # it did land in the store: the store is the truth


async def asyncio_pause() -> None:
    import asyncio

    for _ in range(5):
        await asyncio.sleep(0)
