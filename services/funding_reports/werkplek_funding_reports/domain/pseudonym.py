"""Pseudonymous trajectory ids: defined once, in the contract (`werkplek_events.pseudonyms`)."""

from __future__ import annotations

from werkplek_events.pseudonyms import pseudonym

__all__ = ["pseudonym"]
