"""From the cohort to the frozen `StudentView`s of one report."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from werkplek_events import ShareUpdated
from werkplek_events.vocabulary import AgeBand, PlacementEndReason, SigningParty

from .keys import ReportKey
from .records import DIMENSIONS, Coverage, PlacementFacts, ProgrammeTerms, ShareFacts, StudentView
from .rules import required_share
from .state import Cohort, EnrolKey, latest_status

Pseudonymise = Callable[[str], str]


def views_for(cohort: Cohort, key: ReportKey, pseudonymise: Pseudonymise) -> list[StudentView]:
    return [student_view(cohort, k, pseudonymise) for k in enrolments_in(cohort, key)]


def enrolments_in(cohort: Cohort, key: ReportKey) -> list[EnrolKey]:
    return sorted(k for k, e in cohort.enrolments.items() if e.academic_year == key.academic_year and (
        e.programme_id == key.programme_id if key.programme_id else e.institution_id == key.institution_id))


def programme_terms(cohort: Cohort, programme_id: str) -> ProgrammeTerms:
    p = cohort.programmes.get(programme_id)
    if p is None:  # not registered (yet): no requirement known
        return ProgrammeTerms(programme_id, None, None)
    dual = Fraction(p.dual_min_share) if p.dual_min_share is not None else None
    return ProgrammeTerms(programme_id, required_share(p.level, p.required_share), dual)


def student_view(cohort: Cohort, key: EnrolKey, pseudonymise: Pseudonymise) -> StudentView:
    student, programme, year = key
    e = cohort.enrolments[key]
    share = cohort.shares.get((student, programme, year)) or cohort.shares.get((student, programme, None))
    ended = cohort.ended.get(key)
    progress = cohort.progress.get(student)
    assessed = {o.outcome_id for a in cohort.assessments.get(student, {}).values() for o in a.outcomes}
    return StudentView(
        student_id=student, pseudonym=pseudonymise(student), programme=programme_terms(cohort, programme),
        status=e.status, over_25=e.age_band == AgeBand.OVER_25, dual=e.dual_track,
        ended=ended.reason if ended else None, share=_share(share),
        risk=latest_status(share, cohort.risk.get((student, programme))),
        coverage=tuple(sorted((k, Coverage(c.agreed, c.assessed, c.achieved))
                              for k, c in progress.coverage.items())) if progress else (),
        assessed_outcomes=len(assessed), placements=_placements(cohort, key),
    )


def _share(s: ShareUpdated | None) -> ShareFacts | None:
    if s is None:
        return None
    return ShareFacts(s.confirmed_minutes, s.study_load_minutes, s.real_share, s.projected_share,
                      tuple(sorted((p.phase, p.share) for p in s.per_phase)),
                      s.on_course_for_required_share, s.build_up_ok)


def _placements(cohort: Cohort, key: EnrolKey) -> tuple[PlacementFacts, ...]:
    out = []
    for pid, agreed in sorted(cohort.placements.items()):
        ended = cohort.placement_ended.get(pid)
        if (agreed.student_id, agreed.programme_id, agreed.academic_year) != key or (
                ended is not None and ended.reason == PlacementEndReason.CANCELLED):
            continue
        out.append(_placement(cohort, pid))
    return tuple(out)


def _placement(cohort: Cohort, pid: str) -> PlacementFacts:
    agreed, terms = cohort.placements[pid], cohort.placement_terms(pid)
    mentor, workplace = cohort.mentors.get(terms.mentor_id), cohort.workplaces.get(agreed.workplace_id)
    signed = cohort.signatures.get(pid, set())
    la = terms.learning_agreement
    return PlacementFacts(
        placement_id=pid, form=terms.form, continuum=tuple(getattr(terms.continuum, d) for d in DIMENSIONS),
        mentor_id=terms.mentor_id, mentor_trained=mentor.trained if mentor else None,
        environment=workplace.environment if workplace else None,
        outcomes=tuple((o.kind, o.acquired_at) for o in la.outcomes),
        signed_by_institution=la.signed_by_institution_at is not None or SigningParty.INSTITUTION in signed,
        signed_by_workplace=la.signed_by_workplace_at is not None or SigningParty.WORKPLACE in signed,
    )
