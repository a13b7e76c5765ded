"""The ⅓ rule and the share rules at their boundaries."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

from werkplek_events.vocabulary import Level
from werkplek_funding_reports.domain.pseudonym import pseudonym
from werkplek_funding_reports.domain.rules import THIRD, band, on_course, quartiles, reached, required_share

from .cohort import LOAD, share


def test_graduaat_requires_one_third_by_decree_unless_the_programme_says_otherwise():
    assert required_share(Level.GRADUAAT, None) == THIRD
    assert required_share(Level.GRADUAAT, D("0.4")) == Fraction(2, 5)
    assert required_share(Level.PROFESSIONAL_BACHELOR, None) is None


def test_one_third_reached_on_exact_minutes():
    assert reached(share(LOAD // 3, "0.5"), THIRD)
    assert not reached(share(LOAD // 3 - 1, "0.5"), THIRD)  # shows as 0.3333 too


def test_on_course_compares_the_projection_at_published_precision():
    assert on_course(share(0, "0.3333"), THIRD)
    assert not on_course(share(0, "0.3332"), THIRD)


def test_hour_accountings_judgement_wins_when_given():
    assert not on_course(share(0, "0.9", flag=False), THIRD)
    assert on_course(share(0, "0.1", flag=True), THIRD)


def test_bands_include_their_lower_edge():
    assert [band(Fraction(x)) for x in ("0", "0.0999", "0.1", "0.2", "1/3", "0.5", "1")] == [0, 0, 1, 2, 3, 4, 4]
    assert band(Fraction(LOAD // 3 - 1, LOAD)) == 2


def test_quartiles_of_one_value_are_that_value():
    assert quartiles([Fraction(1, 4)]) == (D("0.2500"),) * 3


def test_pseudonyms_are_stable_keyed_and_not_the_id():
    a = pseudonym(b"key-1", "student-1")
    assert a == pseudonym(b"key-1", "student-1") and a.startswith("t-") and "student" not in a
    assert a != pseudonym(b"key-2", "student-1") and a != pseudonym(b"key-1", "student-2")
