"""The hand-made cohort: twelve students of one graduaat programme (120 ECTS × 27 h = 194 400 minutes,
so ⅓ is exactly 64 800 minutes), five of them in the dual track. Every figure the tests expect is
worked out by hand in test_report_figures.py from the facts below."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

from werkplek_events.vocabulary import (
    AcquiredAt,
    EnrolmentEndReason,
    EnrolmentStatus,
    LearningEnvironment,
    OutcomeKind,
    PlacementForm,
    ShareStatus,
)
from werkplek_funding_reports.domain.records import (
    Coverage,
    PlacementFacts,
    ProgrammeTerms,
    ShareFacts,
    StudentView,
)

LOAD = 120 * 27 * 60
TERMS = ProgrammeTerms("prog-g", required_share=Fraction(1, 3), dual_min_share=Fraction(1, 4))
K, S, A = OutcomeKind.KNOWLEDGE, OutcomeKind.SKILL, OutcomeKind.ATTITUDE
INST, WORK = AcquiredAt.INSTITUTION, AcquiredAt.WORKPLACE
REG, WS, SE, OTH = (EnrolmentStatus.REGULAR, EnrolmentStatus.WORKING_STUDENT, EnrolmentStatus.SIDE_ENTRANT,
                    EnrolmentStatus.OTHER)
OK, RISK, BEHIND = ShareStatus.ON_TRACK, ShareStatus.AT_RISK, ShareStatus.BEHIND


def share(confirmed: int, projected: str, phases: tuple = (), flag: bool | None = None,
          build_up: bool | None = None) -> ShareFacts:
    real = (D(confirmed) / D(LOAD)).quantize(D("0.0001"))
    return ShareFacts(confirmed, LOAD, real, D(projected), tuple((p, D(s)) for p, s in phases), flag, build_up)


def placement(pid: str, form: PlacementForm, continuum: tuple, mentor: str, trained: bool | None,
              env: LearningEnvironment | None, outcomes: tuple, inst: bool = True, work: bool = True) -> PlacementFacts:
    return PlacementFacts(pid, form, continuum, mentor, trained, env, outcomes, inst, work)


P1 = placement("p1", PlacementForm.DUAL, (5, 4, 5, 4, 4, 3), "m1", True, LearningEnvironment.AUTHENTIC,
               ((K, INST), (S, WORK), (A, WORK)))
P2 = placement("p2", PlacementForm.DUAL, (4, 3, 3, 3, 3, 3), "m2", False, LearningEnvironment.REALISTIC,
               ((K, INST), (S, WORK)), work=False)
P3 = placement("p3", PlacementForm.INTERNSHIP, (5, 2, 2, 2, 2, 2), "m1", True, LearningEnvironment.AUTHENTIC,
               ((K, WORK), (S, WORK), (A, WORK)))
P9 = placement("p9", PlacementForm.DUAL, (3, 5, 4, 5, 5, 4), "m3", True, LearningEnvironment.SIMULATED,
               ((K, INST), (S, INST), (A, WORK)))
P4 = placement("p4", PlacementForm.INTERNSHIP, (1, 1, 1, 1, 1, 1), "m4", None, None, ((K, WORK),))
P5 = placement("p5", PlacementForm.PROJECT, (2, 2, 2, 2, 2, 2), "m2", False, LearningEnvironment.REALISTIC,
               ((S, WORK),))


def student(n: int, status: EnrolmentStatus, **kw: object) -> StudentView:
    sid = f"s{n:02d}"
    return StudentView(student_id=sid, pseudonym=f"t-{sid}", programme=TERMS, status=status, **kw)  # type: ignore[arg-type]


def cohort() -> list[StudentView]:
    return [
        student(1, REG, over_25=False, dual=True, risk=OK, placements=(P1,),
                share=share(64_800, "0.4000", ((1, "0.1500"), (2, "0.1833"))),
                coverage=((K, Coverage(1, 1, 1)), (S, Coverage(1, 1, 0)), (A, Coverage(1, 0, 0)))),
        student(2, REG, over_25=False, dual=True, risk=OK, placements=(P2,),
                share=share(64_799, "0.3333", ((1, "0.2000"), (2, "0.1333"))),
                coverage=((K, Coverage(1, 0, 0)), (S, Coverage(1, 0, 0)))),
        student(3, REG, over_25=False, dual=True, risk=RISK, placements=(P3,), assessed_outcomes=2,
                share=share(20_000, "0.3332", ((1, "0.0000"), (2, "0.1029"))),
                ended=EnrolmentEndReason.DROPPED_OUT),
        student(4, REG, over_25=False, dual=False, risk=BEHIND, placements=(P4,), share=share(10_000, "0.2000")),
        student(5, REG, over_25=False, dual=False, risk=OK, placements=(P5,), share=share(30_000, "0.3500")),
        student(6, REG, over_25=False, dual=False, risk=OK, share=share(40_000, "0.3000", flag=True)),
        student(7, WS, over_25=True, dual=True, risk=OK, share=share(50_000, "0.5000", build_up=True)),
        student(8, WS, over_25=False, dual=False, risk=BEHIND, share=share(0, "0.1000")),
        student(9, SE, over_25=True, dual=True, risk=OK, placements=(P9,), share=share(100_000, "0.6000"),
                coverage=((K, Coverage(2, 2, 2)), (S, Coverage(1, 1, 1)), (A, Coverage(1, 1, 0)))),
        student(10, SE, over_25=True, dual=False, risk=RISK, share=share(5_000, "0.0500")),
        student(11, SE, over_25=True, dual=False),
        student(12, OTH, over_25=True, dual=False),
    ]
