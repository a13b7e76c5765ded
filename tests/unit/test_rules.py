"""The shared rules (`werkplek_events.rules`): each rule on its edge cases; every service that needs a
rule gets the same answer from it (hour accounting, funding reports, placement logging, mentor
feedback), in any arrival order; and no second copy of a rule creeps back into a service."""

from __future__ import annotations

import random
import re
import uuid
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkplek_events import (
    Event,
    PhaseShare,
    TimeEntryConfirmed,
    TimeEntryCorrected,
    TimeEntryDecisionReversed,
    TimeEntryLogged,
    TimeEntryRejected,
)
from werkplek_events.rules import Decisions, entry_status, is_confirmed, real_share, rounded, ten_thousandths
from werkplek_events.vocabulary import Decision, EntryStatus

ROOT = Path(__file__).resolve().parents[2]
C, R = Decision.CONFIRMED, Decision.REJECTED


# --- real share ------------------------------------------------------------------------------------


def test_real_share_is_confirmed_minutes_over_study_load_exactly():
    assert real_share(48_600, 145_800) == Fraction(1, 3)
    assert real_share(48_599, 145_800) < Fraction(1, 3)  # one minute short of ⅓ has not reached it
    assert real_share(0, 145_800) == 0
    assert real_share(200_000, 145_800) > 1  # more than the study load: not capped (the figure is the figure)


def test_real_share_without_a_study_load_is_zero():
    assert real_share(0, 0) == 0
    assert real_share(480, 0) == 0


def test_real_share_refuses_negative_minutes():
    with pytest.raises(ValueError, match="negative"):
        real_share(-1, 100)
    with pytest.raises(ValueError, match="negative"):
        real_share(1, -100)


# --- rounding as the contract publishes ---------------------------------------------------------------


def test_shares_round_half_even_to_the_contracts_four_places():
    assert rounded(real_share(960, 145_800)) == Decimal("0.0066")  # 0.006584…
    assert rounded(Fraction(5, 100_000)) == Decimal("0.0000")  # a tie: to the even neighbour
    assert rounded(Fraction(15, 100_000)) == Decimal("0.0002")
    assert rounded(Fraction(1, 3)) == Decimal("0.3333")
    assert str(rounded(Fraction(0))) == "0.0000" and str(rounded(Fraction(1))) == "1.0000"  # as published
    assert ten_thousandths(Fraction(-15, 100_000)) == -2  # half-even on the negative side too
    PhaseShare(phase=1, confirmed_minutes=960, study_load_minutes=145_800, share=rounded(real_share(960, 145_800)))


@given(st.fractions(min_value=0, max_value=10, max_denominator=10**9), st.integers(0, 100_000))
def test_rounding_is_pythons_exact_bankers_rounding(value, k):
    assert rounded(value) == Decimal(round(value * 10_000)).scaleb(-4)
    tie = Fraction(2 * k + 1, 20_000)  # exactly halfway between k and k + 1 ten-thousandths: to the even one
    assert rounded(tie) == Decimal(k + (k % 2)).scaleb(-4)


def test_rounding_is_exact_where_a_decimal_context_rounds_twice():
    """The rounding funding reports had (a division in the 28-digit decimal context, then quantize)
    rounded twice: a value a hair above a tie became the tie, then went to the even neighbour."""
    hair_above_a_tie = Fraction(5, 100_000) + Fraction(1, 10**40)
    assert rounded(hair_above_a_tie) == Decimal("0.0001")


# --- the decision on an entry's current revision ----------------------------------------------------


def test_an_entry_without_decisions_is_pending():
    assert entry_status(1, None) is EntryStatus.PENDING
    assert entry_status(1, Decisions()) is EntryStatus.PENDING


def test_a_decision_counts_on_the_revision_it_was_taken_on():
    assert entry_status(1, Decisions().decided(C, 1)) is EntryStatus.CONFIRMED
    assert entry_status(1, Decisions().decided(R, 1)) is EntryStatus.REJECTED
    assert is_confirmed(1, Decisions().decided(C, 1)) and not is_confirmed(1, Decisions().decided(R, 1))


