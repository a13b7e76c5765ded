"""The mentor page, pure HTML: server-rendered, no script, phone-first, in the mentor's language.
Accessible by construction: every control has a label, radio groups are fieldsets with a legend,
errors are listed in a summary that links to each field and repeated next to it (aria-describedby,
aria-invalid), the page language is declared, touch targets are at least 44 px, focus is visible."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from werkplek_events.vocabulary import AssessmentLevel, AssessmentMoment, Language, RejectionReason

from .i18n import count, hours, local_time, text
from .linkflow import Batch, ShownEntry, ShownOutcome, ShownPlacement, Summary
from .linkform import FORM

_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1rem;line-height:1.5;color:#1a1a1a;
background:#fff;margin:0}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:0 0 .25rem}
h3{font-size:1.05rem;margin:1rem 0 .5rem}
section{border-top:3px solid #0b5cab;margin:1.5rem 0;padding-top:.75rem}
fieldset{border:1px solid #8a8a8a;border-radius:.5rem;margin:.75rem 0;padding:.5rem .75rem .75rem}
legend{font-weight:600;padding:0 .25rem}
label{display:block;margin:.5rem 0 .125rem}
.choice{display:flex;align-items:center;gap:.5rem;min-height:44px;margin:0}
.choice input{width:1.375rem;height:1.375rem;margin:0;flex:none}
select,input[type=text],input[type=email],textarea{font:inherit;width:100%;min-height:44px;padding:.5rem;
border:1px solid #555;border-radius:.375rem;background:#fff;color:#1a1a1a}
textarea{min-height:4.5rem}
button{font:inherit;font-weight:600;width:100%;min-height:48px;margin:1rem 0;padding:.75rem;border:0;
border-radius:.5rem;background:#0b5cab;color:#fff;cursor:pointer}
a{color:#0b5cab}
:focus-visible{outline:3px solid #f5a700;outline-offset:2px}
.muted{color:#4d4d4d}.desc{margin:.25rem 0 .5rem}
.err{color:#b00020;font-weight:600;margin:.25rem 0}
[aria-invalid=true]{border:2px solid #b00020}
.errors{border:3px solid #b00020;border-radius:.5rem;padding:.5rem 1rem;margin:1rem 0}
.errors h2{font-size:1.1rem}
.lang{text-align:right;margin:0}
.done{background:#eef6ee;border-radius:.375rem;padding:.5rem}
"""


# no script, no frames, forms post only to us; the link's token never leaks in a Referer
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                       "frame-ancestors 'none'"}


def page(lang: Language, title: str, body: str, status: int = 200, *, switch: str | None = None) -> HTMLResponse:
    other = Language.EN if lang is Language.NL else Language.NL
    toggle = (f'<p class="lang"><a href="{escape(switch, quote=True)}" hreflang="{other.value}" lang="{other.value}">'
              f"{escape(text(lang, 'page.language'))}</a></p>") if switch else ""
    html = (f'<!doctype html><html lang="{lang.value}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>{toggle}"
            f"<h1>{escape(title)}</h1>{body}</main></body></html>")
    return HTMLResponse(html, status_code=status, headers={**_HEADERS, "Content-Language": lang.value})


class Form:
    """What the mentor entered (kept when the page comes back with errors) and the errors."""

    def __init__(self, lang: Language, values: Mapping[str, str], errors: Mapping[str, str]) -> None:
        self.lang, self.values, self.errors = lang, values, errors

    def t(self, key: str, **kw: object) -> str:
        return escape(text(self.lang, key, **kw))

    def error(self, name: str) -> tuple[str, str]:
        """(attributes for the control, the message after it) of a field."""
        if name not in self.errors:
            return "", ""
        return (f' aria-invalid="true" aria-describedby="err-{name}"',
                f'<p class="err" id="err-{name}">{self.t(self.errors[name])}</p>')

    def checked(self, name: str, value: str) -> str:
        return " checked" if self.values.get(name, "") == value else ""

    def selected(self, name: str, value: str) -> str:
        return " selected" if self.values.get(name, "") == value else ""

    def value(self, name: str) -> str:
        return escape(self.values.get(name, ""), quote=True)


