"""The hand-made cohort: twelve students of one graduaat programme in 2026-2027 (120 ECTS × 27 h =
194 400 minutes, so ⅓ is exactly 64 800 minutes; 2 phases, so a year's study load is 97 200 minutes),
five of them in the dual track, and the trajectories that entered in 2024-2025 (whose nominal two
years plus one end with this year). Every figure the tests expect is worked out by hand in
test_report_figures.py from the facts below."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

from werkplek_events.vocabulary import (
    AcquiredAt,
    EnrolmentEndReason,
    EnrolmentStatus,
    LearningEnvironment,
    NaceSection,
    OutcomeKind,
    PlacementForm,
    ShareStatus,
)
from werkplek_funding_reports.domain.records import (
    Coverage,
    Credits,
    EntryView,
    PhaseMinutes,
    PlacementFacts,
    ProgrammeTerms,
    ShareFacts,
    StudentView,
)

PROG = "prog-g"
YEAR = "2026-2027"
LOAD = 120 * 27 * 60
YEAR_LOAD = LOAD // 2
TERMS = ProgrammeTerms(PROG, required_share=Fraction(1, 3), dual_min_share=Fraction(1, 4), phases=2)
K, S, A = OutcomeKind.KNOWLEDGE, OutcomeKind.SKILL, OutcomeKind.ATTITUDE
INST, WORK = AcquiredAt.INSTITUTION, AcquiredAt.WORKPLACE
REG, WS, SE, OTH = (EnrolmentStatus.REGULAR, EnrolmentStatus.WORKING_STUDENT, EnrolmentStatus.SIDE_ENTRANT,
                    EnrolmentStatus.OTHER)
OK, RISK, BEHIND = ShareStatus.ON_TRACK, ShareStatus.AT_RISK, ShareStatus.BEHIND


def share(confirmed: int, projected: str, phases: tuple = (), flag: bool | None = None,
          year: int | None = None) -> ShareFacts:
    real = (D(confirmed) / D(LOAD)).quantize(D("0.0001"))
    return ShareFacts(confirmed, LOAD, real, D(projected), tuple(PhaseMinutes(p, m, YEAR_LOAD) for p, m in phases),
                      flag, year, YEAR_LOAD if year is not None else None)


def placement(pid: str, form: PlacementForm, continuum: tuple, mentor: str, trained: bool | None,
              env: LearningEnvironment | None, outcomes: tuple, sector: NaceSection | None, inst: bool = True,
              work: bool = True, run: bool = True, evaluated: bool = True) -> PlacementFacts:
    named = tuple((f"lo-{pid}-{i}", kind, where) for i, (kind, where) in enumerate(outcomes))
    return PlacementFacts(pid, form, continuum, mentor, trained, env, named, inst, work, YEAR, sector, run, evaluated)


Q, P_EDU, C_MAN = NaceSection.Q, NaceSection.P, NaceSection.C
P1 = placement("p1", PlacementForm.DUAL, (5, 4, 5, 4, 4, 3), "m1", True, LearningEnvironment.AUTHENTIC,
               ((K, INST), (S, WORK), (A, WORK)), Q)
P2 = placement("p2", PlacementForm.DUAL, (4, 3, 3, 3, 3, 3), "m2", False, LearningEnvironment.REALISTIC,
               ((K, INST), (S, WORK)), Q, work=False)
P3 = placement("p3", PlacementForm.INTERNSHIP, (5, 2, 2, 2, 2, 2), "m1", True, LearningEnvironment.AUTHENTIC,
               ((K, WORK), (S, WORK), (A, WORK)), Q)
P9 = placement("p9", PlacementForm.DUAL, (3, 5, 4, 5, 5, 4), "m3", True, LearningEnvironment.SIMULATED,
               ((K, INST), (S, INST), (A, WORK)), P_EDU, evaluated=False)
P4 = placement("p4", PlacementForm.INTERNSHIP, (1, 1, 1, 1, 1, 1), "m4", None, None, ((K, WORK),), None)
P5 = placement("p5", PlacementForm.PROJECT, (2, 2, 2, 2, 2, 2), "m2", False, LearningEnvironment.REALISTIC,
               ((S, WORK),), C_MAN)


def outcome_ids(p: PlacementFacts, *indexes: int) -> frozenset[str]:
    return frozenset(p.outcomes[i][0] for i in indexes)


def student(n: int, status: EnrolmentStatus, **kw: object) -> StudentView:
    sid = f"s{n:02d}"
    placements = kw.pop("placements", ())
    return StudentView(student_id=sid, pseudonym=f"t-{sid}", programme=TERMS, status=status,
                       placements=placements, trajectory=placements, **kw)  # type: ignore[arg-type]


def cohort() -> list[StudentView]:
    return [
        student(1, REG, over_25=False, dual=True, phase=2, risk=OK, placements=(P1,), credits=Credits(60, 60),
                share=share(64_800, "0.4000", ((1, 30_000), (2, 34_800)), year=34_800),
                coverage=((K, Coverage(1, 1, 1)), (S, Coverage(1, 1, 0)), (A, Coverage(1, 1, 0))),
                assessed_outcome_ids=outcome_ids(P1, 0, 1, 2)),
        student(2, REG, over_25=False, dual=True, phase=2, risk=OK, placements=(P2,), credits=Credits(60, 45),
                share=share(64_799, "0.3333", ((1, 40_000), (2, 24_799)), year=24_799),
                coverage=((K, Coverage(1, 0, 0)), (S, Coverage(1, 0, 0)))),
        student(3, REG, over_25=False, dual=True, phase=2, risk=RISK, placements=(P3,), credits=Credits(60, 20),
                share=share(20_000, "0.3332", ((1, 0), (2, 20_000)), year=20_000),
                assessed_outcome_ids=outcome_ids(P3, 0, 1), ended=EnrolmentEndReason.DROPPED_OUT),
        student(4, REG, over_25=False, dual=False, risk=BEHIND, placements=(P4,), credits=Credits(30, 30),
                share=share(10_000, "0.2000", ((1, 10_000),), year=10_000)),
        student(5, REG, over_25=False, dual=False, risk=OK, placements=(P5,), credits=Credits(60, 50),
                share=share(30_000, "0.3500", ((1, 30_000),), year=30_000)),
        student(6, REG, over_25=False, dual=False, risk=OK, share=share(40_000, "0.3000", flag=True)),
        student(7, WS, over_25=True, dual=True, risk=OK, credits=Credits(30, 24),
                share=share(50_000, "0.5000", year=50_000)),
        student(8, WS, over_25=False, dual=False, risk=BEHIND, credits=Credits(30, 0),
                share=share(0, "0.1000", ((1, 0),), year=0)),
        student(9, SE, over_25=True, dual=True, risk=OK, placements=(P9,), credits=Credits(60, 54),
                share=share(90_000, "0.6000", ((1, 90_000),), year=90_000),
                coverage=((K, Coverage(2, 2, 2)), (S, Coverage(1, 1, 1)), (A, Coverage(1, 1, 0))),
                assessed_outcome_ids=outcome_ids(P9, 0, 1, 2)),
        student(10, SE, over_25=True, dual=False, risk=RISK, credits=Credits(20, 10),
                share=share(5_000, "0.0500", ((1, 5_000),), year=5_000)),
        student(11, SE, over_25=True, dual=False),
        student(12, OTH, over_25=True, dual=False, credits=Credits(10, 10)),
    ]


def entry(n: int, entered: str, dual: bool, graduated: str | None = None,
          left: EnrolmentEndReason | None = None) -> EntryView:
    return EntryView(f"e{n:02d}", TERMS, entered, dual, graduated, left)


def entries() -> list[EntryView]:
    """Trajectories by cohort of entry; 2024-2025 is the one whose window closes with 2026-2027."""
    return [
        entry(1, "2024-2025", True, graduated="2025-2026"),
        entry(2, "2024-2025", False, graduated="2025-2026"),
        entry(3, "2024-2025", False, graduated="2026-2027"),
        entry(4, "2024-2025", True, graduated="2026-2027"),
        entry(5, "2024-2025", False, left=EnrolmentEndReason.DROPPED_OUT),
        entry(6, "2024-2025", False, left=EnrolmentEndReason.TRANSFERRED),
        entry(7, "2024-2025", False),
        entry(8, "2024-2025", True, graduated="2024-2025"),
        entry(9, "2025-2026", False, graduated="2026-2027"),  # a younger cohort: not yet
        entry(10, "2023-2024", True, graduated="2025-2026"),  # reported last year
    ]
