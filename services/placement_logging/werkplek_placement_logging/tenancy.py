"""The tenant rules of the registry, pure: whose an object is, and how a student moves between
institutions. A student belongs to the institution that enrolled them first; only a transfer that
the owning institution offers and the receiving one accepts changes that (ADR 0030)."""

from __future__ import annotations

from dataclasses import dataclass


def foreign(owner: str | None, institution: str) -> bool:
    """The object exists and belongs to another institution (an absent one is nobody's)."""
    return owner is not None and owner != institution


@dataclass(frozen=True)
class Offer:
    student_id: str
    from_institution: str
    to_institution: str


def offer_errors(institution: str, to_institution: str) -> list[dict[str, str]]:
    """Why the owning institution may not offer this transfer (another institution's student or an
    unknown one is answered 404 before this)."""
    if to_institution == institution:
        return [{"field": "to_institution_id", "message": "is your own institution"}]
    return []


def may_see(offer: Offer | None, institution: str) -> bool:
    """Both sides of an open offer see it; nobody else learns it exists."""
    return offer is not None and institution in (offer.from_institution, offer.to_institution)


def may_accept(offer: Offer | None, owner: str | None, institution: str) -> bool:
    """Only the institution the offer names accepts it, and only while the offering one still owns the
    student (an offer does not survive a change of owner)."""
    return offer is not None and offer.to_institution == institution and owner == offer.from_institution
