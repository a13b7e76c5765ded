"""Placement logging's use cases over in-memory units of work (`fake_uow.py`). The ledger: an entry
or a batch is judged, the accepted entries and their events staged in the unit with the reply kept
under the Idempotency-Key; a completed key replays its reply, a key in flight or reused for another
payload is refused; a correction and a withdrawal need the entry's current ETag and a changeable
entry, and every refusal stores nothing. The registry: each change stores its row and event once
(the same terms again change nothing), refuses what breaks a rule with every field at fault, and
answers another institution's id as an unknown one. The use-case modules import no driver and no
web framework."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from werkplek_events import (
    CreditsRecorded,
    EnrolmentEnded,
    MentorRegistered,
    PilotRegistered,
    PlacementAgreed,
    PlacementAmended,
    PlacementEnded,
    ProgrammeRegistered,
    StudentEnrolled,
    TimeEntryCorrected,
    TimeEntryLogged,
    TimeEntryWithdrawn,
    WorkplaceRegistered,
)
from werkplek_placement_logging import domain, registry_rules
from werkplek_placement_logging.domain import Draft, Facts, PlacementView, Violation
from werkplek_placement_logging.schemas import (
    CreditsIn,
    EnrolmentEndIn,
    EnrolmentIn,
    MentorIn,
    PilotIn,
    PlacementEndIn,
    PlacementIn,
    ProgrammeIn,
    WorkplaceIn,
)
from werkplek_placement_logging.uow import StoredReply
from werkplek_placement_logging.usecases import funding, registry
from werkplek_placement_logging.usecases.entries import (
    Changed,
    Clock,
    CorrectEntry,
    Judged,
    LogEntries,
    Reason,
    Refusal,
    Replayed,
    WithdrawEntry,
    correct_entry,
    log_entries,
    withdraw_entry,
)
from werkplek_placement_logging.usecases.registry import Reason as RegistryReason
from werkplek_placement_logging.usecases.registry import Refusal as RegistryRefusal
from werkplek_placement_logging.usecases.registry import Stored

from ..imports import import_refusing
from .fake_uow import NOW, FakeLedger, FakeRegistry, LedgerData

CLOCK = Clock(ZoneInfo("Europe/Brussels"), timedelta(minutes=5))
STUDENT, OTHER = "stu-1", "stu-2"
PL = PlacementView("pl-1", STUDENT, date(2026, 9, 15), date(2027, 6, 15), None, frozenset({"LO1"}))
DAY = date(2026, 11, 19)


def draft(**over: Any) -> Draft:
    base: dict[str, Any] = {"entry_id": uuid.uuid4(), "placement_id": "pl-1", "work_date": DAY, "start_time": None,
                            "end_time": None, "duration_minutes": 60, "activity": "work", "outcome_ids": (),
                            "description": "ward round"}
    base.update(over)
    return Draft(**base)


def facts(d: Draft) -> Facts:
    assert d.duration_minutes is not None
    return Facts(d.entry_id, d.placement_id, d.work_date, d.start_time, d.end_time, d.duration_minutes, d.activity,
                 d.outcome_ids, d.description)


def ledger() -> FakeLedger:
    return FakeLedger(LedgerData(placements={"pl-1": PL}))


def log_cmd(*items: Draft | list[Violation], key: str = "k-1", fingerprint: bytes = b"f-1") -> LogEntries:
    return LogEntries(STUDENT, list(items), key, fingerprint, CLOCK)


async def log(uow: FakeLedger, cmd: LogEntries, reply: StoredReply | None = None) -> Judged | Replayed | Refusal:
    """As the entrypoint runs it: in a unit, keeping a reply with what was staged."""
    async with uow.begin() as unit:
        result = await log_entries(unit, cmd)
        if isinstance(result, Judged):
            unit.keep_reply(cmd.student_id, cmd.key, reply or StoredReply(cmd.fingerprint, 201, {}, b"{}"))
    return result


# --- logging entries -------------------------------------------------------------------------------

async def test_an_accepted_entry_is_staged_with_its_event_and_the_reply():
    uow, d = ledger(), draft()
    result = await log(uow, log_cmd(d), StoredReply(b"f-1", 201, {"ETag": '"1"'}, b"reply"))
    assert isinstance(result, Judged)
    [verdict] = result.verdicts
    assert verdict.kind == domain.CREATED and verdict.entry_id == d.entry_id
    doc, version = result.docs[d.entry_id]
    assert version == 1 and doc["status"] is domain.PENDING and doc["duration_minutes"] == 60
    assert doc["logged_at"] == NOW and doc["revision"] == 1
    [event] = uow.data.outbox
    assert isinstance(event, TimeEntryLogged) and event.entry_id == d.entry_id and event.student_id == STUDENT
    assert uow.data.entries[d.entry_id][0] == STUDENT
    assert uow.data.replies[(STUDENT, "k-1")].body == b"reply"


async def test_a_batch_judges_each_item_new_duplicate_conflict_and_invalid():
    uow = ledger()
    mine, theirs = draft(), draft()
    uow.add_entry(STUDENT, facts(mine), version=3)
    uow.add_entry(OTHER, facts(theirs))
    new, late = draft(), draft(work_date=PL.start_date - timedelta(days=1))
    shape = [Violation("duration_minutes", "not a number", "shape")]
    result = await log(uow, log_cmd(new, mine, theirs, late, shape))
    assert isinstance(result, Judged)
    assert [v.kind for v in result.verdicts] == [domain.CREATED, domain.DUPLICATE, domain.CONFLICT, domain.INVALID,
                                                 domain.INVALID]
    assert result.docs[mine.entry_id] == (uow.doc(mine.entry_id), 3)  # the entry as logged before, its version
    assert theirs.entry_id not in result.docs  # another student's entry is never shown
    assert {v.reason for v in result.verdicts[3].violations} == {"outside_period"}
    assert [(type(e), e.entry_id) for e in uow.data.outbox if isinstance(e, TimeEntryLogged)] == [
        (TimeEntryLogged, new.entry_id)]  # only the new one is logged
    assert len(uow.data.outbox) == 1


async def test_a_refused_entry_stages_nothing():
    uow = ledger()
    d = draft(work_date=date(2026, 11, 22))  # in the future
    async with uow.begin() as unit:
        result = await log_entries(unit, log_cmd(d))
    assert isinstance(result, Judged) and result.verdicts[0].kind == domain.INVALID
    assert {v.reason for v in result.verdicts[0].violations} == {"future"}
    assert uow.data.entries == {} and uow.data.outbox == []


async def test_the_same_key_and_payload_replays_the_stored_reply():
    uow = ledger()
    stored = StoredReply(b"f-1", 201, {"ETag": '"1"'}, b"first")
    uow.data.replies[(STUDENT, "k-1")] = stored
    result = await log(uow, log_cmd(draft()))
    assert result == Replayed(stored)
    assert uow.data.outbox == []


async def test_the_same_key_for_another_payload_is_refused():
    uow = ledger()
    uow.data.replies[(STUDENT, "k-1")] = StoredReply(b"another", 201, {}, b"first")
    result = await log(uow, log_cmd(draft()))
    assert isinstance(result, Refusal) and result.reason is Reason.KEY_REUSED
    assert uow.data.outbox == []


async def test_a_key_in_flight_is_refused():
    uow = ledger()
    uow.data.held.add((STUDENT, "k-1"))
    result = await log(uow, log_cmd(draft()))
    assert isinstance(result, Refusal) and result.reason is Reason.KEY_IN_FLIGHT
    assert uow.data.entries == {}


# --- correcting and withdrawing --------------------------------------------------------------------

def with_entry(**over: Any) -> tuple[FakeLedger, Facts]:
    uow = ledger()
    f = facts(draft())
    uow.add_entry(STUDENT, f, **over)
    return uow, f


async def test_a_correction_is_a_new_revision_pending_again():
    uow, f = with_entry(decision=domain.REJECTED, rejection_reason="hours_wrong")
    result = await correct_entry(uow, CorrectEntry(STUDENT, f.entry_id, {"duration_minutes": 90}, '"1"', CLOCK))
    assert isinstance(result, Changed) and result.label == "corrected"
    assert result.version == 2 and result.doc["revision"] == 2 and result.doc["duration_minutes"] == 90
    assert result.doc["status"] is domain.PENDING
    [event] = uow.data.outbox
    assert isinstance(event, TimeEntryCorrected) and event.revision == 2 and event.duration_minutes == 90
    assert uow.doc(f.entry_id)["rejection"] is None


async def test_a_correction_without_if_match_opens_no_unit():
    uow, f = with_entry()
    result = await correct_entry(uow, CorrectEntry(STUDENT, f.entry_id, {"duration_minutes": 90}, None, CLOCK))
    assert isinstance(result, Refusal) and result.reason is Reason.IF_MATCH_REQUIRED
    assert uow.units == 0


@pytest.mark.parametrize(("setup", "if_match", "reason"), [
    ({}, '"7"', Reason.CHANGED),
    ({"decision": domain.CONFIRMED}, '"1"', Reason.IMMUTABLE),
    ({"withdrawn": True}, "*", Reason.IMMUTABLE),
])
async def test_a_refused_correction_stores_nothing(setup, if_match, reason):
    uow, f = with_entry(**setup)
    before = uow.data.entries[f.entry_id]
    result = await correct_entry(uow, CorrectEntry(STUDENT, f.entry_id, {"duration_minutes": 90}, if_match, CLOCK))
    assert isinstance(result, Refusal) and result.reason is reason
    assert uow.data.entries[f.entry_id] == before and uow.data.outbox == []
    if reason is Reason.CHANGED:
        assert result.version == 1
    else:
        assert result.standing in (domain.CONFIRMED, domain.WITHDRAWN)


async def test_a_correction_breaking_a_rule_names_each_violation():
    uow, f = with_entry()
    result = await correct_entry(uow, CorrectEntry(STUDENT, f.entry_id, {"start_time": time(9), "end_time": time(8)},
                                                   '"1"', CLOCK))
    assert isinstance(result, Refusal) and result.reason is Reason.INVALID
    assert {v.field for v in result.violations} == {"end_time"}
    assert uow.data.outbox == []


async def test_another_students_entry_is_not_found():
    uow, f = with_entry()
    for result in (await correct_entry(uow, CorrectEntry(OTHER, f.entry_id, {"duration_minutes": 9}, "*", CLOCK)),
                   await withdraw_entry(uow, WithdrawEntry(OTHER, f.entry_id, "*"))):
        assert isinstance(result, Refusal) and result.reason is Reason.NOT_FOUND
    assert uow.data.outbox == []


async def test_a_withdrawal_is_a_revision_of_its_own():
    uow, f = with_entry()
    result = await withdraw_entry(uow, WithdrawEntry(STUDENT, f.entry_id, None))  # If-Match is optional here
    assert isinstance(result, Changed) and result.label == "withdrawn"
    assert result.doc["status"] is domain.WITHDRAWN and result.doc["revision"] == 2 and result.version == 2
    [event] = uow.data.outbox
    assert isinstance(event, TimeEntryWithdrawn) and event.revision == 2 and event.placement_id == "pl-1"
    again = await withdraw_entry(uow, WithdrawEntry(STUDENT, f.entry_id, None))
    assert isinstance(again, Refusal) and again.reason is Reason.IMMUTABLE
    stale = await withdraw_entry(uow, WithdrawEntry(STUDENT, f.entry_id, '"1"'))
    assert isinstance(stale, Refusal) and stale.reason is Reason.CHANGED and stale.version == 2


# --- the registry ----------------------------------------------------------------------------------

INST, ELSE = "inst-1", "inst-2"
PROGRAMME = {"name": "Graduaat Verpleegkunde", "level": "graduaat", "ects": 120, "phases": 2}
WORKPLACE = {"name": "AZ Sint-Jan", "sector": "health", "environment": "authentic"}


def placement_doc(**over: Any) -> PlacementIn:
    doc: dict[str, Any] = {
        "student_id": STUDENT, "academic_year": "2026-2027", "workplace_id": "wp-1", "mentor_id": "m-1",
        "start_date": "2026-09-15", "end_date": "2027-06-15", "planned_minutes": 600 * 60, "form": "dual",
        "continuum": {"learning_environment": 5, "extent": 4, "engagement": 4, "transfer": 3, "integration": 4,
                      "target_group": 2},
        "learning_agreement": {"outcomes": [
            {"outcome_id": "LO1", "title": "Basic care", "kind": "skill", "acquired_at": "workplace"}],
            "signed_by_institution_at": "2026-09-01T10:00:00Z", "signed_by_workplace_at": "2026-09-02T10:00:00Z"}}
    doc.update(over)
    return PlacementIn.model_validate(doc)


def enrolment(**over: Any) -> EnrolmentIn:
    return EnrolmentIn.model_validate({"programme_id": "prog-1", "phase": 1, "status": "regular",
                                       "age_band": "under_21", **over})


def stored(result: Stored | RegistryRefusal) -> Stored:
    assert isinstance(result, Stored), result
    return result


def refused(result: Stored | RegistryRefusal, reason: RegistryReason) -> RegistryRefusal:
    assert isinstance(result, RegistryRefusal) and result.reason is reason, result
    return result


async def cohort(inst: str = INST) -> FakeRegistry:
    uow = FakeRegistry()
    stored(await registry.put_programme(uow, registry.PutProgramme(inst, "prog-1", ProgrammeIn(**PROGRAMME))))
    stored(await registry.put_enrolment(uow, registry.PutEnrolment(inst, STUDENT, "2026-2027", enrolment())))
    stored(await registry.put_workplace(uow, registry.PutWorkplace(inst, "wp-1", WorkplaceIn(**WORKPLACE))))
    stored(await registry.put_mentor(uow, registry.PutMentor(inst, "m-1", MentorIn(workplace_id="wp-1",
                                                                                   trained=True))))
    return uow


async def test_a_put_creates_once_and_the_same_terms_change_nothing():
    uow = FakeRegistry()
    cmd = registry.PutProgramme(INST, "prog-1", ProgrammeIn(**PROGRAMME))
    first = stored(await registry.put_programme(uow, cmd))
    assert first.created and first.changed == "programme" and first.row["version"] == 1
    again = stored(await registry.put_programme(uow, cmd))
    assert not again.created and again.changed is None and again.row["version"] == 1
    changed = stored(await registry.put_programme(uow, registry.PutProgramme(
        INST, "prog-1", ProgrammeIn(**{**PROGRAMME, "phases": 3}))))
    assert not changed.created and changed.changed == "programme" and changed.row["version"] == 2
    assert [type(e) for e in uow.data.outbox] == [ProgrammeRegistered, ProgrammeRegistered]


async def test_another_institutions_id_is_not_found_and_stores_nothing():
    uow = await cohort(ELSE)
    outbox = list(uow.data.outbox)
    result = refused(await registry.put_workplace(uow, registry.PutWorkplace(INST, "wp-1", WorkplaceIn(**WORKPLACE))),
                     RegistryReason.NOT_FOUND)
    assert result.subject == "workplace"
    student = refused(await registry.put_enrolment(uow, registry.PutEnrolment(INST, STUDENT, "2027-2028",
                                                                              enrolment())), RegistryReason.NOT_FOUND)
    assert student.subject == "student"
    assert uow.data.outbox == outbox


async def test_a_mentor_needs_a_workplace_of_the_institution():
    uow = await cohort(ELSE)
    result = refused(await registry.put_mentor(uow, registry.PutMentor(INST, "m-2", MentorIn(workplace_id="wp-1",
                                                                                            trained=True))),
                     RegistryReason.INVALID)
    assert result.subject == "mentor" and [e["field"] for e in result.errors] == ["workplace_id"]


async def test_an_enrolment_names_every_field_at_fault():
    uow = await cohort()
    result = refused(await registry.put_enrolment(uow, registry.PutEnrolment(
        INST, "stu-9", "2026-2027", enrolment(phase=3, entry_year="2027-2028", pilot_id="pilot-x"))),
        RegistryReason.INVALID)
    assert [e["field"] for e in result.errors] == ["phase", "entry_year", "pilot_id"]
    assert "stu-9" not in uow.data.students  # the claimed student is rolled back with the rest


async def test_an_enrolment_event_and_its_ending():
    uow = await cohort()
    assert [type(e) for e in uow.data.outbox].count(StudentEnrolled) == 1
    end = EnrolmentEndIn.model_validate({"ended_on": "2027-02-01", "reason": "dropped_out"})
    cmd = registry.EndEnrolment(INST, STUDENT, "2026-2027", end)
    first = stored(await registry.end_enrolment(uow, cmd))
    assert first.changed == "enrolment_ended" and isinstance(uow.data.outbox[-1], EnrolmentEnded)
    assert stored(await registry.end_enrolment(uow, cmd)).changed is None  # the same ending again
    other = EnrolmentEndIn.model_validate({"ended_on": "2027-03-01", "reason": "dropped_out"})
    ended = refused(await registry.end_enrolment(uow, registry.EndEnrolment(INST, STUDENT, "2026-2027", other)),
                    RegistryReason.ENDED)
    assert ended.subject == "enrolment" and "2027-02-01" in ended.detail
    refused(await registry.put_enrolment(uow, registry.PutEnrolment(INST, STUDENT, "2026-2027", enrolment())),
            RegistryReason.ENDED)


async def test_an_enrolment_ending_before_the_year_or_of_no_enrolment_is_refused():
    uow = await cohort()
    early = EnrolmentEndIn.model_validate({"ended_on": "2026-08-31", "reason": "graduated"})
    result = refused(await registry.end_enrolment(uow, registry.EndEnrolment(INST, STUDENT, "2026-2027", early)),
                     RegistryReason.INVALID)
    assert result.subject == "ending" and result.errors[0]["field"] == "ended_on"
    refused(await registry.end_enrolment(uow, registry.EndEnrolment(INST, STUDENT, "2025-2026", early)),
            RegistryReason.NOT_FOUND)


async def test_a_placement_is_agreed_amended_and_each_version_kept():
    uow = await cohort()
    agreed = stored(await registry.put_placement(uow, registry.PutPlacement(INST, "pl-1", placement_doc(), None)))
    assert agreed.created and isinstance(uow.data.outbox[-1], PlacementAgreed)
    amended = stored(await registry.put_placement(uow, registry.PutPlacement(
        INST, "pl-1", placement_doc(planned_minutes=500 * 60, reason="fewer hours"), '"1"')))
    assert not amended.created and amended.row["version"] == 2 and isinstance(uow.data.outbox[-1], PlacementAmended)
    assert [(r[1], r[2]) for r in uow.data.revisions] == [(1, "agreed"), (2, "amended")]
    stale = refused(await registry.put_placement(uow, registry.PutPlacement(INST, "pl-1", placement_doc(), '"1"')),
                    RegistryReason.CHANGED)
    assert stale.subject == "placement"


async def test_a_placement_names_every_reference_not_the_institutions():
    uow = await cohort()
    result = refused(await registry.put_placement(uow, registry.PutPlacement(
        INST, "pl-1", placement_doc(student_id="stu-9", workplace_id="wp-9", end_date="2026-09-01"), None)),
        RegistryReason.INVALID)
    assert [e["field"] for e in result.errors] == ["student_id", "academic_year", "workplace_id", "mentor_id",
                                                   "end_date"]
    assert uow.data.revisions == []


async def test_a_placement_of_a_student_who_moved_is_refused():
    uow = await cohort()
    uow.data.students[STUDENT] = ELSE  # enrolled first elsewhere
    result = refused(await registry.put_placement(uow, registry.PutPlacement(INST, "pl-1", placement_doc(), None)),
                     RegistryReason.INVALID)
    assert [e["field"] for e in result.errors] == ["student_id", "academic_year"]


async def test_a_placement_ends_once():
    uow = await cohort()
    stored(await registry.put_placement(uow, registry.PutPlacement(INST, "pl-1", placement_doc(), None)))
    end = PlacementEndIn.model_validate({"ended_on": "2027-01-31", "reason": "completed"})
    first = stored(await registry.end_placement(uow, registry.EndPlacement(INST, "pl-1", end)))
    assert first.changed == "placement_ended" and isinstance(uow.data.outbox[-1], PlacementEnded)
    assert uow.data.revisions[-1][2] == "ended"
    assert stored(await registry.end_placement(uow, registry.EndPlacement(INST, "pl-1", end))).changed is None
    other = PlacementEndIn.model_validate({"ended_on": "2027-02-28", "reason": "completed"})
    refused(await registry.end_placement(uow, registry.EndPlacement(INST, "pl-1", other)),
            RegistryReason.ALREADY_ENDED)
    ended = refused(await registry.put_placement(uow, registry.PutPlacement(INST, "pl-1", placement_doc(), None)),
                    RegistryReason.ENDED)
    assert "agree a new one" in ended.detail


async def test_a_placement_ending_before_its_start_or_of_no_placement_is_refused():
    uow = await cohort()
    stored(await registry.put_placement(uow, registry.PutPlacement(INST, "pl-1", placement_doc(), None)))
    early = PlacementEndIn.model_validate({"ended_on": "2026-09-01", "reason": "completed"})
    assert refused(await registry.end_placement(uow, registry.EndPlacement(INST, "pl-1", early)),
                   RegistryReason.INVALID).subject == "ending"
    refused(await registry.end_placement(uow, registry.EndPlacement(INST, "pl-9", early)), RegistryReason.NOT_FOUND)


# --- funding inputs --------------------------------------------------------------------------------

async def test_credits_count_for_the_enrolments_programme():
    uow = await cohort()
    cmd = funding.PutCredits(INST, STUDENT, "2026-2027", CreditsIn(credits_taken=60, credits_earned=54))
    first = stored(await funding.put_credits(uow, cmd))
    assert first.created and isinstance(uow.data.outbox[-1], CreditsRecorded)
    assert registry_rules.body_of(first.row)["programme_id"] == "prog-1"
    assert stored(await funding.put_credits(uow, cmd)).changed is None


async def test_credits_breaking_a_rule_or_of_no_enrolment_are_refused():
    uow = await cohort()
    result = refused(await funding.put_credits(uow, funding.PutCredits(
        INST, STUDENT, "2026-2027", CreditsIn(credits_taken=150, credits_earned=151))), RegistryReason.INVALID)
    assert result.subject == "credits" and [e["field"] for e in result.errors] == ["credits_earned", "credits_taken"]
    refused(await funding.put_credits(uow, funding.PutCredits(INST, STUDENT, "2025-2026", CreditsIn(
        credits_taken=60, credits_earned=54))), RegistryReason.NOT_FOUND)


def pilot(**over: Any) -> PilotIn:
    return PilotIn.model_validate({"name": "Proeftuin zorg", "programme_ids": ["prog-1"],
                                   "partners": [{"name": "AZ Sint-Jan", "kind": "workplace", "workplace_id": "wp-1"}],
                                   "start_date": "2026-09-01", "end_date": "2027-08-31",
                                   "budget": [{"academic_year": "2026-2027", "amount_eur": "10000.00"}], **over})


async def test_a_pilot_is_registered_once():
    uow = await cohort()
    first = stored(await funding.put_pilot(uow, funding.PutPilot(INST, "pilot-1", pilot())))
    assert first.created and isinstance(uow.data.outbox[-1], PilotRegistered)
    assert stored(await funding.put_pilot(uow, funding.PutPilot(INST, "pilot-1", pilot()))).changed is None
    joined = stored(await registry.put_enrolment(uow, registry.PutEnrolment(INST, STUDENT, "2026-2027",
                                                                            enrolment(pilot_id="pilot-1"))))
    assert joined.changed == "enrolment"


async def test_a_pilot_names_every_field_at_fault():
    uow = await cohort()
    result = refused(await funding.put_pilot(uow, funding.PutPilot(INST, "pilot-1", pilot(
        programme_ids=["prog-1", "prog-9", "prog-1"],
        partners=[{"name": "Elders", "kind": "workplace", "workplace_id": "wp-9"}],
        budget=[{"academic_year": "2026-2027", "amount_eur": "1.00"}, {"academic_year": "2026-2027",
                                                                       "amount_eur": "1.00"},
                {"academic_year": "2030-2031", "amount_eur": "1.00"}]))), RegistryReason.INVALID)
    assert [e["field"] for e in result.errors] == ["programme_ids[1]", "programme_ids[2]", "partners[0].workplace_id",
                                                   "budget[1].academic_year", "budget[2].academic_year"]
    assert [type(e) for e in uow.data.outbox].count(PilotRegistered) == 0
    assert [type(e) for e in uow.data.outbox].count(WorkplaceRegistered) == 1
    assert [type(e) for e in uow.data.outbox].count(MentorRegistered) == 1


# --- no driver, no web framework -------------------------------------------------------------------

@pytest.mark.parametrize("module", ["usecases.entries", "usecases.registry", "usecases.funding", "registry_rules",
                                    "uow", "domain"])
def test_the_use_case_modules_import_no_driver_and_no_web_framework(module: str):
    """Imported in a fresh interpreter that refuses asyncpg, FastAPI and Starlette: an import of any of
    them, direct or through another module, fails it."""
    done = import_refusing(f"werkplek_placement_logging.{module}")
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_import_check_refuses_a_driver():
    """The check itself: the adapter imports asyncpg, so it fails there."""
    done = import_refusing("werkplek_placement_logging.uow_pg", frozenset({"asyncpg"}))
    assert done.returncode != 0 and "asyncpg imported" in done.stderr
