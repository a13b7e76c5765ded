"""The accounting rules on exact numbers: a graduaat programme of 145,800 study-load minutes, a placement
of 61 days planned at 600 minutes a day, looked at on 31 October (31 days in: target 18,600)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from werkplek_events.rules import rounded
from werkplek_events.vocabulary import Decision, ShareStatus
from werkplek_hour_accounting.domain import apply, new_state, programme_from
from werkplek_hour_accounting.outputs import changes
from werkplek_hour_accounting.projection import figures

from .builders import (
    AS_OF,
    agreed,
    amended,
    confirmed,
    corrected,
    ended,
    enrolled,
    logged,
    programme,
    rejected,
    reversal,
    withdrawn,
)

PROGRAMME = programme_from(programme())
S = "stu-1"


def fold(*events):
    state = new_state(S)
    for e in events:
        state = apply(state, e)
    return state


def figs(*events, as_of: date = AS_OF):
    f = figures(fold(*events), PROGRAMME, as_of)
    assert f is not None
    return f


def test_programme_facts_study_load_phases_and_the_graduaat_third():
    assert PROGRAMME.study_load_minutes == 90 * 27 * 60 == 145_800
    assert PROGRAMME.phase_load_minutes == 48_600
    assert PROGRAMME.required_share == Fraction(1, 3)
    assert programme_from(programme(level="professional_bachelor")).required_share is None


def test_exact_figures_of_a_student():
    e1, e2, e3 = logged(S), logged(S), logged(S)
    f = figs(enrolled(S), agreed(S), e1, e2, e3, confirmed(e1), confirmed(e2), rejected(e3))
    assert (f.overall.confirmed, f.overall.pending, f.overall.rejected) == (960, 0, 480)
    assert f.target_to_date_minutes == 18_600 and f.planned_minutes == 36_600
    assert rounded(f.real_share) == Decimal("0.0066")  # 960 / 145,800 = 0.006584…
    assert f.projected_share == Fraction(960 + 30 * 600, 145_800)
    assert rounded(f.projected_share) == Decimal("0.1300")
    assert f.status == ShareStatus.BEHIND and f.on_course_for_required_share is False
    assert f.phase_shares[1] == Fraction(960, 48_600) and f.phase_shares[2] == 0
    assert f.per_placement["plc-1"].confirmed == 960 and f.per_year["2026-2027"].rejected == 480


def test_status_thresholds_on_track_at_risk_behind():
    def status(minutes: int) -> ShareStatus:  # 10 planned minutes a day: target to date 310
        e = logged(S, minutes=minutes)
        return figs(enrolled(S), agreed(S, planned=610), e, confirmed(e)).status
    assert status(310) == ShareStatus.ON_TRACK
    assert status(279) == ShareStatus.ON_TRACK  # exactly 0.9 of the target
    assert status(278) == ShareStatus.AT_RISK
    assert status(217) == ShareStatus.AT_RISK  # exactly 0.7
    assert status(216) == ShareStatus.BEHIND
    assert figs(enrolled(S), agreed(S), as_of=date(2026, 9, 30)).status == ShareStatus.ON_TRACK  # no target yet


def test_a_decision_before_its_entry_is_held_and_applied_when_the_entry_arrives():
    e = logged(S)
    early = figs(enrolled(S), agreed(S), confirmed(e))
    assert early.overall.confirmed == 0 and early.held == 1
    assert figs(enrolled(S), agreed(S), confirmed(e), e).overall.confirmed == 480


def test_an_entry_before_its_placement_is_held():
    e = logged(S)
    assert figs(enrolled(S), e, confirmed(e)).overall.confirmed == 0
    assert figs(enrolled(S), e, confirmed(e)).held == 2
    assert figs(enrolled(S), e, confirmed(e), agreed(S)).overall.confirmed == 480


def test_no_enrolment_no_figures():
    assert figures(fold(agreed(S), logged(S)), PROGRAMME, AS_OF) is None


def test_a_confirmation_applies_to_the_revision_confirmed_only():
    e = logged(S, minutes=480)
    c = corrected(e, 420)
    assert figs(enrolled(S), agreed(S), e, confirmed(e), c).overall.pending == 420
    assert figs(enrolled(S), agreed(S), e, confirmed(e), c).overall.confirmed == 0
    assert figs(enrolled(S), agreed(S), e, confirmed(e), c, confirmed(c)).overall.confirmed == 420
    # the corrected revision arrives after its confirmation: held until then, then confirmed
    assert figs(enrolled(S), agreed(S), e, confirmed(c), c).overall.confirmed == 420


def test_reversal_restores_and_allows_the_opposite_decision():
    e = logged(S)
    base = figs(enrolled(S), agreed(S), e)
    after = figs(enrolled(S), agreed(S), e, confirmed(e), reversal(e, Decision.CONFIRMED))
    assert after.overall == base.overall
    rej = figs(enrolled(S), agreed(S), e, confirmed(e), reversal(e, Decision.CONFIRMED), rejected(e))
    assert (rej.overall.confirmed, rej.overall.rejected) == (0, 480)


def test_withdrawn_entries_do_not_count_and_a_later_correction_revives_them():
    e = logged(S)
    assert figs(enrolled(S), agreed(S), e, confirmed(e), withdrawn(e)).overall.confirmed == 0
    assert figs(enrolled(S), agreed(S), e, withdrawn(e), corrected(e, 300)).overall.pending == 300


def test_the_latest_amendment_wins_whatever_the_arrival_order():
    a1, a2 = amended(S, planned=30_500, minutes_later=1), amended(S, planned=24_400, minutes_later=2)
    assert figs(enrolled(S), agreed(S), a1, a2).planned_minutes == 24_400
    assert figs(enrolled(S), a2, a1, agreed(S)).planned_minutes == 24_400


def test_a_placement_ended_early_keeps_the_planned_minutes_of_its_days():
    f = figs(enrolled(S), agreed(S), ended(S, "plc-1", date(2026, 10, 10)))
    assert f.planned_minutes == 6_000 and f.target_to_date_minutes == 6_000


def test_build_up_of_a_dual_track_student():
    e1 = logged(S, placement_id="p1")
    e2 = logged(S, placement_id="p2", minutes=300)
    events = [enrolled(S, phase=2, dual=True), agreed(S, "p1", date(2025, 10, 1), date(2025, 10, 30), 480),
              e1, confirmed(e1), agreed(S, "p2", date(2026, 10, 1), date(2026, 11, 30), 36_600, phase=2), e2]
    assert figs(*events).build_up_ok is True  # phase 2 projected (300 pending + plan ahead) ≥ phase 1
    assert figs(*events[:-3], as_of=AS_OF).build_up_ok is False  # nothing planned in phase 2: it falls
    assert figs(*events).on_course_for_required_share is False


def test_an_event_applied_twice_changes_nothing():
    e = logged(S)
    once = fold(enrolled(S), agreed(S), e, confirmed(e))
    assert apply(once, confirmed(e)) != once  # a second, distinct confirmation event is a new fact
    c = confirmed(e)
    state = fold(enrolled(S), agreed(S), e, c)
    assert apply(state, c) is state


def test_half_even_rounding_to_four_places():
    assert rounded(Fraction(5, 100_000)) == Decimal("0.0000")
    assert rounded(Fraction(15, 100_000)) == Decimal("0.0002")
    assert rounded(Fraction(1, 3)) == Decimal("0.3333")


def test_outputs_only_when_a_value_changed_and_risk_on_worsening_and_recovery():
    e = logged(S, minutes=310)
    state = fold(enrolled(S), agreed(S, planned=610), e)
    state, update, risk = changes(state, figures(state, PROGRAMME, AS_OF), e.event_id)
    assert update is not None and update.version == 3 and update.status == ShareStatus.BEHIND
    assert risk is not None and risk.worsened and risk.previous_status == ShareStatus.ON_TRACK
    assert update.caused_by == e.event_id
    same, again, no_risk = changes(state, figures(state, PROGRAMME, AS_OF), None)
    assert again is None and no_risk is None and same is state
    state = apply(state, confirmed(e))
    state, update, risk = changes(state, figures(state, PROGRAMME, AS_OF), None)
    assert update is not None and update.version == 4 and update.real_share == Decimal("0.0021")
    assert risk is not None and not risk.worsened and risk.status == ShareStatus.ON_TRACK