def test_a_confirmation_of_an_older_revision_does_not_confirm_a_corrected_entry():
    confirmed_before = Decisions().decided(C, 1)
    assert entry_status(2, confirmed_before) is EntryStatus.PENDING  # corrected to revision 2: pending again
    assert entry_status(2, confirmed_before.decided(C, 2)) is EntryStatus.CONFIRMED
    assert entry_status(0, confirmed_before) is EntryStatus.PENDING  # the entry is not known yet: held


def test_a_reversal_undoes_a_decision_of_its_kind():
    once = Decisions().decided(C, 1)
    assert entry_status(1, once.reversed(C)) is EntryStatus.PENDING
    assert entry_status(1, once.reversed(R)) is EntryStatus.CONFIRMED  # a reversal of the other kind
    assert entry_status(1, once.reversed(C).decided(R, 1)) is EntryStatus.REJECTED  # reversed, then rejected
    assert entry_status(1, once.reversed(C).decided(C, 1)) is EntryStatus.CONFIRMED  # reversed, confirmed again
    # rejected on 1, corrected (a rejected entry may be), rejected on 2, one reversal: of the latest
    assert entry_status(2, Decisions().decided(R, 1).decided(R, 2).reversed(R)) is EntryStatus.PENDING
    # confirmed on 1, reversed (else it could not be corrected), confirmed on 2: confirmed
    assert entry_status(2, Decisions().decided(C, 1).decided(C, 2).reversed(C)) is EntryStatus.CONFIRMED


def test_confirmed_and_rejected_at_once_is_pending_never_confirmed():
    assert entry_status(1, Decisions().decided(C, 1).decided(R, 1)) is EntryStatus.PENDING


def test_one_standing_decision_is_read_through_the_same_rule():
    assert Decisions.standing(None, 3) == Decisions() == Decisions.standing(EntryStatus.PENDING, 3)
    assert Decisions.standing(Decision.CONFIRMED, None) == Decisions()
    assert entry_status(3, Decisions.standing(EntryStatus.REJECTED, 3)) is EntryStatus.REJECTED
    assert entry_status(4, Decisions.standing(Decision.CONFIRMED, 3)) is EntryStatus.PENDING


# --- every service, one answer --------------------------------------------------------------------------

ENTRY = uuid.UUID(int=7)
STUDENT, PLACEMENT = "s-rules", "p-rules"


def _facts(revisions: int, decisions: list[tuple[str, int]]) -> list[Event]:
    """An entry logged and corrected to `revisions`, and mentor events: (confirm|reject, revision) or
    (reverse-confirmed|reverse-rejected, 0)."""
    common = {"entry_id": ENTRY, "student_id": STUDENT, "placement_id": PLACEMENT}
    out: list[Event] = [
        (TimeEntryLogged if r == 1 else TimeEntryCorrected)(**common, revision=r, work_date="2026-10-05",
                                                            duration_minutes=480, activity="work")
        for r in range(1, revisions + 1)]
    for kind, rev in decisions:
        if kind == "confirm":
            out.append(TimeEntryConfirmed(**common, mentor_id="m", entry_revision=rev))
        elif kind == "reject":
            out.append(TimeEntryRejected(**common, mentor_id="m", entry_revision=rev, reason="wrong_hours"))
        else:
            out.append(TimeEntryDecisionReversed(**common, mentor_id="m", reversed=kind.removeprefix("reverse-")))
    return out


def _hour_accounting(events: list[Event]) -> EntryStatus:
    from werkplek_hour_accounting.domain import apply_all, new_state
    from werkplek_hour_accounting.projection import _tallies

    from .hour_accounting.builders import agreed

    state = apply_all(new_state(STUDENT), [agreed(STUDENT, PLACEMENT), *events])
    overall = _tallies(state, {PLACEMENT})[0]
    return {(480, 0, 0): EntryStatus.CONFIRMED, (0, 480, 0): EntryStatus.PENDING,
            (0, 0, 480): EntryStatus.REJECTED}[(overall.confirmed, overall.pending, overall.rejected)]


def _funding_reports_confirmed(events: list[Event]) -> bool:
    from werkplek_funding_reports.domain.state import Cohort

    cohort = Cohort()
    for e in events:
        cohort.apply(e)
    return cohort.confirmed_entries(STUDENT) == [ENTRY]


mentor_events = st.lists(st.one_of(
    st.tuples(st.sampled_from(["confirm", "reject"]), st.integers(1, 3)),
    st.tuples(st.sampled_from(["reverse-confirmed", "reverse-rejected"]), st.just(0))), max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 3), mentor_events, st.randoms(use_true_random=False))
