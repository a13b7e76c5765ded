"""Issue 9, property test end to end: inputs at the limits go through both APIs (the longest ids the
registry allows, an institution id as long as report ids leave room for, text from every Unicode
category with NUL, lone surrogates, bidi controls and characters NFC shortens or lengthens), and then
every consumer is still running, nothing of it reached a dead-letter topic, and every report of
every programme and pilot the APIs accepted is published, the long institution's roll-up too (pilots
of the longest id whose report id fits, named with the generated texts, with credits recorded). Each request is
answered 2xx when the text can be stored and 422 naming the field when it cannot, never 5xx."""

from __future__ import annotations

import asyncio
import json
import time
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_events import TOPICS, FundingReportPublished, topic_for
from werkplek_events.limits import (
    ID_MAX,
    NAME_MAX,
    PILOT_ID_MAX,
    PROGRAMME_ID_MAX,
    SECTOR_MAX,
    TEXT_MAX,
    institution_report_id,
    pilot_report_id,
    programme_report_id,
    text_fault,
)

from tests.e2e.conftest import RUNNING
from tests.e2e.flow import academic_year, bearer, signed
from tests.e2e.stack import Stack
from tests.support import dsn_of, end_offsets, eventually, read_until

EXAMPLES = 12
POLL_S = 0.2  # a tool's retry while mentor feedback has not consumed the entry; the deadline bounds it
ID_CHARS = "ABCXYZabcxyz0189_.:-"
# every category (surrogates, unassigned and private use included), with the characters that broke
# or could break something weighted in: NUL, lone surrogates, bidi marks and overrides, a BOM,
# combining marks NFC composes, characters NFC decomposes (U+0958), 4-byte characters
SPECIAL = st.sampled_from(["\x00", "\ud800", "\udfff", "\u200f", "\u200e", "\u202e", "\u2066", "\u061c", "\ufeff",
                           "\u0301", "\u0958", "\U0001d11e", "\x1b", "\t", "\n", "\u2028"])
CHARS = st.one_of(st.characters(codec=None, exclude_categories=()), SPECIAL)