def _radio(f: Form, name: str, value: str, label: str) -> str:
    return (f'<label class="choice"><input type="radio" name="{name}" value="{value}"{f.checked(name, value)}> '
            f"{label}</label>")


def _entry(f: Form, e: ShownEntry) -> str:
    activity = text(f.lang, f"activity.{e.activity}")
    head = f"<legend>{f.t('page.entry', date=e.work_date, hours=hours(e.minutes), activity=activity)}</legend>"
    head += f'<p class="desc">{escape(e.description)}</p>' if e.description else ""
    if e.decision:
        done = f.t("page.decided", decision=text(f.lang, f"decision.{e.decision}"))
        return f'<fieldset>{head}<p class="done">{done}</p></fieldset>'
    i = str(e.entry_id)
    attrs_r, err_r = f.error(f"reason-{i}")
    attrs_c, err_c = f.error(f"comment-{i}")
    reasons = "".join(f'<option value="{r.value}"{f.selected(f"reason-{i}", r.value)}>{f.t(f"reason.{r.value}")}'
                      "</option>" for r in RejectionReason)
    return (f'<fieldset>{head}<input type="hidden" name="revision-{i}" value="{e.revision}">'
            + _radio(f, f"decision-{i}", "confirm", f.t("page.confirm"))
            + _radio(f, f"decision-{i}", "reject", f.t("page.reject"))
            + _radio(f, f"decision-{i}", "", f.t("page.later"))
            + f'<label for="reason-{i}">{f.t("page.reason")}</label><select id="reason-{i}" name="reason-{i}"{attrs_r}>'
            f'<option value="">{f.t("page.reason.none")}</option>{reasons}</select>{err_r}'
            f'<label for="comment-{i}">{f.t("page.comment")}</label><textarea id="comment-{i}" name="comment-{i}" '
            f'maxlength="500" rows="2"{attrs_c}>{f.value(f"comment-{i}")}</textarea>{err_c}</fieldset>')


def _outcome(f: Form, pid: str, o: ShownOutcome) -> str:
    name, note = f"level-{pid}-{o.outcome_id}", f"note-{pid}-{o.outcome_id}"
    about = text(f.lang, f"kind.{o.kind.value}")
    if not o.at_workplace:
        about += " · " + text(f.lang, "page.at_institution")
    if o.latest_level:
        about += " · " + text(f.lang, "page.latest", level=text(f.lang, f"page.level.{o.latest_level}"))
    levels = "".join(f'<option value="{lvl.value}"{f.selected(name, lvl.value)}>{f.t(f"page.level.{lvl.value}")}'
                     "</option>" for lvl in AssessmentLevel)
    attrs_n, err_n = f.error(note)
    return (f'<label for="{name}">{escape(o.title)} <span class="muted">({escape(about)})</span></label>'
            f'<select id="{name}" name="{name}"><option value="">{f.t("page.level.none")}</option>{levels}</select>'
            f'<label for="{note}" class="muted">{f.t("page.outcome_comment", outcome=o.title)}</label>'
            f'<input type="text" id="{note}" name="{note}" maxlength="500" value="{f.value(note)}"{attrs_n}>{err_n}')


def _assessment(f: Form, p: ShownPlacement) -> str:
    if not p.outcomes:
        return ""
    moment = f"moment-{p.placement_id}"
    _, err_m = f.error(moment)
    moments = "".join(_radio(f, moment, m.value, f.t(f"page.moment.{m.value}")) for m in AssessmentMoment)
    invalid = ' aria-invalid="true" aria-describedby="err-' + moment + '"' if err_m else ""
    return (f'<fieldset><legend>{f.t("page.assess")}</legend>'
            f'<fieldset id="{moment}"{invalid}><legend>{f.t("page.moment")}</legend>{moments}{err_m}</fieldset>'
            + "".join(_outcome(f, p.placement_id, o) for o in p.outcomes) + "</fieldset>")


