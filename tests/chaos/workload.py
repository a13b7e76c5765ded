"""The chaos run's workload, made only through the APIs as people would: a coordinator registers a
cohort (programmes, workplaces with mentors whose tool is the run's webhook source, enrolments,
placements), every student's phone syncs its entries in batches, and the mentors' tool confirms and
rejects them with signed webhooks as soon as mentor feedback accepts them. The plan is derived from a
seed alone, so a run with one replica and a run with two make the same one; it says what every
student's totals must end as."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook
from werkplek_common.auth import Role
from werkplek_common.devidp import mint

BATCH = 200  # entries per phone sync (the API takes up to 500)
RETRY_S = 0.5  # between attempts of a refused webhook (mentor feedback has not seen the entries yet)


@dataclass(frozen=True)
class Entry:
    entry_id: str
    work_date: date
    minutes: int
    decision: str  # confirmed / rejected / pending: what the mentor will decide


@dataclass(frozen=True)
class Student:
    student_id: str
    programme_id: str
    placement_id: str
    workplace_id: str
    mentor_id: str
    entries: tuple[Entry, ...]

    def expected(self) -> tuple[int, int, int]:
        """(confirmed, pending, rejected) minutes once every decision is applied."""
        return tuple(sum(e.minutes for e in self.entries if e.decision == d)  # type: ignore[return-value]
                     for d in ("confirmed", "pending", "rejected"))


@dataclass(frozen=True)
class Plan:
    tag: str
    institution: str
    programmes: tuple[str, ...]
    workplaces: tuple[str, ...]
    students: tuple[Student, ...]
    start: date

    @property
    def entries(self) -> int:
        return sum(len(s.entries) for s in self.students)


def uuid7_of(rng: random.Random, day: date) -> uuid.UUID:
    """A UUIDv7 (what phones generate) from the seed: the day's timestamp, then random bits."""
    ms = int(datetime(day.year, day.month, day.day, 18, tzinfo=UTC).timestamp() * 1000)
    rand_a, rand_b = rng.getrandbits(12), rng.getrandbits(62)
    return uuid.UUID(int=ms << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)


