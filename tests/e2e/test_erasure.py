"""Issue 15, end to end on the real services, broker and database: a student with entries, a rejection
with a comment, a confirmation, an assessment with a comment and a place in a funding report, and their
mentor with an e-mail address, are erased by their coordinator. Afterwards no topic (every partition,
every offset, DLQs included) and no table holds their free text or the address in plain text; the
hours still count (share, report); and rebuilding hour accounting and the report from the topics gives
the same figures, never failing on the shredded fields. With full removal the student leaves the
report (and a recomputation from the topics), while their own share stays."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_events import DecodeError, Event, FundingReportPublished, decode
from werkplek_funding_reports.config import Settings as ReportSettings
from werkplek_funding_reports.domain.keys import ReportKey
from werkplek_funding_reports.kafka_io import partitions
from werkplek_funding_reports.replay import recompute, replay
from werkplek_hour_accounting.domain import apply_all, new_state
from werkplek_hour_accounting.processor import INPUT_TOPICS

from tests.e2e.conftest import E2E_VIEW
from tests.e2e.flow import Coordinator, bearer, confirm_hours, log_hours, new_id, post_webhook, share_when
from tests.e2e.stack import Stack
from tests.e2e.test_report_reflects_confirmed_hours import real_share, report_when
from tests.support import connect_observer, eventually

DEADLINE_S = 60.0
STUDENTS = 5  # the report's smallest count shown: one trajectory fewer and its figures are suppressed


async def everything(bootstrap: str) -> list[ConsumerRecord]:
    """Every record of every topic on the broker, from the first offset of each partition to its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        topics = sorted(t for t in await consumer.topics() if not t.startswith("__"))
        parts = await partitions(bootstrap, topics)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends, out = await consumer.end_offsets(parts), []
        pending = {tp for tp in parts if await consumer.position(tp) < ends[tp]}
        while pending:
            for tp, recs in (await consumer.getmany(*pending, timeout_ms=500, max_records=10_000)).items():
                out += [r for r in recs if r.offset < ends[tp]]
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return out
    finally:
        await consumer.stop()


def topic_hits(records: list[ConsumerRecord], secrets: list[str]) -> list[str]:
    needles = [s.encode() for s in secrets]
    return [f"{r.topic}[{r.partition}]@{r.offset}" for r in records
            if any(n in (r.value or b"") or any(n in (v or b"") for _, v in r.headers or ()) for n in needles)]


