"""The confirmation-link pages: small server-rendered HTML that works on a phone, no script needed."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from werkplek_events.vocabulary import RejectionReason

from .domain import Refused
from .linkflow import Batch, FormInvalid, ShownEntry, decide_by_link, open_link
from .links import LinkProblem, LinkRefused
from .metrics import LINK_VISITS

_STYLE = ("body{font-family:system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem;line-height:1.4}"
          "fieldset{border:1px solid #ccc;border-radius:.5rem;margin:.75rem 0;padding:.75rem}"
          "label{display:block;margin:.25rem 0}select,input[type=text],button{font-size:1rem;width:100%;"
          "box-sizing:border-box;padding:.5rem;margin:.25rem 0}.err{color:#a00}.muted{color:#666}")
_REFUSALS = {
    LinkProblem.USED: (410, "This link has already been used",
                       "The decisions sent with this link were saved. Entries still waiting arrive in a new message."),
    LinkProblem.EXPIRED: (410, "This link has expired",
                          "For safety, links work for a limited time. Entries still waiting arrive in a new message."),
    LinkProblem.TAMPERED: (403, "This link is not valid",
                           "The link is incomplete or was changed. Open it again from the original message."),
}
_REASONS = {"not_worked": "Not worked", "wrong_hours": "Wrong number of hours", "wrong_date": "Wrong date",
            "not_at_workplace": "Not at the workplace", "duplicate": "Duplicate", "other": "Other"}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}"
            "</body></html>")
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store",
                                                           "Referrer-Policy": "no-referrer"})


def _refused(problem: LinkProblem) -> HTMLResponse:
    LINK_VISITS.labels(problem.value).inc()
    status, title, text = _REFUSALS[problem]
    return _page(title, f"<p>{escape(text)}</p>", status)


def _hours(minutes: int) -> str:
    return f"{minutes // 60}h{minutes % 60:02d}"


def _entry(e: ShownEntry, error: str | None) -> str:
    head = (f"<legend>{escape(e.work_date)} · {_hours(e.minutes)} · {escape(e.activity)}</legend>"
            f"<p>Student {escape(e.student_id)}</p><p class=muted>{escape(e.description)}</p>")
    if e.decision:
        return f"<fieldset>{head}<p>Already {escape(e.decision)}.</p></fieldset>"
    i = escape(str(e.entry_id))
    reasons = "".join(f'<option value="{r.value}">{_REASONS[r.value]}</option>' for r in RejectionReason)
    err = f"<p class=err>{escape(error)}</p>" if error else ""
    return (f"<fieldset>{head}{err}<input type=hidden name=revision-{i} value={e.revision}>"
            f"<label><input type=radio name=decision-{i} value=confirm> Confirm</label>"
            f"<label><input type=radio name=decision-{i} value=reject> Reject</label>"
            f'<label>Reason <select name=reason-{i}><option value="">—</option>{reasons}</select></label>'
            f"<label>Explanation (needed to reject) <input type=text name=comment-{i} maxlength=500></label>"
            "</fieldset>")


def _form(batch: Batch, errors: dict[str, str], status: int = 200) -> HTMLResponse:
    total = sum(e.minutes for e in batch.entries if not e.decision)
    top = f"<p class=err>{escape(errors['form'])}</p>" if "form" in errors else ""
    items = "".join(_entry(e, errors.get(str(e.entry_id))) for e in batch.entries)
    body = (f"<p>{len(batch.entries)} entries, {_hours(total)} awaiting your decision. "
            f"This link works once, until {batch.expires_at:%Y-%m-%d %H:%M} UTC.</p>{top}"
            f'<form method=post>{items}<button type=submit>Send decisions</button></form>')
    return _page("Hours awaiting your confirmation", body, status)


HTML: dict[str, Any] = {"content": {"text/html": {}}}
PUBLIC: dict[str, Any] = {"security": []}  # the signed token in the path is the credential
FORM: dict[str, Any] = {**PUBLIC, "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
    "schema": {"type": "object", "additionalProperties": {"type": "string"},
               "description": "per entry: decision-<id> (confirm/reject), revision-<id>, reason-<id>, comment-<id>"}}}}}


def install(app: FastAPI) -> None:
    @app.get("/confirm/{token}", response_class=HTMLResponse, tags=["links"], summary="Entries behind a link",
             responses={403: HTML, 410: HTML}, openapi_extra=PUBLIC)
    async def show(token: str) -> HTMLResponse:
        try:
            batch = await open_link(app.state.pool, app.state.link_key, token, now=app.state.clock())
        except LinkRefused as exc:
            return _refused(exc.problem)
        LINK_VISITS.labels("shown").inc()
        return _form(batch, {})

    @app.post("/confirm/{token}", response_class=HTMLResponse, tags=["links"], summary="Send decisions once",
              responses={400: HTML, 403: HTML, 409: HTML, 410: HTML, 422: HTML}, openapi_extra=FORM)
    async def decide(token: str, request: Request) -> HTMLResponse:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        pool, key, now = app.state.pool, app.state.link_key, app.state.clock()
        try:
            plan = await decide_by_link(pool, key, token, form, now=now)
        except LinkRefused as exc:
            return _refused(exc.problem)
        except FormInvalid as exc:
            return _form(await open_link(pool, key, token, now=now), exc.errors, 400)
        except Refused as exc:
            return _page("Not saved", f"<p>{escape(exc.detail)}</p><p>Nothing was saved; open the link again.</p>",
                         exc.status)
        LINK_VISITS.labels("applied").inc()
        done = sum(1 for r in plan.results if r["result"] in ("confirmed", "rejected"))
        return _page("Thank you", f"<p>{done} decisions saved. You can close this page.</p>")