def test_hour_accounting_and_funding_reports_agree_in_any_arrival_order(revisions, decisions, rnd: random.Random):
    """Funding reports' lineage once called an entry confirmed after its correction (it compared
    confirmation and reversal times, blind to revisions) while hour accounting counted it pending."""
    events = _facts(revisions, decisions)
    rnd.shuffle(events)
    counts = Decisions()
    for kind, rev in decisions:
        counts = counts.decided(C if kind == "confirm" else R, rev) if rev else counts.reversed(
            Decision(kind.removeprefix("reverse-")))
    expected = entry_status(revisions, counts)
    assert _hour_accounting(events) is expected
    assert _funding_reports_confirmed(events) == (expected is EntryStatus.CONFIRMED)


def test_the_old_lineage_disagreement_is_gone():
    """Confirmed on revision 1, then corrected: the share counts it pending, and so does lineage."""
    events = _facts(1, [("confirm", 1)]) + _facts(2, [])[1:]
    assert _hour_accounting(events) is EntryStatus.PENDING
    assert not _funding_reports_confirmed(events)
    assert _funding_reports_confirmed(events + _facts(2, [("confirm", 2)])[2:])


# the mentor's tool, as mentor feedback allows it: decide the current revision once, reverse before
# deciding again; the student corrects (not a confirmed entry: it is immutable until reversed)
steps = st.lists(st.sampled_from(["correct", "confirm", "reject", "reverse"]), max_size=10)


@given(steps)
def test_the_stores_of_one_standing_decision_agree_with_the_rule(actions):
    """Placement logging (its ledger's column, updated per event in arrival order) and mentor
    feedback (decision + decided revision) keep one standing decision; both read it through the rule,
    and agree with the rule over every decision counted (hour accounting's and funding's state)."""
    from werkplek_mentor_feedback.domain import Entry as MentorEntry
    from werkplek_placement_logging import domain as ledger

    revision, counts = 1, Decisions()
    ledger_status = EntryStatus.PENDING
    reversed_rejection = ambiguous = False  # a rejection reversed, then corrected: see the rule's docstring
    mentor = MentorEntry(ENTRY, STUDENT, PLACEMENT, revision=1)
    for action in actions:
        current = mentor.current_decision
        common = {"entry_id": ENTRY, "student_id": STUDENT, "placement_id": PLACEMENT, "mentor_id": "m"}
        if action == "correct":
            if ledger.refuse_change(ledger_status, False):
                continue
            revision += 1
            ambiguous |= reversed_rejection
            ledger_status = EntryStatus.PENDING  # the ledger's correction (ledger_sql: decision = 'pending')
            mentor = _replace(mentor, revision=revision)
            continue
        if action == "reverse":
            if current is None:
                continue
            event: ledger.MentorDecision = TimeEntryDecisionReversed(**common, reversed=current)
            counts = counts.reversed(current)
            reversed_rejection |= current is R
            mentor = _replace(mentor, decision=None, decided_revision=None)
        else:
            if current is not None:
                continue
            wanted = C if action == "confirm" else R
            event = (TimeEntryConfirmed(**common, entry_revision=revision) if wanted is C else
                     TimeEntryRejected(**common, entry_revision=revision, reason="wrong_hours"))
            counts = counts.decided(wanted, revision)
            mentor = _replace(mentor, decision=wanted, decided_revision=revision)
        ledger_status = ledger.decide(ledger_status, revision, event) or ledger_status
        rule = entry_status(revision, counts)
        assert (ledger_status is EntryStatus.CONFIRMED) == (rule is EntryStatus.CONFIRMED)  # always
        standing = mentor.current_decision.value if mentor.current_decision else "pending"
        assert standing == ledger_status.value
        if not ambiguous:
            assert ledger_status is rule


def test_confirmed_reversed_corrected_and_confirmed_again_is_confirmed():
    """The case hour accounting once counted pending (it took a reversal from the highest revision)."""
    counts = Decisions().decided(C, 1).reversed(C).decided(C, 2)
    assert entry_status(2, counts) is EntryStatus.CONFIRMED
    events = _facts(1, [("confirm", 1), ("reverse-confirmed", 0)]) + _facts(2, [("confirm", 2)])[1:]
    for order in (events, events[::-1]):
        assert _hour_accounting(order) is EntryStatus.CONFIRMED
        assert _funding_reports_confirmed(order)


