"""Mails and their language: every message exists in Dutch and English with the same placeholders,
mails carry a plain-text and an HTML part, and no subject line ever names a student."""

from __future__ import annotations

import re
import string
import uuid
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from werkplek_events.vocabulary import Language
from werkplek_mentor_feedback import i18n
from werkplek_mentor_feedback.mails import MailKind, message, render

TZ = ZoneInfo("Europe/Brussels")
MENTOR: dict[str, Any] = {"entries": 3, "minutes": 930, "link_url": "https://w.example/mentor/confirm/req.1790000000.mac",
          "expires_at": "2026-11-19T17:00:00+00:00", "pending_days": 7}
DIGEST: dict[str, Any] = {"day": "2026-11-15", "students": [
    {"student_id": "stu-20260117", "programme": "Verpleegkunde", "status": "at_risk", "real_share": "0.1234"},
    {"student_id": "stu-<b>x", "programme": "Vroedkunde", "status": "behind", "real_share": "0.05"}]}


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_both_languages_have_every_message_with_the_same_placeholders() -> None:
    nl, en = i18n.CATALOGUE[Language.NL], i18n.CATALOGUE[Language.EN]
    assert nl.keys() == en.keys()
    assert {k: _fields(v) for k, v in nl.items()} == {k: _fields(v) for k, v in en.items()}
    assert all(v.strip() for v in (*nl.values(), *en.values()))


def test_the_language_comes_from_a_stored_value_or_the_browser() -> None:
    assert i18n.language("en") is Language.EN and i18n.language("fr") is Language.NL
    assert i18n.language(None) is i18n.DEFAULT
    assert i18n.from_accept_language("fr-BE,en;q=0.8,nl;q=0.5") is Language.EN
    assert i18n.from_accept_language("nl-BE") is Language.NL and i18n.from_accept_language("de") is None


@pytest.mark.parametrize("lang", list(Language))
@pytest.mark.parametrize("kind", [MailKind.CONFIRMATION_REQUEST, MailKind.REMINDER, MailKind.FRESH_LINK])
def test_a_mentor_mail_links_the_page_and_names_no_student(kind: MailKind, lang: Language) -> None:
    r = render(kind, MENTOR, lang, ask_url="https://w.example/mentor/link", tz=TZ)
    assert MENTOR["link_url"] in r.text and f'href="{MENTOR["link_url"]}"' in r.html
    assert "https://w.example/mentor/link" in r.text
    assert "15h30" in r.text and "2026-11-19 18:00" in r.text  # hours, and the expiry in local time
    assert f'<html lang="{lang.value}">' in r.html
    assert "stu-" not in r.subject + r.text + r.html


@pytest.mark.parametrize("lang", list(Language))
def test_the_digest_lists_the_students_in_the_body_never_in_the_subject(lang: Language) -> None:
    r = render(MailKind.DIGEST, DIGEST, lang, ask_url="-", tz=TZ)
    assert "stu-" not in r.subject and r.subject.endswith(("2 studenten", "2 students")) and "2026-11-15" in r.subject
    assert "stu-20260117" in r.text and "Verpleegkunde" in r.text and "12.3%" in r.text
    assert "stu-&lt;b&gt;x" in r.html and "<b>x" not in r.html  # escaped
    assert i18n.text(lang, "status.behind") in r.text


def test_a_message_has_text_and_html_parts_and_a_stable_message_id() -> None:
    mail_id = uuid.uuid4()
    r = render(MailKind.REMINDER, MENTOR, Language.EN, ask_url="https://w.example/mentor/link", tz=TZ)
    raw = message(r, mail_id=mail_id, to="an@example.be", sender="werkplek <no-reply@werkplek.example>",
                  lang=Language.EN, now=datetime(2026, 11, 16, tzinfo=UTC)).as_bytes()
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Message-ID"] == f"<{mail_id}@werkplek.example>"
    assert (parsed["To"], parsed["Content-Language"], parsed["Auto-Submitted"]) == ("an@example.be", "en",
                                                                                    "auto-generated")
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert re.search(r"Reminder", parsed["Subject"])
