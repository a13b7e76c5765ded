"""The mails, pure: a queued mail's kind and parameters become a subject, a plain-text and an HTML
body in the recipient's language, and an RFC 5322 message. No student is named in a subject line;
mentor mails name no student at all (the page behind the link does, to the mentor only)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from werkplek_events.vocabulary import Language

from . import i18n
from .i18n import count, hours, text


class MailKind(StrEnum):
    CONFIRMATION_REQUEST = "confirmation_request"
    REMINDER = "reminder"
    FRESH_LINK = "fresh_link"
    DIGEST = "digest"


_MENTOR_SUBJECT = {MailKind.CONFIRMATION_REQUEST: "mail.request.subject", MailKind.REMINDER: "mail.reminder.subject",
                   MailKind.FRESH_LINK: "mail.fresh_link.subject"}
_MENTOR_INTRO = {MailKind.CONFIRMATION_REQUEST: "mail.request.intro", MailKind.REMINDER: "mail.reminder.intro",
                 MailKind.FRESH_LINK: "mail.fresh_link.intro"}
_STYLE = ("font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a;"
          "max-width:36rem")
_BUTTON = ("display:inline-block;background:#0b5cab;color:#ffffff;padding:12px 20px;border-radius:6px;"
           "text-decoration:none;font-weight:600")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def local_time(iso: str, tz: ZoneInfo) -> str:
    return i18n.local_time(datetime.fromisoformat(iso), tz)


def render(kind: MailKind, params: dict[str, Any], lang: Language, *, ask_url: str, tz: ZoneInfo) -> Rendered:
    if kind is MailKind.DIGEST:
        return _digest(params, lang)
    return _mentor_mail(kind, params, lang, ask_url, tz)


def _mentor_mail(kind: MailKind, p: dict[str, Any], lang: Language, ask_url: str, tz: ZoneInfo) -> Rendered:
    values = {"entries": count(lang, "entries", p["entries"]), "hours": hours(p["minutes"]),
              "days": p.get("pending_days", 7), "expires": local_time(p["expires_at"], tz), "ask": ask_url}
    subject = text(lang, _MENTOR_SUBJECT[kind], **values)
    lines = [text(lang, "mail.greeting") + ",", "", text(lang, _MENTOR_INTRO[kind], **values), "",
             text(lang, "mail.action"), p["link_url"], "", text(lang, "mail.validity", **values), "",
             "-- ", text(lang, "mail.footer")]
    link = escape(p["link_url"], quote=True)
    html = (f'<!doctype html><html lang="{lang.value}"><head><meta charset="utf-8"><title>{escape(subject)}</title>'
            f'</head><body><div style="{_STYLE}"><p>{escape(text(lang, "mail.greeting"))},</p>'
            f"<p>{escape(text(lang, _MENTOR_INTRO[kind], **values))}</p>"
            f"<p>{escape(text(lang, 'mail.action'))}</p>"
            f'<p><a href="{link}" style="{_BUTTON}">{escape(text(lang, "mail.button"))}</a></p>'
            f'<p style="font-size:14px;color:#444">{escape(text(lang, "mail.validity", **values))}</p>'
            f'<p style="font-size:13px;color:#555">{escape(text(lang, "mail.footer"))}</p></div></body></html>')
    return Rendered(subject, "\n".join(lines) + "\n", html)


def _digest(p: dict[str, Any], lang: Language) -> Rendered:
    students = p["students"]
    values = {"students": count(lang, "students", len(students)), "day": p["day"]}
    subject = text(lang, "mail.digest.subject", **values)
    rows = [(s["student_id"], s["programme"], text(lang, f"status.{s['status']}"), f"{float(s['real_share']):.1%}")
            for s in students]
    lines = [text(lang, "mail.digest.intro", **values), "", text(lang, "mail.digest.columns"),
             *("- " + " · ".join(r) for r in rows), "", text(lang, "mail.digest.outro")]
    head = "".join(f"<th scope=col style='text-align:left;padding:4px 8px'>{escape(c.strip())}</th>"
                   for c in text(lang, "mail.digest.columns").split("·"))
    body = "".join("<tr>" + "".join(f"<td style='padding:4px 8px'>{escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    html = (f'<!doctype html><html lang="{lang.value}"><head><meta charset="utf-8"><title>{escape(subject)}</title>'
            f'</head><body><div style="{_STYLE}"><p>{escape(text(lang, "mail.digest.intro", **values))}</p>'
            f"<table style='border-collapse:collapse'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>{escape(text(lang, 'mail.digest.outro'))}</p></div></body></html>")
    return Rendered(subject, "\n".join(lines) + "\n", html)


def message(rendered: Rendered, *, mail_id: uuid.UUID, to: str, sender: str, lang: Language,
            now: datetime) -> EmailMessage:
    """Plain text first, HTML as the alternative. The Message-ID is the mail's id: the same on every
    attempt, so a receiving system can recognise a resend after a crash between the send and its
    record (the one window at-least-once over SMTP leaves)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, rendered.subject
    msg["Date"] = format_datetime(now)
    domain = sender.rpartition("@")[2].rstrip(">") or "werkplek.invalid"
    msg["Message-ID"] = f"<{mail_id}@{domain}>" if mail_id else make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    msg["X-Werkplek-Mail-Id"] = str(mail_id)
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    msg["Content-Language"] = lang.value  # after the parts: making them moves Content-* headers into the first
    return msg
