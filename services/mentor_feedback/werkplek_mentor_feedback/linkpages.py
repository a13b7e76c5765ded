"""The mentor's pages: the page behind a confirmation link (GET shows, the first successful POST uses
the link up; the use cases are `linkflow.py`, this maps their results to pages and statuses) and the
fresh-link form, which answers the same whether or not the address is known."""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from werkplek_events.limits import EMAIL_MAX, EMAIL_PATTERN
from werkplek_events.vocabulary import Language

from . import i18n
from .handlers import PROBLEMS
from .linkflow import DecideByLink, Decided, FormRefusal, LinkRefusal, OpenLink, decide_by_link, show_link, summary
from .links import LinkProblem
from .mentorpage import ask_form, mentor_page, page, thanks
from .metrics import FRESH_LINKS, LINK_VISITS, count_applied
from .pg_unit import PgUnitOfWork

_EMAIL = re.compile(EMAIL_PATTERN)
MAX_FIELDS = 10 * 500 + 2000  # ten fields per entry of a full batch, and the assessments
_STATUS = {LinkProblem.USED: 410, LinkProblem.EXPIRED: 410, LinkProblem.TAMPERED: 403}


def chosen_language(request: Request, asked: str | None, preferred: Language | None) -> Language:
    """An explicit choice (the page's language link), else the mentor's preference, else the browser's."""
    if asked in {lang.value for lang in Language}:
        return Language(asked)
    return preferred or i18n.from_accept_language(request.headers.get("accept-language")) or i18n.DEFAULT


def _refused(request: Request, problem: LinkProblem, lang: Language) -> HTMLResponse:
    LINK_VISITS.labels(problem.value).inc()
    body = f"<p>{escape(i18n.text(lang, f'refused.{problem.value}'))}</p>"
    if problem is not LinkProblem.USED:
        body += ask_form(lang, action=_ask_action(request))
    return page(lang, i18n.text(lang, f"refused.{problem.value}.title"), body, _STATUS[problem])


def _ask_action(request: Request) -> str:
    """The fresh-link form's URL relative to the page it is on (works behind the /mentor/ prefix)."""
    return "../link" if "/confirm/" in request.url.path else "link"


async def _form(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    return {k: v for k, v in form.items() if isinstance(v, str)}


HTML: dict[str, Any] = {"content": {"text/html": {}}}
PUBLIC: dict[str, Any] = {"security": []}  # the signed token in the path is the credential
FORM: dict[str, Any] = {**PUBLIC, "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
    "schema": {"type": "object", "additionalProperties": {"type": "string"},
               "description": "per entry: decision-<id> (confirm/reject/empty), revision-<id>, reason-<id>, "
                              "comment-<id>; per placement: moment-<p>, level-<p>-<outcome>, note-<p>-<outcome>, "
                              "sign-<p> (yes); lang (nl/en)"}}}}}
ASK: dict[str, Any] = {**PUBLIC, "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
    "schema": {"type": "object", "required": ["email"], "properties": {
        "email": {"type": "string", "maxLength": EMAIL_MAX}, "lang": {"type": "string", "enum": ["nl", "en"]}}}}}}}


def install(app: FastAPI) -> None:
    def today() -> datetime:
        return datetime.fromtimestamp(app.state.clock(), app.state.cfg.mentor_tz)

    @app.get("/confirm/{token}", response_class=HTMLResponse, tags=["mentor page"],
             summary="The mentor page behind a link (opening does not use it up)",
             responses={403: HTML, 410: HTML}, openapi_extra=PUBLIC)
    async def show(token: str, request: Request, lang: Language | None = None) -> HTMLResponse:
        shown = await show_link(PgUnitOfWork(app.state.pool), OpenLink(app.state.link_key, token, app.state.clock()))
        if isinstance(shown, LinkRefusal):
            return _refused(request, shown.problem, chosen_language(request, lang, None))
        LINK_VISITS.labels("shown").inc()
        if shown.first_open:
            LINK_VISITS.labels("opened").inc()
        return mentor_page(shown.batch, chosen_language(request, lang, shown.batch.language), app.state.cfg.mentor_tz)

    @app.post("/confirm/{token}", response_class=HTMLResponse, tags=["mentor page"],
              summary="Send decisions, assessments and signatures once",
              responses={400: HTML, 403: HTML, 409: HTML, 410: HTML, 422: HTML}, openapi_extra=FORM)
    async def decide(token: str, request: Request, lang: Language | None = None) -> HTMLResponse:
        form = await _form(request)
        asked = lang or form.get("lang")
        done = await decide_by_link(PgUnitOfWork(app.state.pool), DecideByLink(
            app.state.link_key, token, form, app.state.clock(), today().date()))
        if isinstance(done, LinkRefusal):
            return _refused(request, done.problem, chosen_language(request, asked, None))
        if isinstance(done, FormRefusal):
            LINK_VISITS.labels("invalid_form").inc()
            return mentor_page(done.batch, chosen_language(request, asked, done.batch.language),
                               app.state.cfg.mentor_tz, form, done.errors, 400)
        chosen = chosen_language(request, asked, None)
        if not isinstance(done, Decided):  # refused by the rules: nothing saved, the link stays usable
            return page(chosen, i18n.text(chosen, "page.not_saved.title"),
                        f"<p>{escape(i18n.text(chosen, 'page.not_saved', detail=done.detail))}</p>",
                        PROBLEMS[done.reason][0])
        count_applied(done.plan.events)
        LINK_VISITS.labels("applied").inc()
        return thanks(chosen, summary(done.plan))

    @app.get("/link", response_class=HTMLResponse, tags=["mentor page"], summary="Ask for a fresh link",
             openapi_extra=PUBLIC)
    async def ask(request: Request, lang: Language | None = None) -> HTMLResponse:
        chosen = chosen_language(request, lang, None)
        other = Language.EN if chosen is Language.NL else Language.NL
        return page(chosen, i18n.text(chosen, "ask.title"), ask_form(chosen, action="link"),
                    switch=f"?lang={other.value}")

    @app.post("/link", response_class=HTMLResponse, tags=["mentor page"],
              summary="Mail a fresh link, if the address is a mentor's (the answer never says)",
              responses={400: HTML}, openapi_extra=ASK)
    async def asked(request: Request) -> HTMLResponse:
        form = await _form(request)
        chosen = chosen_language(request, form.get("lang"), None)
        email = form.get("email", "").strip()
        if len(email) > EMAIL_MAX or not _EMAIL.match(email):
            return page(chosen, i18n.text(chosen, "ask.title"),
                        ask_form(chosen, action="link", email=email[:EMAIL_MAX], invalid=True), 400)
        # the same work for a known and an unknown address: one lookup, one row
        await app.state.pool.execute(
            "INSERT INTO mf_link_requests(mentor_id) VALUES ((SELECT subject_id FROM mf_contacts WHERE kind = 'mentor'"
            " AND lower(email) = lower($1) ORDER BY changed_at DESC LIMIT 1))", email)
        FRESH_LINKS.labels("requested").inc()
        return page(chosen, i18n.text(chosen, "ask.sent.title"), f"<p>{escape(i18n.text(chosen, 'ask.sent'))}</p>")
