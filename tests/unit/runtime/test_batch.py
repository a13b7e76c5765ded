"""Grouping a fetch by key: only what the owned partitions have not committed, in arrival order, and
how far each partition moves; a fetch from before a seek or of a revoked partition changes nothing."""

from __future__ import annotations

from aiokafka import TopicPartition
from werkplek_common.runtime.batch import group

from .fakes import LOGGED, batch, minutes_of

P0, P1, P2 = (TopicPartition(LOGGED, p) for p in range(3))


def test_records_group_by_key_in_arrival_order_and_partitions_advance_past_their_last_record():
    a, b = minutes_of("s-a", 1, 2, 3), minutes_of("s-b", 4)
    fetched = batch((0, a[0]), (0, b[0]), (0, a[1]), (1, a[2]))
    groups, advanced = group(fetched, {P0: 0, P1: 0})
    assert {k: (p, [(r.partition, r.offset) for r in rs]) for k, (p, rs) in groups.items()} == {
        b"s-a": (0, [(0, 0), (0, 2), (1, 0)]), b"s-b": (0, [(0, 1)])}
    assert advanced == {P0: 3, P1: 1}


def test_committed_records_are_skipped_and_unowned_partitions_ignored():
    a = minutes_of("s-a", 1, 2, 3)
    fetched = batch((0, a[0]), (0, a[1]), (0, a[2]), (2, a[0]))
    groups, advanced = group(fetched, {P0: 2})
    assert [r.offset for r in groups[b"s-a"][1]] == [2]
    assert advanced == {P0: 3}
    assert group(fetched, {P0: 3}) == ({}, {})