def texts(limit: int) -> st.SearchStrategy[str]:
    return st.one_of(st.text(CHARS, min_size=1, max_size=24),
                     st.sampled_from(["\U0001d11e" * limit, "\u200f" * limit, "\u0958" * (limit // 2),
                                      "\u0958" * (limit // 2 + 1), "x" * (limit - 1) + "\x00"]))


def longest_id(length: int) -> str:
    head = uuid.uuid4().hex[:12]
    return (head + "-" + "Az0._:-" * length)[:length]


@dataclass(frozen=True)
class Case:
    programme_name: str
    workplace_name: str
    sector: str
    outcome_title: str
    description: str
    comment: str
    confirm: bool


@dataclass
class Outcome:
    """What one case left in the system that must flow on."""

    programmes: set[str] = field(default_factory=set)
    pilots: set[str] = field(default_factory=set)
    students: set[str] = field(default_factory=set)
    decisions: list[tuple[str, str, Case]] = field(default_factory=list)  # mentor, entry id, case
    ids: set[str] = field(default_factory=set)  # every id made, to find them in a DLQ
    refused: Counter[str] = field(default_factory=Counter)  # 422s, by field


def storable(text: str, max_length: int, min_length: int = 1) -> bool:
    """What the API must accept: no character that cannot be stored, and the NFC form within limits."""
    return text_fault(text) is None and min_length <= len(unicodedata.normalize("NFC", text)) <= max_length


def raw(doc: Any, headers: dict[str, str]) -> dict[str, Any]:
    """JSON as a client writes it, escapes included: lone surrogates reach the server as \\udxxx."""
    return {"content": json.dumps(doc).encode(), "headers": {"content-type": "application/json", **headers}}


class Run:
    def __init__(self, stack: Stack, client: httpx.Client, outcome: Outcome) -> None:
        self.stack, self.client, self.outcome = stack, client, outcome
        self.institution = stack.long_institution
        self.coord = bearer(stack, Role.COORDINATOR, "coord-limits", self.institution)
        self.year = academic_year(date.today())
        self.fallback = f"lim-prog-{stack.tag}"

    def put(self, path: str, doc: dict[str, Any], text_ok: bool, field_: str) -> bool:
        """PUT; 2xx when the text is storable, else a 422 naming the field. Whether it was stored."""
        r = self.client.put(f"{self.stack.placement_url}/v1{path}", **raw(doc, self.coord))
        assert r.status_code < 500, (path, r.status_code, r.text)
        if text_ok:
            assert r.status_code in (200, 201), (path, doc, r.text)
            return True
        assert r.status_code == 422, (path, doc, r.text)
        assert field_ in {e["field"] for e in r.json()["errors"]}, (field_, r.text)
        self.outcome.refused[field_] += 1
        return False

    def registry(self, case: Case) -> tuple[str, str, str, str]:
        programme, workplace, mentor = longest_id(PROGRAMME_ID_MAX), longest_id(ID_MAX), longest_id(ID_MAX)
        student, placement = longest_id(ID_MAX), longest_id(ID_MAX)
        self.outcome.ids |= {programme, workplace, mentor, student, placement}
        terms = {"level": "graduaat", "ects": 120, "phases": 2}
        if not self.put(f"/programmes/{programme}", {"name": case.programme_name, **terms},
                        storable(case.programme_name, NAME_MAX), "body.name"):
            programme = self.fallback
        ok = storable(case.workplace_name, NAME_MAX) and storable(case.sector, SECTOR_MAX)
        wp = {"name": case.workplace_name, "sector": case.sector, "environment": "authentic"}
        if not self.put(f"/workplaces/{workplace}", wp, ok,
                        "body.name" if not storable(case.workplace_name, NAME_MAX) else "body.sector"):
            self.put(f"/workplaces/{workplace}", {**wp, "name": "W", "sector": "care"}, True, "")
        self.put(f"/mentors/{mentor}", {"workplace_id": workplace, "trained": True,
                                        "webhook_source": self.stack.source_id}, True, "")
        pilot = self.pilot(case, programme, workplace)
        self.put(f"/enrolments/{student}/{self.year}", {"programme_id": programme, "phase": 1, "status": "regular",
                                                        "age_band": "over_25", "pilot_id": pilot}, True, "")
        self.put(f"/enrolments/{student}/{self.year}/credits", {"credits_taken": 60, "credits_earned": 60}, True, "")
        self.outcome.programmes.add(programme)
        self.outcome.students.add(student)
        start = date.today() - timedelta(days=20)
        doc = {"student_id": student, "academic_year": self.year, "workplace_id": workplace, "mentor_id": mentor,
               "start_date": start.isoformat(), "end_date": (start + timedelta(days=60)).isoformat(),
               "planned_minutes": 6000, "form": "dual",
               "continuum": dict.fromkeys(("learning_environment", "extent", "engagement", "transfer", "integration",
                                           "target_group"), 4),
               "learning_agreement": {"outcomes": [{"outcome_id": longest_id(ID_MAX), "title": case.outcome_title,
                                                    "kind": "skill", "acquired_at": "workplace"}]}}
        if not self.put(f"/placements/{placement}", doc, storable(case.outcome_title, NAME_MAX),
                        "body.learning_agreement.outcomes.0.title"):
            doc["learning_agreement"]["outcomes"][0]["title"] = "T"  # type: ignore[index]
            self.put(f"/placements/{placement}", doc, True, "")
        return student, placement, mentor, programme

    def pilot(self, case: Case, programme: str, workplace: str) -> str:
        """A pilot of the longest id whose report id fits, named with the case's texts (the fallback
        names when they cannot be stored), with the workplace as partner."""
        pilot = longest_id(PILOT_ID_MAX)
        self.outcome.ids.add(pilot)
        first = int(self.year[:4])
        doc = {"name": case.programme_name, "programme_ids": [programme],
               "partners": [{"name": case.workplace_name, "kind": "workplace", "workplace_id": workplace}],
               "start_date": f"{first}-09-01", "end_date": f"{first + 1}-08-31",
               "budget": [{"academic_year": self.year, "amount_eur": "1000.00"}]}
        ok = storable(case.programme_name, NAME_MAX) and storable(case.workplace_name, NAME_MAX)
        if not self.put(f"/pilots/{pilot}", doc, ok,
                        "body.name" if not storable(case.programme_name, NAME_MAX) else "body.partners.0.name"):
            self.put(f"/pilots/{pilot}", {**doc, "name": "P", "partners": [{"name": "W", "kind": "workplace"}]},
                     True, "")
        self.outcome.pilots.add(pilot)
        return pilot

    def log(self, student: str, placement: str, description: str) -> str | None:
        entry_id = str(uuid7())
        doc = {"entry_id": entry_id, "placement_id": placement, "duration_minutes": 60, "activity": "work",
               "work_date": (date.today() - timedelta(days=1)).isoformat(), "description": description}
        r = self.client.post(f"{self.stack.placement_url}/v1/me/entries", **raw(doc, {
            **bearer(self.stack, Role.STUDENT, student, self.institution), "Idempotency-Key": str(uuid.uuid4())}))
        assert r.status_code < 500, r.text
        if storable(description, TEXT_MAX, 0):
            assert r.status_code == 201, (description, r.text)
            return entry_id
        assert r.status_code == 422 and "description" in {e["field"] for e in r.json()["errors"]}, r.text
        self.outcome.refused["description"] += 1
        return None

    def case(self, case: Case) -> None:
        student, placement, mentor, _ = self.registry(case)
        entry = self.log(student, placement, case.description) or self.log(student, placement, "shift")
        assert entry is not None
        self.outcome.decisions.append((mentor, entry, case))

    def decide(self, mentor: str, entry: str, case: Case) -> None:
        """The mentor's tool decides once mentor feedback knows the entry (it retries while refused)."""
        if case.confirm or not storable(case.comment, TEXT_MAX):
            data = {"mentor_id": mentor, "entries": [{"entry_id": entry}]}
            kind = "hours.confirmed"
            if not case.confirm:  # a rejection whose comment cannot be stored: 422 naming it, then confirm
                self.webhook("hours.rejected", {"mentor_id": mentor, "entries": [
                    {"entry_id": entry, "reason": "other", "comment": case.comment}]}, 422,
                    "data.entries.0.comment")
        else:
            data = {"mentor_id": mentor, "entries": [{"entry_id": entry, "reason": "other", "comment": case.comment}]}
            kind = "hours.rejected"
        self.webhook(kind, data, 202)

    def webhook(self, kind: str, data: dict[str, Any], expected: int, field_: str = "") -> None:
        body = json.dumps({"type": kind, "timestamp": datetime.now(UTC).isoformat(), "data": data}).encode()
        deadline = time.monotonic() + 60
        while True:
            r = self.client.post(f"{self.stack.mentor_url}/webhooks/{self.stack.source_id}", content=body,
                                 headers=signed(self.stack, f"msg_{uuid.uuid4().hex}", body))
            assert r.status_code < 500, r.text
            not_consumed_yet = expected == 202 and r.status_code in (403, 422)  # refusals are not remembered
            if r.status_code == expected or not not_consumed_yet or time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
        assert r.status_code == expected, (kind, data, r.text)
        if field_:
            assert field_ in {e["field"] for e in r.json()["errors"]}, r.text
            self.outcome.refused[field_] += 1


cases = st.builds(Case, texts(NAME_MAX), texts(NAME_MAX), texts(SECTOR_MAX), texts(NAME_MAX), texts(TEXT_MAX),
                  texts(TEXT_MAX), st.booleans())


def test_inputs_at_the_limits_never_stop_a_consumer(e2e: Stack) -> None:
    outcome = Outcome()
    dlqs = [t.dlq for t in TOPICS if t.dlq]
    before = asyncio.run(end_offsets(e2e.bootstrap, dlqs))
    with httpx.Client(timeout=30) as client:
        run = Run(e2e, client, outcome)
        run.put(f"/programmes/{run.fallback}", {"name": "Fallback", "level": "graduaat", "ects": 120, "phases": 2},
                True, "")

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(case=cases)
        def through_the_apis(case: Case) -> None:
            run.case(case)

        through_the_apis()
        for mentor, entry, case in outcome.decisions:
            run.decide(mentor, entry, case)

    asyncio.run(every_report_published(e2e, run, outcome))
    asyncio.run(nothing_dead_lettered(e2e, outcome, before))
    stopped = {s.name: s.exited() for s in RUNNING if s.exited() is not None}
    assert not stopped, f"consumers stopped: {stopped}"
    print(f"\n{len(outcome.decisions)} generated trajectories, {len(outcome.programmes)} programmes, "
          f"{len(outcome.pilots)} pilots, refused "
          f"with 422: {dict(outcome.refused)}; every report published, every consumer running")


async def every_report_published(stack: Stack, run: Run, outcome: Outcome) -> None:
    wanted = {programme_report_id(p, run.year) for p in outcome.programmes}
    wanted.add(institution_report_id(run.institution, run.year))
    wanted |= {pilot_report_id(p, run.year) for p in outcome.pilots}
    await read_until(stack.bootstrap, [topic_for(FundingReportPublished).name],
                     lambda rs: wanted <= {r.key.decode() for r in rs}, timeout=60)
    conn = await asyncpg.connect(dsn_of(stack, "hour_accounting"))

    async def accounted() -> bool:  # hour accounting took every student's events too
        n = await conn.fetchval("SELECT count(*) FROM share_read_model WHERE student_id = ANY($1::text[])",
                                list(outcome.students))
        return bool(n == len(outcome.students))

    try:
        await eventually(accounted, timeout=60, what="a share for every generated student")
    finally:
        await conn.close()


async def nothing_dead_lettered(stack: Stack, outcome: Outcome, before: dict[Any, int]) -> None:
    after = await end_offsets(stack.bootstrap, [tp.topic for tp in before])
    grown = sorted({tp.topic for tp, end in after.items() if end > before.get(tp, 0)})
    if not grown:
        return
    total = sum(end for tp, end in after.items() if tp.topic in grown)
    records = await read_until(stack.bootstrap, grown, lambda rs: len(rs) >= total, timeout=30)
    ours = [(r.topic, r.key) for r in records if r.key and any(i.encode() in r.key for i in outcome.ids)]
    assert not ours, f"records of generated inputs in a DLQ: {ours[:5]}"
