"""The typed JSON codec of funding reports' states and member views: every kind of value it keeps
comes back equal (events validated again, dataclasses by field name), and an unknown value is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from werkplek_events.vocabulary import EnrolmentStatus, OutcomeKind
from werkplek_funding_reports import codec
from werkplek_funding_reports.domain.records import Coverage, ProgrammeTerms, StudentView

from .story import Story


def test_values_round_trip():
    story = Story()
    view = StudentView("s-1", "t-abc", ProgrammeTerms("p-1", Fraction(1, 3), None), EnrolmentStatus.REGULAR,
                       over_25=False, dual=True, coverage=((OutcomeKind.SKILL, Coverage(3, 2, 1)),))
    value = {("s-1", "p-1", "2026-2027"): story.enrol("s-1"), "view": view, "ids": {uuid.uuid4(), uuid.uuid4()},
             "when": (datetime(2026, 11, 2, tzinfo=UTC), date(2026, 11, 2)), "n": [1, 2.5, None, True, "x"],
             "d": Decimal("0.3333"), "kinds": frozenset({OutcomeKind.SKILL})}
    back = codec.loads(codec.dumps(value))
    assert back == value
    assert isinstance(back["view"].status, EnrolmentStatus) and back["view"].programme.required_share == Fraction(1, 3)


def test_an_unknown_value_is_refused():
    with pytest.raises(TypeError):
        codec.dumps({"x": object()})