def make_plan(entries: int, students: int, seed: int, today: date) -> Plan:
    """`entries` spread evenly over `students`, one a day on distinct past days; of each student's
    entries about half are confirmed, a tenth rejected and the rest stay pending."""
    rng = random.Random(seed)
    tag = f"chaos{seed}"
    inst = f"{tag}-inst"
    per = max(1, entries // students)
    programmes = tuple(f"{inst}-prog-{p}" for p in range(4))
    workplaces = tuple(f"{inst}-wp-{w}" for w in range(max(1, students // 25)))
    start = today - timedelta(days=per + 7)
    made = []
    for i in range(students):
        sid = f"{inst}-stu-{i}"
        wp = workplaces[i % len(workplaces)]
        days = [today - timedelta(days=d) for d in range(1, per + 1)]
        mine = tuple(Entry(str(uuid7_of(rng, day)), day, rng.randint(30, 480),
                           rng.choices(["confirmed", "rejected", "pending"], [50, 10, 40])[0]) for day in days)
        made.append(Student(sid, programmes[i % len(programmes)], f"{sid}-pl", wp, f"{wp}-m", mine))
    return Plan(tag, inst, programmes, workplaces, tuple(made), start)


def academic_year(today: date) -> str:
    first = today.year if today.month >= 9 else today.year - 1
    return f"{first}-{first + 1}"


@dataclass
class Progress:
    entries_accepted: int = 0
    decisions_accepted: int = 0  # entries confirmed or rejected by an accepted webhook
    webhook_refusals: int = 0  # 403/422 while mentor feedback had not consumed the entries yet
    transport_errors: int = 0
    listeners: list[Callable[[Progress], None]] = field(default_factory=list)

    def changed(self) -> None:
        for listener in self.listeners:
            listener(self)


class Driver:
    def __init__(self, plan: Plan, data_dir: Path, placement_url: str, mentor_url: str, source_id: str,
                 source_secret: str, *, concurrency: int = 8) -> None:
        self.plan, self.data_dir, self.source_id = plan, data_dir, source_id
        self.placement, self.mentor = placement_url, mentor_url
        self.webhook = Webhook(source_secret)
        self.gate = asyncio.Semaphore(concurrency)
        self.progress = Progress()
        self.client = httpx.AsyncClient(timeout=60)

    async def close(self) -> None:
        await self.client.aclose()

    async def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """A request, retried on transport errors (an API restarting): the same Idempotency-Key
        or webhook-id each time, so a retry never doubles anything."""
        while True:
            try:
                async with self.gate:
                    return await self.client.request(method, url, **kw)
            except httpx.TransportError:
                self.progress.transport_errors += 1
                await asyncio.sleep(RETRY_S)

    async def register(self) -> None:
        p, year = self.plan, academic_year(date.today())
        auth = {"Authorization": "Bearer " + mint(self.data_dir, role=Role.COORDINATOR, sub=f"{p.tag}-coord",
                                                  institution=p.institution, ttl_s=24 * 3600)}

        async def put(path: str, body: dict[str, Any]) -> None:
            r = await self._send("PUT", f"{self.placement}/v1{path}", json=body, headers=auth)
            if r.status_code not in (200, 201):
                raise RuntimeError(f"PUT {path}: {r.status_code} {r.text}")

        await asyncio.gather(*[put(f"/programmes/{prog}", {"name": prog, "level": "graduaat", "ects": 120,
                                                          "phases": 2}) for prog in p.programmes])
        await asyncio.gather(*[put(f"/workplaces/{wp}", {"name": wp, "sector": "health", "environment": "authentic"})
                               for wp in p.workplaces])
        await asyncio.gather(*[put(f"/mentors/{wp}-m", {"workplace_id": wp, "trained": True,
                                                        "webhook_source": self.source_id}) for wp in p.workplaces])

        async def enrol(st: Student) -> None:
            await put(f"/enrolments/{st.student_id}/{year}", {"programme_id": st.programme_id, "phase": 1,
                                                              "status": "regular", "age_band": "21_to_25"})
            await put(f"/placements/{st.placement_id}", {
                "student_id": st.student_id, "academic_year": year, "workplace_id": st.workplace_id,
                "mentor_id": st.mentor_id, "start_date": p.start.isoformat(),
                "end_date": (date.today() + timedelta(days=60)).isoformat(), "planned_minutes": 120_000,
                "form": "internship", "continuum": dict.fromkeys(("learning_environment", "extent", "engagement",
                                                                  "transfer", "integration", "target_group"), 3),
                "learning_agreement": {"outcomes": []}})

        await asyncio.gather(*[enrol(st) for st in p.students])

    async def log_entries(self, st: Student) -> None:
        auth = {"Authorization": "Bearer " + mint(self.data_dir, role=Role.STUDENT, sub=st.student_id,
                                                  institution=self.plan.institution, ttl_s=24 * 3600)}
        for i in range(0, len(st.entries), BATCH):
            chunk = st.entries[i:i + BATCH]
            body = {"entries": [{"entry_id": e.entry_id, "placement_id": st.placement_id,
                                 "work_date": e.work_date.isoformat(), "duration_minutes": e.minutes,
                                 "activity": "work"} for e in chunk]}
            headers = {**auth, "Idempotency-Key": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{st.student_id}/{i}"))}
            r = await self._send("POST", f"{self.placement}/v1/me/entries/batch", json=body, headers=headers)
            if r.status_code != 200 or r.json()["accepted"] != len(chunk):
                raise RuntimeError(f"entries of {st.student_id} refused: {r.status_code} {r.text[:500]}")
            self.progress.entries_accepted += len(chunk)
            self.progress.changed()

    async def decide(self, st: Student) -> None:
        """The mentor's tool confirms and rejects the student's entries, retrying (the same message,
        freshly signed) while mentor feedback refuses it for entries it has not consumed yet."""
        for kind, decision in (("hours.confirmed", "confirmed"), ("hours.rejected", "rejected")):
            refs: list[dict[str, Any]] = [{"entry_id": e.entry_id} for e in st.entries if e.decision == decision]
            if decision == "rejected":
                refs = [{**r, "reason": "wrong_hours", "comment": "not what we agreed"} for r in refs]
            for i in range(0, len(refs), BATCH):
                await self._webhook(kind, st.mentor_id, refs[i:i + BATCH])

    async def _webhook(self, kind: str, mentor_id: str, refs: list[dict[str, Any]]) -> None:
        webhook_id = f"msg_{uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(refs[0]) + kind).hex}"
        body = json.dumps({"type": kind, "timestamp": datetime.now(UTC).isoformat(),
                           "data": {"mentor_id": mentor_id, "entries": refs}})
        while True:
            now = datetime.now(UTC)
            headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
                       "webhook-signature": self.webhook.sign(webhook_id, now, body),
                       "content-type": "application/json"}
            r = await self._send("POST", f"{self.mentor}/webhooks/{self.source_id}", content=body.encode(),
                                 headers=headers)
            if r.status_code == 202:
                self.progress.decisions_accepted += len(refs)
                self.progress.changed()
                return
            if r.status_code not in (403, 422):
                raise RuntimeError(f"webhook {kind} refused: {r.status_code} {r.text[:500]}")
            self.progress.webhook_refusals += 1
            await asyncio.sleep(RETRY_S)

    async def run(self, phones: int = 8, tools: int = 4) -> None:
        """Every student's entries from `phones` at a time; each student's decisions from `tools` at a
        time as soon as the entries are accepted (a mentor tool waiting for mentor feedback does not
        hold up the phones)."""
        todo = list(reversed(self.plan.students))
        decide: asyncio.Queue[Student | None] = asyncio.Queue()

        async def phone() -> None:
            while todo:
                st = todo.pop()
                await self.log_entries(st)
                decide.put_nowait(st)

        async def tool() -> None:
            while (st := await decide.get()) is not None:
                await self.decide(st)

        deciding = [asyncio.create_task(tool()) for _ in range(tools)]
        await asyncio.gather(*[phone() for _ in range(phones)])
        for _ in deciding:
            decide.put_nowait(None)
        await asyncio.gather(*deciding)