async def table_hits(pg: asyncpg.Connection, secrets: list[str]) -> list[str]:
    """Every table of the database whose rows hold a secret, as text (json, arrays) or bytes."""
    tables = [(r["table_schema"], r["table_name"]) for r in await pg.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = ANY($1::text[])"
        " AND table_type = 'BASE TABLE'", E2E_VIEW)]
    binary = {(r["table_schema"], r["table_name"], r["column_name"]) for r in await pg.fetch(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = ANY($1::text[]) AND data_type = 'bytea'", E2E_VIEW)}
    assert {s for s, _ in tables} == set(E2E_VIEW), tables  # every service's schema and the key store
    hits = []
    for schema, table in tables:
        checks = ["position($1 in x::text) > 0"] + [
            f"position(convert_to($1, 'UTF8') in x.{col}) > 0" for s, t, col in sorted(binary)
            if (s, t) == (schema, table)]
        for secret in secrets:
            if await pg.fetchval(f"SELECT count(*) FROM {schema}.{table} x WHERE {' OR '.join(checks)}", secret):
                hits.append(f"{table}: {secret}")
    return hits


def decoded(records: list[ConsumerRecord], topics: list[str], student: str) -> list[Event]:
    out = []
    for r in records:
        if r.topic in topics and r.key == student.encode():
            try:
                out.append(decode(r.topic, r.value, r.headers))
            except DecodeError:
                continue  # in a DLQ's source topic: the worker skipped it too
    return out


async def test_an_erased_student_and_mentor_leave_no_plain_text_and_their_hours_still_count(e2e: Stack) -> None:
    tag = uuid.uuid4().hex[:8]
    secrets = [f"wondzorg bij mevrouw Peeters {tag}", f"onvoldoende uitgelegd {tag}", f"sterke houding {tag}",
               f"an.peeters.{tag}@azgroeninge.be"]
    description, rejection, remark, email = secrets
    pg = await connect_observer(e2e, *E2E_VIEW)
    async with httpx.AsyncClient(timeout=10) as client:
        coord = Coordinator(e2e, client)
        programme = new_id("prog")
        await coord.programme(programme, level="microcredential", ects=3, hours_per_ects=25, phases=1)
        mentor = await coord.workplace_with_mentor()
        r = await client.put(f"{e2e.placement_url}/v1/mentors/{mentor.mentor_id}/contact", json={"email": email},
                             headers=coord.auth)
        assert r.status_code == 201, r.text
        placements = [await coord.enrol_and_place(programme, mentor) for _ in range(STUDENTS)]
        for p in placements[1:]:
            await confirm_hours(e2e, client, mentor.mentor_id, await log_hours(e2e, client, p, [480]))
        who = placements[0]
        student = who.student_id
        auth = bearer(e2e, Role.STUDENT, student)
        ids = await log_hours(e2e, client, who, [480])
        written = {"entry_id": str(uuid7()), "placement_id": who.placement_id, "duration_minutes": 120,
                   "work_date": (date.today() - timedelta(days=2)).isoformat(), "activity": "work",
                   "description": description}
        r = await client.post(f"{e2e.placement_url}/v1/me/entries", json=written,
                              headers={**auth, "Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 201, r.text
        ids.append(str(written["entry_id"]))
        assert (await confirm_hours(e2e, client, mentor.mentor_id, [ids[0]])).status_code == 202
        rejected = await post_webhook(e2e, client, {
            "type": "hours.rejected", "timestamp": datetime.now(UTC).isoformat(), "data": {
                "mentor_id": mentor.mentor_id, "entries": [{"entry_id": ids[1], "reason": "other",
                                                            "comment": rejection}]}})
        assert rejected.status_code == 202, rejected.text
        assessed = await post_webhook(e2e, client, {
            "type": "assessment.recorded", "timestamp": datetime.now(UTC).isoformat(), "data": {
                "mentor_id": mentor.mentor_id, "assessment_id": new_id("as"), "placement_id": who.placement_id,
                "moment": "mid_term", "assessed_on": date.today().isoformat(),
                "outcomes": [{"outcome_id": "LO1", "kind": "skill", "level": "achieved", "comment": remark}]}})
        assert assessed.status_code == 202, assessed.text

        # every service holds its copy, opened from the sealed records with the subjects' keys
        async def copies() -> bool:
            found = {h.split(":")[0] for h in await table_hits(pg, secrets)}
            return {"pl_entry", "pl_entry_decision", "pl_contact", "mf_entries", "mf_decision_log", "mf_assessments",
                    "mf_contacts"} <= found
        await eventually(copies, timeout=DEADLINE_S, what="each service to store its copy of the personal data")
        assert await pg.fetchval("SELECT email FROM mf_contacts WHERE kind = 'mentor' AND subject_id = $1",
                                 mentor.mentor_id) == email
        assert await pg.fetchval("SELECT description FROM mf_entries WHERE entry_id = $1::uuid", ids[1]) == description
        share = await share_when(e2e, pg, student, lambda s: s["confirmed_minutes"] == 480, timeout=DEADLINE_S,
                                 what="the student's confirmed hours in the share")
        await report_when(e2e, f"{programme}:{coord.year}", lambda rep: real_share(rep, "students") == STUDENTS,
                          "the report to count the cohort")
        key, cfg = ReportKey(e2e.institution, programme, coord.year), ReportSettings()
        instant = datetime.now(UTC)
        report = recompute(*await replay(e2e.bootstrap), key, cfg.pseudonym_key, cfg.reports_min_count, instant, 1)
        assert isinstance(report, FundingReportPublished) and real_share(report, "students") == STUDENTS
        before = await everything(e2e.bootstrap)
        assert topic_hits(before, secrets) == []  # sealed on the way out: never in plain text on a topic
        accounted = apply_all(new_state(student), decoded(before, INPUT_TOPICS, student))

        for kind, subject in (("student", student), ("mentor", mentor.mentor_id)):
            done = await client.post(f"{e2e.placement_url}/v1/erasures", headers=coord.auth,
                                     json={"subject_kind": kind, "subject_id": subject})
            assert done.status_code == 201 and done.json()["status"] == "completed", done.text

        async def erased() -> bool:
            return await table_hits(pg, secrets) == []
        await eventually(erased, timeout=DEADLINE_S, what="every service to remove its copies")
        mine = await client.get(f"{e2e.placement_url}/v1/me/entries/{ids[1]}", headers=auth)
        assert mine.json()["description"] == "" and mine.json()["duration_minutes"] == 120

    after = await everything(e2e.bootstrap)
    assert topic_hits(after, secrets) == []
    assert len(after) > len(before)  # the erasure events and the tombstone were read too
    # the hours still count: the share is unchanged, hour accounting rebuilt from the topics agrees
    assert (await share_when(e2e, pg, student, lambda s: True, timeout=5, what="share"))["confirmed_minutes"] == \
        share["confirmed_minutes"]
    assert apply_all(new_state(student), decoded(after, INPUT_TOPICS, student)) == accounted
    # and the report recomputed from the topics after the erasure has the same figures as before it
    again = recompute(*await replay(e2e.bootstrap), key, cfg.pseudonym_key, cfg.reports_min_count, instant, 1)
    assert again is not None and again.sections == report.sections
    await pg.close()


async def test_a_student_erased_with_full_removal_leaves_the_report_and_keeps_their_own_share(e2e: Stack) -> None:
    """Full removal (ADR 0072, 2026-12-02) through every service: the report's next version counts the
    cohort without the student, exactly what the report rules compute from the topics with the student
    taken out (the replay reads the privacy topic too), and hour accounting keeps the student's own share."""
    pg = await connect_observer(e2e, *E2E_VIEW)
    async with httpx.AsyncClient(timeout=10) as client:
        coord = Coordinator(e2e, client)
        programme = new_id("prog")
        await coord.programme(programme, level="microcredential", ects=3, hours_per_ects=25, phases=1)
        mentor = await coord.workplace_with_mentor()
        placements = [await coord.enrol_and_place(programme, mentor) for _ in range(STUDENTS + 1)]
        minutes = [240 + 60 * n for n in range(len(placements))]
        for p, m in zip(placements, minutes, strict=True):
            assert (await confirm_hours(e2e, client, mentor.mentor_id, await log_hours(e2e, client, p, [m]))
                    ).status_code == 202
        for p, m in zip(placements, minutes, strict=True):  # every input of the report is in before the removal
            def counted(s: dict, m: int = m) -> bool:
                return bool(s["confirmed_minutes"] == m)
            await share_when(e2e, pg, p.student_id, counted, timeout=DEADLINE_S,
                             what="each student's confirmed hours in their share")
        rid = f"{programme}:{coord.year}"
        before = await report_when(e2e, rid, lambda rep: real_share(rep, "students") == STUDENTS + 1,
                                   "the report to count the cohort")
        gone = placements[0].student_id
        done = await client.post(f"{e2e.placement_url}/v1/erasures", headers=coord.auth, json={
            "subject_kind": "student", "subject_id": gone, "remove_from_figures": True})
        assert done.status_code == 201 and done.json()["remove_from_figures"] is True, done.text
        after = await report_when(e2e, rid, lambda rep: real_share(rep, "students") == STUDENTS,
                                  "the report to leave the removed student out")
        assert after.version > before.version
        # hour accounting keeps the student's own figure (it feeds no report any more)
        assert (await share_when(e2e, pg, gone, lambda s: True, timeout=5, what="share"))["confirmed_minutes"] == 240
    await pg.close()
    cfg = ReportSettings()
    cohort, mark = await replay(e2e.bootstrap)
    assert gone in cohort.removed and not any(s == gone for s, _ in cohort.enrolments)
    again = recompute(cohort, mark, ReportKey(e2e.institution, programme, coord.year), cfg.pseudonym_key,
                      cfg.reports_min_count, datetime.now(UTC), 1)
    assert isinstance(again, FundingReportPublished) and real_share(again, "students") == STUDENTS
    latest = await report_when(e2e, rid, lambda rep: rep.sections == again.sections,
                               "the published report to be the cohort's without the student")
    assert latest.version >= after.version