def _signature(f: Form, p: ShownPlacement) -> str:
    if p.signed:
        return f'<fieldset><legend>{f.t("page.sign")}</legend><p class="done">{f.t("page.signed")}</p></fieldset>'
    name = f"sign-{p.placement_id}"
    return (f'<fieldset><legend>{f.t("page.sign")}</legend><label class="choice"><input type="checkbox" name="{name}" '
            f'value="yes"{f.checked(name, "yes")}> {f.t("page.sign.box")}</label></fieldset>')


def _placement(f: Form, p: ShownPlacement) -> str:
    hid = f"h-{p.placement_id}"
    entries = (f"<h3>{f.t('page.hours')}</h3>" + "".join(_entry(f, e) for e in p.entries)) if p.entries else ""
    return (f'<section aria-labelledby="{hid}"><h2 id="{hid}">{f.t("page.student", student=p.student_id)}</h2>'
            f'<p class="muted">{f.t("page.placement", placement=p.placement_id)}</p>'
            f"{entries}{_assessment(f, p)}{_signature(f, p)}</section>")


def _summary(f: Form) -> str:
    if not f.errors:
        return ""
    items = "".join(f'<li><a href="#{"submit" if name == FORM else name}">{f.t(key)}</a></li>'
                    for name, key in f.errors.items())
    return (f'<div class="errors" role="alert" id="errors" tabindex="-1"><h2>{f.t("page.errors")}</h2>'
            f"<ul>{items}</ul></div>")


def mentor_page(batch: Batch, lang: Language, tz: ZoneInfo, values: Mapping[str, str] | None = None,
                errors: Mapping[str, str] | None = None, status: int = 200) -> HTMLResponse:
    f = Form(lang, values or {}, errors or {})
    open_entries = [e for e in batch.entries if not e.decision]
    expires = local_time(batch.expires_at, tz)
    waiting = hours(sum(e.minutes for e in open_entries))
    intro = (f.t("page.intro", entries=count(lang, "entries", len(open_entries)), hours=waiting, expires=expires)
             if open_entries else f.t("page.nothing"))
    body = (f"<p>{intro}</p>{_summary(f)}<form method=\"post\" action=\"?lang={lang.value}\">"
            + "".join(_placement(f, p) for p in batch.placements)
            + f'<button type="submit" id="submit">{f.t("page.submit")}</button></form>')
    other = Language.EN if lang is Language.NL else Language.NL
    return page(lang, text(lang, "page.title"), body, status, switch=f"?lang={other.value}")


def thanks(lang: Language, done: Summary) -> HTMLResponse:
    parts = [count(lang, noun, n) for noun, n in (("confirmed", done.confirmed), ("rejected", done.rejected),
                                                  ("assessed", done.assessed), ("signed", done.signed)) if n]
    body = "<p>" + escape(text(lang, "page.thanks", done=", ".join(parts))) + "</p>"
    return page(lang, text(lang, "page.thanks.title"), body)


def ask_form(lang: Language, *, action: str, email: str = "", invalid: bool = False) -> str:
    attrs = ' aria-invalid="true" aria-describedby="err-email"' if invalid else ""
    err = f'<p class="err" id="err-email">{escape(text(lang, "ask.invalid"))}</p>' if invalid else ""
    return (f'<form method="post" action="{escape(action, quote=True)}"><h2>{escape(text(lang, "ask.title"))}</h2>'
            f'<p>{escape(text(lang, "ask.intro"))}</p><input type="hidden" name="lang" value="{lang.value}">'
            f'<label for="email">{escape(text(lang, "ask.email"))}</label><input type="email" id="email" name="email" '
            f'autocomplete="email" required maxlength="254" value="{escape(email, quote=True)}"{attrs}>{err}'
            f'<button type="submit">{escape(text(lang, "ask.submit"))}</button></form>')

