"""The domain's shared rules, one definition each (docs/domain.md, "Hours and shares"), used by name by
every service that needs them: hour accounting, funding reports, placement logging (the student app's
server side) and mentor feedback. Pure: no I/O, no clock, no service code. Where a rule is needed in
SQL (a query's WHERE), the query says which of these it mirrors and a test holds them together.

- **Entry status** (`entry_status`): an entry counts for the mentor's decision on its *current*
  revision only. A confirmation of an older revision does not confirm a corrected entry (the
  correction is pending again). Decisions are counted per revision and reversals per decision kind,
  so the answer does not depend on the order the events arrived in (Kafka orders records only within
  one partition of one topic). A reversal names no revision, so which decision it undid is inferred:
  * a confirmation: from the *lowest* revisions first — a confirmed entry is immutable until its
    confirmation is reversed, so every confirmation of an older revision was reversed before the
    entry could be corrected (confirmed, reversed, corrected, confirmed again: confirmed);
  * a rejection: from the *highest* first — a rejected entry is corrected without a reversal, so a
    reversal is taken to concern the latest rejection. (Rejected, reversed, corrected and rejected
    again has the same counts as rejected, corrected, rejected again and reversed: the two cannot be
    told apart without the reversed revision on the event; either way the entry is not confirmed.)
  Confirmed and rejected at once on the current revision cannot be told apart (which came last is
  unknown): pending, never confirmed.
- **Real share** (`real_share`): confirmed minutes ÷ study load minutes, exact; 0 while there is no
  study load (nothing to divide). Per phase and per academic year it is the same rule over that
  phase's or year's confirmed minutes and load.
- **Published ratios** (`rounded`, `ten_thousandths`): 4 decimal places, half to even, exact (integer
  arithmetic, no intermediate decimal context): what the contract's `Ratio` fields carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from .vocabulary import Decision, EntryStatus

_DECIDED = {d.value for d in Decision}
PLACES = 4  # decimal places of a published share or ratio (the contract's `Ratio`)
_SCALE = 10**PLACES


# --- the decision on an entry's current revision -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Decisions:
    """Mentor decisions on one entry: how often each revision was confirmed / rejected, and how often
    a confirmation / rejection was reversed (a reversal names no revision)."""

    confirmed: dict[int, int] = field(default_factory=dict)
    rejected: dict[int, int] = field(default_factory=dict)
    reversed_confirmed: int = 0
    reversed_rejected: int = 0

    @classmethod
    def standing(cls, decision: Decision | EntryStatus | None, revision: int | None) -> Decisions:
        """The decisions of a store that keeps only the one decision standing and the revision it was
        made on (None or pending: no decision stands)."""
        if decision is None or revision is None or decision.value not in _DECIDED:
            return cls()
        return cls().decided(Decision(decision.value), revision)

    def decided(self, decision: Decision, revision: int) -> Decisions:
        """With one more decision on `revision`."""
        if decision is Decision.CONFIRMED:
            return Decisions(_bump(self.confirmed, revision), self.rejected, self.reversed_confirmed,
                             self.reversed_rejected)
        return Decisions(self.confirmed, _bump(self.rejected, revision), self.reversed_confirmed,
                         self.reversed_rejected)

    def reversed(self, decision: Decision) -> Decisions:
        """With one more reversal of a `decision`."""
        if decision is Decision.CONFIRMED:
            return Decisions(self.confirmed, self.rejected, self.reversed_confirmed + 1, self.reversed_rejected)
        return Decisions(self.confirmed, self.rejected, self.reversed_confirmed, self.reversed_rejected + 1)


def _bump(counts: dict[int, int], revision: int) -> dict[int, int]:
    return {**counts, revision: counts.get(revision, 0) + 1}


def _net(counts: dict[int, int], reversals: int, newest_first: bool) -> dict[int, int]:
    """What is left of the decisions per revision after `reversals`, taken from the highest revisions
    first (`newest_first`) or from the lowest."""
    out = {}
    for rev in sorted(counts, reverse=newest_first):
        taken = min(counts[rev], reversals)
        reversals -= taken
        out[rev] = counts[rev] - taken
    return out


def entry_status(revision: int, decisions: Decisions | None) -> EntryStatus:
    """Pending, confirmed or rejected: the decision on the entry's current `revision` (never withdrawn:
    whether an entry was withdrawn is the ledger's fact, not a decision)."""
    if decisions is None:
        return EntryStatus.PENDING
    if decisions.reversed_confirmed or decisions.reversed_rejected:
        confirmed = _net(decisions.confirmed, decisions.reversed_confirmed, newest_first=False).get(revision, 0) > 0
        rejected = _net(decisions.rejected, decisions.reversed_rejected, newest_first=True).get(revision, 0) > 0
    else:  # the common case, without sorting (this runs for every entry of every student of a batch)
        confirmed = decisions.confirmed.get(revision, 0) > 0
        rejected = decisions.rejected.get(revision, 0) > 0
    if confirmed == rejected:
        return EntryStatus.PENDING
    return EntryStatus.CONFIRMED if confirmed else EntryStatus.REJECTED


def is_confirmed(revision: int, decisions: Decisions | None) -> bool:
    """Whether the entry counts as confirmed on its current revision (`entry_status`)."""
    return entry_status(revision, decisions) is EntryStatus.CONFIRMED


# --- the real share -----------------------------------------------------------------------------


def real_share(confirmed_minutes: int, study_load_minutes: int) -> Fraction:
    """Confirmed minutes ÷ study load minutes, exact; 0 without a study load."""
    if confirmed_minutes < 0 or study_load_minutes < 0:
        raise ValueError(f"minutes cannot be negative: {confirmed_minutes} of {study_load_minutes}")
    return Fraction(confirmed_minutes, study_load_minutes) if study_load_minutes else Fraction(0)


# --- rounding as published ------------------------------------------------------------------------


def ten_thousandths(value: Fraction) -> int:
    """`round(value * 10_000)` (exact, half to even) in integer arithmetic: the same result without
    building a Fraction (hour accounting runs five of these for every student of every batch)."""
    q, r = divmod(value.numerator * _SCALE, value.denominator)
    twice = 2 * r
    return q + (twice > value.denominator or (twice == value.denominator and q & 1))


def rounded(value: Fraction) -> Decimal:
    """A share or ratio as published: 4 places, half to even, exact."""
    return Decimal(ten_thousandths(value)).scaleb(-PLACES)
