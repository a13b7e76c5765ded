"""From the cohort to the frozen views of one report: the students enrolled in it this year
(`views_for`) and the trajectories of its programmes by cohort of entry (`entries_for`)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from werkplek_events import ShareUpdated, StudentEnrolled
from werkplek_events.vocabulary import AgeBand, EnrolmentEndReason, PlacementEndReason, SigningParty

from .keys import ReportKey
from .records import (
    DIMENSIONS,
    Coverage,
    Credits,
    EntryView,
    PhaseMinutes,
    PlacementFacts,
    ProgrammeTerms,
    ShareFacts,
    StudentView,
)
from .rules import required_share
from .state import Cohort, StudentYear, latest_status

Pseudonymise = Callable[[str], str]


def enrolments_in(cohort: Cohort, key: ReportKey) -> list[StudentYear]:
    """The enrolments of the report's year it covers; those of a programme not registered (yet), or
    registered for another institution, are held out."""
    out = []
    for (student, year), e in cohort.enrolments.items():
        if year != key.academic_year or cohort.institution_of(e.programme_id) != key.institution_id:
            continue
        if key.pilot_id is not None:
            pilot = cohort.pilots.get(key.pilot_id)
            if pilot is None or e.pilot_id != key.pilot_id or e.programme_id not in pilot.programme_ids:
                continue
        elif key.programme_id is not None and e.programme_id != key.programme_id:
            continue
        out.append((student, year))
    return sorted(out)


def views_for(cohort: Cohort, key: ReportKey, pseudonymise: Pseudonymise) -> list[StudentView]:
    return [student_view(cohort, k, pseudonymise) for k in enrolments_in(cohort, key)]


def programme_terms(cohort: Cohort, programme_id: str) -> ProgrammeTerms:
    p = cohort.programmes.get(programme_id)
    if p is None:  # not registered (yet): no requirement known
        return ProgrammeTerms(programme_id, None, None)
    dual = Fraction(p.dual_min_share) if p.dual_min_share is not None else None
    return ProgrammeTerms(programme_id, required_share(p.level, p.required_share), dual, p.phases)


def student_view(cohort: Cohort, key: StudentYear, pseudonymise: Pseudonymise) -> StudentView:
    student, year = key
    e = cohort.enrolments[key]
    programme = e.programme_id
    share = cohort.shares.get((student, programme, year)) or cohort.shares.get((student, programme, None))
    ended = cohort.ended.get((student, programme, year))
    progress = cohort.progress.get(student)
    assessed = {o.outcome_id for a in cohort.assessments.get(student, {}).values() for o in a.outcomes}
    if progress is not None:
        assessed |= {o.outcome_id for o in progress.outcomes if o.latest_level is not None}
    credits = cohort.credits.get(key)
    trajectory = _placements(cohort, student, _trajectory_years(cohort, student, programme, year) | {year})
    return StudentView(
        student_id=student, pseudonym=pseudonymise(student), programme=programme_terms(cohort, programme),
        status=e.status, over_25=e.age_band == AgeBand.OVER_25, dual=e.dual_track, phase=e.phase,
        ended=ended.reason if ended else None, share=_share(share, year),
        risk=latest_status(share, cohort.risk.get((student, programme))),
        coverage=tuple(sorted((k, Coverage(c.agreed, c.assessed, c.achieved))
                              for k, c in progress.coverage.items())) if progress else (),
        assessed_outcome_ids=frozenset(assessed), placements=tuple(p for p in trajectory if p.academic_year == year),
        trajectory=trajectory,
        credits=Credits(credits.credits_taken, credits.credits_earned)
        if credits is not None and credits.programme_id == programme else None,
        pilot_id=e.pilot_id,
    )


def _trajectory_years(cohort: Cohort, student: str, programme: str, year: str) -> set[str]:
    return {y for y in cohort.by_student.get(student, ()) if y <= year
            and cohort.enrolments[(student, y)].programme_id == programme}


def _share(s: ShareUpdated | None, year: str) -> ShareFacts | None:
    if s is None:
        return None
    this_year = next((y for y in s.per_year if y.academic_year == year), None)
    return ShareFacts(s.confirmed_minutes, s.study_load_minutes, s.real_share, s.projected_share,
                      tuple(sorted((PhaseMinutes(p.phase, p.confirmed_minutes, p.study_load_minutes)
                                    for p in s.per_phase), key=lambda p: p.phase)),
                      s.on_course_for_required_share,
                      this_year.confirmed_minutes if this_year else None,
                      this_year.study_load_minutes if this_year else None)


def _placements(cohort: Cohort, student: str, years: set[str]) -> tuple[PlacementFacts, ...]:
    """The student's placements of those years (they belong to the year's enrolment, whatever
    programme it was in when they were agreed), cancelled ones left out."""
    out = []
    for pid in sorted(cohort.placements_of.get(student, ())):
        agreed, ended = cohort.placements[pid], cohort.placement_ended.get(pid)
        if agreed.academic_year not in years or (
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
        outcomes=tuple((o.outcome_id, o.kind, o.acquired_at) for o in la.outcomes),
        signed_by_institution=la.signed_by_institution_at is not None or SigningParty.INSTITUTION in signed,
        signed_by_workplace=la.signed_by_workplace_at is not None or SigningParty.WORKPLACE in signed,
        academic_year=agreed.academic_year, sector=workplace.sector_code if workplace else None,
        run_with_workplace=bool(cohort.confirmed_entries(agreed.student_id, pid)),
        evaluated_with_workplace=any(a.placement_id == pid
                                     for a in cohort.assessments.get(agreed.student_id, {}).values()),
    )


def entries_for(cohort: Cohort, key: ReportKey) -> list[EntryView]:
    """Every trajectory of the report's programme(s) up to its year, by its cohort of entry."""
    years: dict[tuple[str, str], list[StudentEnrolled]] = {}
    for (student, year), e in cohort.enrolments.items():
        if year > key.academic_year or cohort.institution_of(e.programme_id) != key.institution_id:
            continue
        if key.programme_id is None or e.programme_id == key.programme_id:
            years.setdefault((student, e.programme_id), []).append(e)
    return [_entry(cohort, student, programme, sorted(es, key=lambda e: e.academic_year), key.academic_year)
            for (student, programme), es in sorted(years.items())]


def _entry(cohort: Cohort, student: str, programme: str, es: list[StudentEnrolled], upto: str) -> EntryView:
    given = [e.entry_year for e in es if e.entry_year is not None]
    ends = [cohort.ended.get((student, programme, e.academic_year)) for e in es]
    graduated = [x.academic_year for x in ends if x is not None and x.reason == EnrolmentEndReason.GRADUATED]
    last = ends[-1]
    return EntryView(student_id=student, programme=programme_terms(cohort, programme),
                     entry_year=min([*given, es[0].academic_year]), dual=es[0].dual_track,
                     graduated_in=min(graduated) if graduated else None,
                     left=last.reason if last is not None and last.reason != EnrolmentEndReason.GRADUATED else None)
