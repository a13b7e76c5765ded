"""The ports a stack of its own is started on are different from each other (test stacks once got
their broker's and controller's listeners on one port, and Kafka refused to format its storage)."""

from __future__ import annotations

import itertools

import pytest

from tests.integration import own_stack


def test_free_ports_never_repeat_a_port_even_when_the_draws_do(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = itertools.cycle([24001, 24001, 24002, 24001, 24002, 24003])
    monkeypatch.setattr(own_stack.random, "randint", lambda a, b: next(draws))
    assert own_stack.free_ports(3) == [24001, 24002, 24003]


def test_free_ports_are_below_the_ephemeral_range() -> None:
    ports = own_stack.free_ports(6)
    assert len(set(ports)) == 6
    assert all(20000 <= p <= 32000 for p in ports)
