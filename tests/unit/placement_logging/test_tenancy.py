"""The registry's tenant rules: whose an object is, and who may move a student between institutions."""

from __future__ import annotations

from werkplek_placement_logging.tenancy import Offer, foreign, may_accept, may_see, offer_errors

OFFER = Offer("s-1", from_institution="inst-a", to_institution="inst-b")


def test_an_object_is_foreign_only_when_another_institution_owns_it():
    assert foreign("inst-b", "inst-a")
    assert not foreign("inst-a", "inst-a")
    assert not foreign(None, "inst-a")  # nobody's yet: the first enrolment makes it the institution's


def test_an_institution_cannot_offer_a_student_to_itself():
    assert offer_errors("inst-a", "inst-a") == [{"field": "to_institution_id", "message": "is your own institution"}]
    assert offer_errors("inst-a", "inst-b") == []


def test_both_sides_of_an_offer_see_it_and_nobody_else():
    assert may_see(OFFER, "inst-a") and may_see(OFFER, "inst-b")
    assert not may_see(OFFER, "inst-c") and not may_see(None, "inst-a")


def test_only_the_named_institution_accepts_and_only_while_the_offering_one_owns_the_student():
    assert may_accept(OFFER, "inst-a", "inst-b")
    assert not may_accept(OFFER, "inst-a", "inst-a")  # the offering side cannot accept its own offer
    assert not may_accept(OFFER, "inst-a", "inst-c")
    assert not may_accept(OFFER, "inst-c", "inst-b")  # the student moved meanwhile: the offer is void
    assert not may_accept(None, "inst-a", "inst-b")
