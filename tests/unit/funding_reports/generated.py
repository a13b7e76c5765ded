"""Generated institutions for the property tests: two or three programmes of random small cohorts in
2026-2027 (statuses, ages, tracks, shares, credits, placements in several sectors, outcome progress,
drop-outs, older trajectories graduating), and sometimes a pilot made of the dual tracks of some of
the programmes, all as the input events the report worker reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal as D

from hypothesis import strategies as st
from werkplek_events import (
    BudgetLine,
    ContinuumPosition,
    CreditsRecorded,
    EnrolmentEnded,
    Event,
    KindCoverage,
    LearningAgreement,
    LearningOutcome,
    MentorRegistered,
    OutcomeProgressUpdated,
    PhaseShare,
    PilotPartner,
    PilotRegistered,
    PlacementAgreed,
    ProgrammeRegistered,
    ShareUpdated,
    StudentEnrolled,
    WorkplaceRegistered,
    YearShare,
)

INST, YEAR, PILOT = "inst-gen", "2026-2027", "pilot-gen"
AT = datetime(2026, 10, 1, tzinfo=UTC)
STATUSES = ["regular", "working_student", "side_entrant", "other"]
AGES = ["under_21", "21_to_25", "over_25"]
WORKPLACES = [("wp-care", "Q"), ("wp-school", "P"), ("wp-factory", "C"), ("wp-none", None)]
KINDS = ["knowledge", "skill", "attitude"]


def q(minutes: int, load: int) -> D:
    return (D(minutes) / D(load)).quantize(D("0.0001"))


@dataclass
class Generated:
    events: list[Event] = field(default_factory=list)
    programmes: list[str] = field(default_factory=list)
    pilot_programmes: list[str] = field(default_factory=list)  # the pilot is their dual tracks, if any


def _share(sid: str, pid: str, phases: int, confirmed: int, projected: int) -> ShareUpdated:
    load, phase_load = 120 * 27 * 60, 120 * 27 * 60 // phases
    return ShareUpdated(student_id=sid, programme_id=pid, academic_year=YEAR, version=1, as_of=date(2026, 11, 1),
                        confirmed_minutes=confirmed, pending_minutes=0, rejected_minutes=0, planned_minutes=0,
                        study_load_minutes=load, target_to_date_minutes=0, real_share=q(confirmed, load),
                        projected_share=q(projected, load), status="on_track",
                        per_phase=[PhaseShare(phase=1, confirmed_minutes=confirmed, study_load_minutes=phase_load,
                                              share=q(confirmed, phase_load))],
                        per_year=[YearShare(academic_year=YEAR, confirmed_minutes=confirmed,
                                            study_load_minutes=phase_load, share=q(confirmed, phase_load))])


def _placement(draw: st.DrawFn, sid: str, pid: str, n: int) -> PlacementAgreed:
    workplace = draw(st.sampled_from(WORKPLACES))[0]
    scale = {d: draw(st.integers(1, 5)) for d in ("learning_environment", "extent", "engagement", "transfer",
                                                  "integration", "target_group")}
    kinds = draw(st.lists(st.sampled_from(KINDS), max_size=3))
    outcomes = [LearningOutcome(outcome_id=f"lo-{i}", title="o", kind=k, acquired_at="workplace")
                for i, k in enumerate(kinds)]
    return PlacementAgreed(placement_id=f"{sid}-pl{n}", student_id=sid, mentor_id=f"m-{workplace}",
                           start_date=date(2026, 9, 20), end_date=date(2027, 6, 1), planned_minutes=1000,
                           form=draw(st.sampled_from(["internship", "dual", "project"])),
                           continuum=ContinuumPosition(**scale),
                           learning_agreement=LearningAgreement(outcomes=outcomes),
                           programme_id=pid, institution_id=INST, workplace_id=workplace, academic_year=YEAR, phase=1)


def _student(draw: st.DrawFn, out: Generated, sid: str, pid: str, phases: int, pilot: bool) -> None:
    dual = draw(st.booleans())
    out.events.append(StudentEnrolled(student_id=sid, programme_id=pid, institution_id=INST, academic_year=YEAR,
                                      phase=1, status=draw(st.sampled_from(STATUSES)),
                                      age_band=draw(st.sampled_from(AGES)), dual_track=dual,
                                      pilot_id=PILOT if pilot and dual else None, occurred_at=AT))
    if draw(st.booleans()):
        out.events.append(_share(sid, pid, phases, draw(st.integers(0, 90_000)), draw(st.integers(0, 120_000))))
    if draw(st.booleans()):
        taken = draw(st.integers(0, 60))
        out.events.append(CreditsRecorded(student_id=sid, programme_id=pid, institution_id=INST, academic_year=YEAR,
                                          credits_taken=taken, credits_earned=draw(st.integers(0, taken))))
    out.events += [_placement(draw, sid, pid, n) for n in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        cov = {k: KindCoverage(agreed=(a := draw(st.integers(0, 3))), assessed=(b := draw(st.integers(0, a))),
                               achieved=draw(st.integers(0, b))) for k in KINDS}
        out.events.append(OutcomeProgressUpdated(student_id=sid, version=1, outcomes=[], coverage=cov,
                                                 achieved_share=D("0"), never_assessed=[]))
    if draw(st.integers(0, 4)) == 0:
        out.events.append(EnrolmentEnded(student_id=sid, programme_id=pid, academic_year=YEAR,
                                         ended_on=date(2027, 2, 1), reason=draw(st.sampled_from(
                                             ["dropped_out", "transferred", "graduated"]))))


def _older(draw: st.DrawFn, out: Generated, sid: str, pid: str, phases: int) -> None:
    """A trajectory that entered `phases` years ago (its window closes this year): enrolled each year
    until it dropped out in its first year, graduated after 1 to `phases` + 1 years, or is still going."""
    first = 2026 - phases
    done = draw(st.sampled_from([None, 0, *range(1, phases + 2)]))  # 0: dropped out; None: no result yet
    years = phases + 1 if done is None else max(done, 1)
    dual = draw(st.booleans())
    for k in range(years):
        out.events.append(StudentEnrolled(student_id=sid, programme_id=pid, institution_id=INST,
                                          academic_year=f"{first + k}-{first + k + 1}", phase=min(k + 1, phases),
                                          status="regular", age_band="21_to_25",
                                          dual_track=dual and first + k < 2026,  # this year: not in the pilot
                                          occurred_at=AT))
    if done is not None:
        last = first + years - 1
        out.events.append(EnrolmentEnded(student_id=sid, programme_id=pid, academic_year=f"{last}-{last + 1}",
                                         ended_on=date(last + 1, 6, 30),
                                         reason="dropped_out" if done == 0 else "graduated"))


@st.composite
def institutions(draw: st.DrawFn) -> Generated:
    out = Generated()
    out.events += [WorkplaceRegistered(workplace_id=w, institution_id=INST, name=w, sector="s", environment="authentic",
                                       sector_code=code) for w, code in WORKPLACES]
    out.events += [MentorRegistered(mentor_id=f"m-{w}", workplace_id=w, institution_id=INST, trained=i % 2 == 0)
                   for i, (w, _) in enumerate(WORKPLACES)]
    for p in range(draw(st.integers(2, 3))):
        pid, phases = f"prog-{p}", draw(st.sampled_from([2, 3]))
        out.programmes.append(pid)
        out.events.append(ProgrammeRegistered(programme_id=pid, institution_id=INST, name=pid, level="graduaat",
                                              ects=120, hours_per_ects=27, phases=phases))
        pilot = draw(st.booleans())
        if pilot:
            out.pilot_programmes.append(pid)
        for i in range(draw(st.integers(0, 14))):
            _student(draw, out, f"{pid}-s{i}", pid, phases, pilot)
        for i in range(draw(st.integers(0, 8))):
            _older(draw, out, f"{pid}-old{i}", pid, phases)
    if out.pilot_programmes:
        out.events.append(PilotRegistered(
            pilot_id=PILOT, institution_id=INST, name="pilot", programme_ids=out.pilot_programmes,
            partners=[PilotPartner(name="partner", kind="workplace")], start_date=date(2026, 9, 1),
            end_date=date(2027, 8, 31), budget=[BudgetLine(academic_year=YEAR, amount_eur=D("50000.00"))]))
    return out