def _replace(entry, **changes):
    from dataclasses import replace

    return replace(entry, **changes)


def test_mentor_feedbacks_pending_query_is_the_rule_in_sql():
    """The confirmation-request job selects pending entries in SQL; the predicate is the rule over
    one standing decision: no decision, or one taken on another revision than the current."""
    from werkplek_mentor_feedback.confirmations import PENDING_ENTRY

    assert "e.decision IS NULL OR e.decided_revision IS DISTINCT FROM e.revision" in PENDING_ENTRY
    assert entry_status(2, Decisions.standing(Decision.CONFIRMED, 1)) is EntryStatus.PENDING  # what it encodes


# --- no second copy -------------------------------------------------------------------------------

RULES = ROOT / "events" / "werkplek_events" / "rules.py"
COPIES = {
    "a share divided by hand (use werkplek_events.rules.real_share)":
        re.compile(r"Fraction\(.*,\s*[\w.]*(load|study)\w*\s*\)|confirmed\w*\s*/\s*[\w.]*(load|minutes)"),
    "4-place rounding by hand (use werkplek_events.rules.rounded)":
        re.compile(r"quantize\(\s*(PLACES|Decimal\(\s*[\"']0\.0001[\"']\s*\))|divmod\([^)]*10_?000"),
    "the decision on a revision by hand (use werkplek_events.rules.entry_status)":
        re.compile(r"def (entry_decision|_net|entry_status|is_confirmed)\b"
                   r"|decided_revision\s*(==|!=)|(==|!=)\s*\w*decided_revision"),
    "a decision or entry status as a string (use Decision / EntryStatus)":
        re.compile(r"(==|!=|\bis\b)\s*[\"'](confirmed|rejected)[\"']|[\"'](confirmed|rejected)[\"']\s*(==|!=|if\b)"
                   r"|Literal\[[^\]]*[\"'](confirmed|rejected)[\"']"),
}


def _sources() -> list[Path]:
    files = [*(ROOT / "services").rglob("*.py"), *(ROOT / "events").rglob("*.py")]
    return [f for f in files if f != RULES and ".venv" not in f.parts]


def copies(text: str) -> list[str]:
    return [what for what, pattern in COPIES.items() if pattern.search(text)]


def test_no_service_writes_a_rule_of_its_own():
    found = [f"{f.relative_to(ROOT)}:{n}: {what}: {line.strip()}" for f in _sources()
             for n, line in enumerate(f.read_text().splitlines(), 1) for what in copies(line)]
    assert not found, "a second copy of a shared rule:\n" + "\n".join(found)


@pytest.mark.parametrize("line", [
    "return Fraction(self.confirmed_minutes, self.study_load_minutes)",
    "share=share_decimal(Fraction(m, load))) for y, m in _year_minutes(f)]",
    "phase_shares = {ph: Fraction(per_ph.get(ph, Tally()).confirmed, phase_load)",
    "return Fraction(self.year_minutes, self.year_load_minutes)",
    "x = overall.confirmed / load",
    '"achieved_share": share.quantize(Decimal("0.0001"), ROUND_HALF_EVEN),',
    "q, r = divmod(value.numerator * 10_000, value.denominator)",
    "return self.decision if self.decided_revision == self.revision else None",
    "def entry_decision(entry: Entry, decisions: Decisions | None) -> str:",
    'return "pending" if confirmed == rejected else "confirmed" if confirmed else "rejected"',
    'if kind == "confirmed":',
    'status: Literal["pending", "confirmed", "rejected", "withdrawn"] | None = None,',
])
def test_the_guard_recognises_the_copies_it_replaced(line):
    assert copies(line), line


@pytest.mark.parametrize("line", [
    "return real_share(self.confirmed_minutes, self.study_load_minutes)",
    "per_day = Fraction(p.planned_minutes, total)",
    '"decision.confirmed": "confirmed",',
    'MAILS.labels(row["kind"], outcome.state if outcome.state != "pending" else "retry").inc()',
])
def test_the_guard_lets_other_arithmetic_and_words_be(line):
    assert not copies(line), line
