"""The mentor page without a database: the form is read strictly (only what the page offered, every
missing piece named at its field), and the HTML is accessible by construction in both languages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from werkplek_events.vocabulary import AssessmentLevel, AssessmentMoment, Language, OutcomeKind, RejectionReason
from werkplek_mentor_feedback.linkflow import Batch, ShownEntry, ShownOutcome, ShownPlacement, Summary
from werkplek_mentor_feedback.linkform import FORM, FormInvalid, read_form
from werkplek_mentor_feedback.mentorpage import mentor_page, thanks

E1, E2, DONE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def batch(signed: bool = False) -> Batch:
    entries = (ShownEntry(E1, 1, "pl-1", "2026-11-10", 480, "work", "ward rounds", None),
               ShownEntry(E2, 2, "pl-1", "2026-11-11", 240, "training", "", None),
               ShownEntry(DONE, 1, "pl-1", "2026-11-12", 60, "meeting", "", "confirmed"))
    outcomes = (ShownOutcome("LO1", "Patient care", OutcomeKind.SKILL, True, "developing"),
                ShownOutcome("LO2", "Pharmacology", OutcomeKind.KNOWLEDGE, False, None))
    return Batch("req-1", "m-1", datetime(2026, 11, 19, 17, tzinfo=UTC), None,
                 (ShownPlacement("pl-1", "stu-1", outcomes, signed, entries),
                  ShownPlacement("pl-2", "stu-2", (), True, ())))


def test_the_choices_are_read_from_the_form() -> None:
    form = {f"decision-{E1}": "confirm", f"revision-{E1}": "1", f"decision-{E2}": "reject",
            f"reason-{E2}": "wrong_hours", f"comment-{E2}": " was 3 hours ", f"decision-{DONE}": "reject",
            "moment-pl-1": "final", "level-pl-1-LO1": "achieved", "note-pl-1-LO1": "well done",
            "level-pl-1-LO2": "", "sign-pl-1": "yes", "sign-pl-2": "yes", "level-pl-9-LO1": "achieved"}
    c = read_form(form, batch())
    assert [(r.entry_id, r.revision) for r in c.confirm] == [(E1, 1)]
    assert [(r.entry_id, r.revision, r.reason, r.comment) for r in c.reject] == [
        (E2, 2, RejectionReason.WRONG_HOURS, "was 3 hours")]  # the revision shown when the form has none
    assert [(a.placement_id, a.moment, a.outcomes) for a in c.assessments] == [
        ("pl-1", AssessmentMoment.FINAL, (("LO1", OutcomeKind.SKILL, AssessmentLevel.ACHIEVED, "well done"),))]
    assert c.sign == ["pl-1"]  # pl-2 is signed already; pl-9 and the decided entry were never offered


@pytest.mark.parametrize(("form", "errors"), [
    ({f"decision-{E2}": "reject"}, {f"reason-{E2}": "error.reason", f"comment-{E2}": "error.comment"}),
    ({f"decision-{E2}": "reject", f"reason-{E2}": "other"}, {f"comment-{E2}": "error.comment"}),
    ({f"decision-{E2}": "reject", f"reason-{E2}": "bogus", f"comment-{E2}": "x"}, {f"reason-{E2}": "error.reason"}),
    ({f"decision-{E2}": "reject", f"reason-{E2}": "other", f"comment-{E2}": "x" * 501},
     {f"comment-{E2}": "error.comment"}),
    ({"level-pl-1-LO1": "achieved"}, {"moment-pl-1": "error.moment"}),
    ({"moment-pl-1": "final", "level-pl-1-LO1": "achieved", "note-pl-1-LO1": "y" * 501},
     {"note-pl-1-LO1": "error.outcome_comment"}),
    ({f"decision-{E2}": "reject", f"reason-{E2}": "other", f"comment-{E2}": "nul\x00"},
     {f"comment-{E2}": "error.text_control"}),  # the contract's text rules (werkplek_events.limits)
    ({"moment-pl-1": "final", "level-pl-1-LO1": "achieved", "note-pl-1-LO1": "bell\x07"},
     {"note-pl-1-LO1": "error.text_control"}),
    ({f"decision-{E1}": "", "moment-pl-1": "final"}, {FORM: "error.nothing"}),
    ({}, {FORM: "error.nothing"}),
])
def test_what_is_missing_is_named_at_its_field(form: dict[str, str], errors: dict[str, str]) -> None:
    with pytest.raises(FormInvalid) as refused:
        read_form(form, batch())
    assert refused.value.errors == errors


class Controls(HTMLParser):
    """Collects the form controls, the labels' `for`, wrapped controls, ids and the page language."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.ids: list[str] = []
        self.in_label = 0
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if a.get("id"):
            self.ids.append(a["id"])  # type: ignore[arg-type]
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])  # type: ignore[arg-type]
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append({**a, "wrapped": "yes" if self.in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1


@pytest.mark.parametrize("lang", list(Language))
def test_every_control_has_a_label_and_errors_point_at_their_fields(lang: Language) -> None:
    errors = {f"reason-{E2}": "error.reason", "moment-pl-1": "error.moment"}
    response = mentor_page(batch(), lang, ZoneInfo("Europe/Brussels"), {f"decision-{E2}": "reject"}, errors, 400)
    html = bytes(response.body).decode()
    page = Controls()
    page.feed(html)
    assert page.lang == lang.value
    assert page.controls and all(c["wrapped"] or c.get("id") in page.label_for for c in page.controls)
    assert len(page.ids) == len(set(page.ids))  # ids are unique
    assert f'aria-describedby="err-reason-{E2}"' in html and f'href="#reason-{E2}"' in html
    assert 'role="alert"' in html
    assert f'name="decision-{E2}" value="reject" checked' in html  # what was entered is kept
    assert "18:00" in html  # the expiry in Brussels time
    assert f"decision-{DONE}" not in html  # a decided entry offers no choice
    assert 'name="sign-pl-2"' not in html and 'name="sign-pl-1"' in html


def test_a_revision_that_is_not_ascii_digits_is_the_one_shown() -> None:
    c = read_form({f"decision-{E1}": "confirm", f"revision-{E1}": "1\u00b2"}, batch())  # "²".isdigit() holds
    assert [(r.entry_id, r.revision) for r in c.confirm] == [(E1, 1)]


@pytest.mark.parametrize(("lang", "said"), [
    (Language.EN, "Saved: 1 entry confirmed, 2 learning outcomes assessed, 1 learning agreement signed."),
    (Language.NL, "Opgeslagen: 1 registratie bevestigd, 2 leerresultaten beoordeeld, 1 leerovereenkomst ondertekend."),
])
def test_the_thanks_counts_in_the_right_number_and_leaves_out_what_was_not_done(lang: Language, said: str) -> None:
    assert said in bytes(thanks(lang, Summary(confirmed=1, assessed=2, signed=1)).body).decode()


def test_the_expiry_names_its_time_zone() -> None:
    page = bytes(mentor_page(batch(), Language.EN, ZoneInfo("Europe/Brussels")).body).decode()
    assert "until 2026-11-19 18:00 CET" in page
