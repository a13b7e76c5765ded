"""Claims that become ids downstream are held to the contract's limits; students and coordinators
must name their institution, and a student's must be the one the registry records (else 403)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from werkplek_common.auth import ClaimError, Principal, Role, check_institution, claimed_institution, claimed_subject
from werkplek_common.problems import Problem


@pytest.mark.parametrize("role", [Role.STUDENT, Role.COORDINATOR])
def test_students_and_coordinators_must_name_their_institution(role):
    for claims in ({}, {"werkplek_institution": ""}, {"werkplek_institution": None}):
        with pytest.raises(ClaimError) as refused:
            claimed_institution(claims, role)
        assert refused.value.claim == "werkplek_institution"


def test_other_roles_may_have_no_institution():
    assert claimed_institution({}, Role.FUNDING) is None and claimed_institution({}, Role.MENTOR) is None


@pytest.mark.parametrize("value", ["i" * 50, "bad id", "-leading", 42, ["inst-a"], "ïnst"])
def test_an_institution_claim_must_be_an_institution_id(value):
    """Longer than 49 would overflow `inst:<institution>:<year>` in the report id."""
    with pytest.raises(ClaimError, match="werkplek_institution"):
        claimed_institution({"werkplek_institution": value}, Role.COORDINATOR)
    assert claimed_institution({"werkplek_institution": "i" * 49}, Role.COORDINATOR) == "i" * 49


@pytest.mark.parametrize("role", [Role.STUDENT, Role.MENTOR])
def test_a_student_or_mentor_subject_is_an_id(role):
    for sub in ("s" * 65, "jan@example.org", "", 7):
        with pytest.raises(ClaimError) as refused:
            claimed_subject({"sub": sub}, role)
        assert refused.value.claim == "sub"
    assert claimed_subject({"sub": "s" * 64}, role) == "s" * 64
    assert claimed_subject({"sub": "jan@example.org"}, Role.COORDINATOR) == "jan@example.org"  # a staff id


def refusals() -> float:
    return REGISTRY.get_sample_value("werkplek_tenant_refusals_total", {"kind": "student", "via": "token"}) or 0.0


def test_a_student_whose_token_names_another_institution_is_forbidden_and_counted():
    student = Principal("s-1", Role.STUDENT, "inst-b")
    before = refusals()
    with pytest.raises(Problem) as refused:
        check_institution(student, "inst-a")
    problem = refused.value
    assert problem.status == 403 and problem.errors[0]["field"] == "token.werkplek_institution"
    assert refusals() == before + 1
    assert check_institution(student, "inst-b") is student
    assert check_institution(student, None) is student  # not enrolled anywhere yet: nothing to protect
