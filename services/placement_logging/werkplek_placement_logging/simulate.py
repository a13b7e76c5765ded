"""Simulator: creates a realistic cohort through the API, then logs hours the way phones do (offline
batches, bursts, retries with the same Idempotency-Key, some invalid entries) and keeps going at a
modest rate, so a newcomer running `make run` sees the system work.

    python -m werkplek_placement_logging.simulate [--small] [--students N] [--rate R] [--once]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.devidp import mint
from werkplek_common.logs import configure_logging

from .config import Settings

READY_POLL_S = 1.0  # the simulator waits for the API as long as it takes: make run starts them together
DEMO_STUDENT = "inst-1-stu-1"  # named in the README's try-it commands: always enrolled, never drops out
log = logging.getLogger("simulate")
SECTORS = ["health", "care", "ict", "construction", "hospitality", "logistics", "education", "retail"]
LEVELS = [("graduaat", 120), ("professional_bachelor", 180)]
TOOLS = ["sim-tool-1", "sim-tool-2", "sim-tool-3"]


def fixed(object_id: str) -> random.Random:
    """Registry data derived from the id alone, so a re-run PUTs the same terms (no amendments)."""
    return random.Random(object_id)


@dataclass(frozen=True)
class Size:
    institutions: int
    programmes: int
    students: int
    workplaces: int


@dataclass
class Student:
    id: str
    institution: str
    placement: str
    start: date
    outcomes: list[str]
    token: str = ""
    dropped_out: bool = False
    logged: set[date] | None = None  # the days this student's phone has logged (None: not read yet)


class Sim:
    def __init__(self, cfg: Settings, base: str, size: Size, seed: int, concurrency: int,
                 drop_out: float = 0.04, prefix: str = "inst") -> None:
        self.cfg, self.base, self.size, self.drop_out, self.prefix = cfg, base, size, drop_out, prefix
        self.rng = random.Random(seed)
        self.gate = asyncio.Semaphore(concurrency)
        self.client = httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=concurrency))
        self.students: list[Student] = []
        self.stats = {"sent": 0, "ok": 0, "refused": 0, "retried": 0}

    def token(self, role: Role, sub: str, institution: str | None = None) -> str:
        return mint(self.cfg.data_dir, role=role, sub=sub, institution=institution, ttl_s=12 * 3600)

    async def call(self, method: str, path: str, token: str, body: Any, key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        async with self.gate:
            for attempt in range(5):
                try:
                    return await self.client.request(method, path, json=body, headers=headers)
                except httpx.TransportError:
                    await asyncio.sleep(0.5 * (attempt + 1))
            return await self.client.request(method, path, json=body, headers=headers)

    async def wait_ready(self) -> None:
        while True:
            try:
                if (await self.client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            log.info("waiting for the API at %s", self.base)
            await asyncio.sleep(READY_POLL_S)

    async def put(self, token: str, path: str, body: dict[str, Any]) -> None:
        r = await self.call("PUT", path, token, body)
        if r.status_code >= 300:
            raise RuntimeError(f"PUT {path}: {r.status_code} {r.text}")

    async def build_cohort(self) -> None:
        size, today = self.size, date.today()
        year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 15)
        academic_year = f"{year_start.year}-{year_start.year + 1}"
        for i in range(size.institutions):
            inst = f"{self.prefix}-{i + 1}"
            coord = self.token(Role.COORDINATOR, f"coord-{i + 1}", inst)
            progs = [f"{inst}-prog-{p + 1}" for p in range(size.programmes // size.institutions or 1)]
            await asyncio.gather(*[self.put(coord, f"/v1/programmes/{p}", self._programme(p)) for p in progs])
            wps = [f"{inst}-wp-{w + 1}" for w in range(size.workplaces // size.institutions or 1)]
            await asyncio.gather(*[self.put(coord, f"/v1/workplaces/{w}", {
                "name": f"Workplace {w}", "sector": fixed(w).choice(SECTORS),
                "environment": fixed(w).choice(["authentic"] * 8 + ["realistic", "simulated"])}) for w in wps])
            await asyncio.gather(*[self.put(coord, f"/v1/mentors/{w}-m1", {
                "workplace_id": w, "trained": fixed(w).random() < 0.6,
                "webhook_source": fixed(w).choice(TOOLS) if fixed(w + "t").random() < 0.8 else None}) for w in wps])
            n = size.students // size.institutions or 1
            made = await asyncio.gather(*[self._student(coord, inst, s, progs, wps, academic_year, year_start)
                                          for s in range(n)])
            self.students += [st for st in made if not st.dropped_out]  # who left logs nothing more
            log.info("cohort of %s: %d programmes, %d workplaces, %d students (%d dropped out)", inst, len(progs),
                     len(wps), n, sum(st.dropped_out for st in made))

    def _programme(self, pid: str) -> dict[str, Any]:
        rng = fixed(pid)
        level, ects = rng.choice(LEVELS)
        return {"name": f"Programme {pid}", "level": level, "ects": ects, "phases": 2 if ects == 120 else 3,
                "hours_per_ects": rng.choice([25, 27, 27, 30]), "dual_min_share": "0.5" if rng.random() < 0.3 else None}

    async def _student(self, coord: str, inst: str, n: int, progs: list[str], wps: list[str], year: str,
                       start: date) -> Student:
        sid = f"{inst}-stu-{n + 1}"
        rng = fixed(sid)  # the same student every run: re-running the simulator changes nothing
        wp = rng.choice(wps)
        r = await self.call("PUT", f"/v1/enrolments/{sid}/{year}", coord, {
            "programme_id": rng.choice(progs), "phase": 1,
            "status": rng.choices(["regular", "working_student", "side_entrant", "other"], [70, 12, 14, 4])[0],
            "age_band": rng.choices(["under_21", "21_to_25", "over_25"], [55, 29, 16])[0],
            "dual_track": rng.random() < 0.25})
        if r.status_code == 409:  # ended in an earlier run (it dropped out): closed, nothing more to do
            return Student(sid, inst, f"{sid}-pl-1", start, [], dropped_out=True)
        if r.status_code >= 300:
            raise RuntimeError(f"PUT /v1/enrolments/{sid}/{year}: {r.status_code} {r.text}")
        outcomes = [{"outcome_id": f"LO{k}", "title": f"Outcome {k}", "kind": kind,
                     "acquired_at": rng.choice(["workplace", "institution"])}
                    for k, kind in enumerate(["knowledge", "skill", "attitude", "skill", "knowledge"], 1)]
        pid = f"{sid}-pl-1"
        await self.put(coord, f"/v1/placements/{pid}", {
            "student_id": sid, "academic_year": year, "workplace_id": wp, "mentor_id": f"{wp}-m1",
            "start_date": start.isoformat(), "end_date": (start + timedelta(days=270)).isoformat(),
            "planned_minutes": rng.choice([300, 400, 600]) * 60,
            "form": rng.choice(["internship", "dual", "project", "job_shadowing"]),
            "continuum": {k: rng.randint(1, 5) for k in ("learning_environment", "extent", "engagement",
                                                              "transfer", "integration", "target_group")},
            "learning_agreement": {"outcomes": outcomes, "signed_by_institution_at": f"{start}T09:00:00Z",
                                   "signed_by_workplace_at": f"{start}T11:00:00Z"}})
        student = Student(sid, inst, pid, start, [o["outcome_id"] for o in outcomes if o["acquired_at"] == "workplace"])
        if sid != DEMO_STUDENT and rng.random() < self.drop_out:  # the same ending every run: 200, nothing emitted
            left = min(date.today(), start + timedelta(days=rng.randint(10, 90)))
            await self.put(coord, f"/v1/placements/{pid}/ending",
                           {"ended_on": left.isoformat(), "reason": "terminated_early"})
            await self.put(coord, f"/v1/enrolments/{sid}/{year}/ending",
                           {"ended_on": left.isoformat(), "reason": "dropped_out"})
            student.dropped_out = True
        return student

    def entry(self, st: Student, day: date, invalid: bool = False) -> dict[str, Any]:
        hours = self.rng.choice([4, 6, 7.5, 8])
        begin = self.rng.choice([7, 8, 9])
        doc: dict[str, Any] = {"entry_id": str(uuid7()), "placement_id": st.placement, "work_date": day.isoformat(),
               "start_time": f"{begin:02d}:00", "end_time": f"{begin + int(hours):02d}:{int(hours % 1 * 60):02d}",
               "activity": self.rng.choice(["work", "work", "work", "training", "meeting", "reflection"]),
               "outcome_ids": self.rng.sample(st.outcomes, k=min(len(st.outcomes), self.rng.randint(0, 2))),
               "description": self.rng.choice(["shift", "ward round", "client visit", "project work", ""])}
        if invalid:  # what real phones get wrong: a future date, a zero duration
            if self.rng.random() < 0.5:
                doc["work_date"] = (date.today() + timedelta(days=3)).isoformat()
            else:
                doc.update(start_time=None, end_time=None, duration_minutes=0)
        return doc

    async def post(self, st: Student, path: str, body: dict[str, Any]) -> None:
        st.token = st.token or self.token(Role.STUDENT, st.id, st.institution)
        key = str(uuid.uuid4())
        r = await self.call("POST", path, st.token, body, key)
        if self.rng.random() < 0.1:  # the phone did not see the answer and sends again, same key
            self.stats["retried"] += 1
            r = await self.call("POST", path, st.token, body, key)
        self.stats["sent"] += len(body.get("entries", [body]))
        if path.endswith("batch") and r.status_code == 200:
            doc = r.json()
            self.stats["ok"] += doc["accepted"]
            self.stats["refused"] += doc["refused"]
        else:
            self.stats["ok" if r.status_code < 300 else "refused"] += 1

    async def known_days(self, st: Student) -> set[date]:
        """The days the student's phone already has an entry for. A real phone keeps its own entries; the
        simulator, restarted, reads them back once from the API (own entries, from the placement's start),
        so it logs each work day once instead of sending overlaps that the API must refuse."""
        if st.logged is None:
            st.token = st.token or self.token(Role.STUDENT, st.id, st.institution)
            days: set[date] = set()
            params: dict[str, Any] = {"placement_id": st.placement, "from": st.start.isoformat(), "limit": 500}
            while True:
                async with self.gate:
                    r = await self.client.get("/v1/me/entries", params=params,
                                              headers={"Authorization": f"Bearer {st.token}"})
                if r.status_code != 200:
                    break
                page = r.json()
                days |= {date.fromisoformat(e["work_date"]) for e in page["items"] if e["status"] != "withdrawn"}
                if not page.get("next_cursor"):
                    break
                params["cursor"] = page["next_cursor"]
            st.logged = days
        return st.logged

    def free_days(self, st: Student, logged: set[date], back: range) -> list[date]:
        """Work days (Monday to Friday, since the placement began) `back` days ago with nothing logged yet."""
        today = date.today()
        return [d for d in (today - timedelta(days=n) for n in back) if d.weekday() < 5 and d >= st.start
                and d not in logged]

    async def backfill(self, days: int) -> None:
        """Phones coming back online: one batch with the last weeks of work days not logged yet."""
        async def sync(st: Student) -> None:
            logged = await self.known_days(st)
            work = [d for d in self.free_days(st, logged, range(1, days + 1)) if self.rng.random() < 0.6]
            if work:
                logged.update(work)
                items = [self.entry(st, d, invalid=self.rng.random() < 0.03) for d in work]
                await self.post(st, "/v1/me/entries/batch", {"entries": items})
        await asyncio.gather(*[sync(st) for st in self.students])
        log.info("backfill done: %s", self.stats)

    async def live(self, rate: float, seconds: float | None) -> None:
        loop = asyncio.get_running_loop()
        started, sent = loop.time(), 0
        pending: set[asyncio.Task[None]] = set()
        while seconds is None or loop.time() - started < seconds:
            await asyncio.sleep(self.rng.expovariate(rate))
            st = self.rng.choice(self.students)
            logged = await self.known_days(st)
            if self.rng.random() < 0.1:  # a burst: a phone that was offline for several days
                days = self.free_days(st, logged, range(1, self.rng.randint(2, 7)))
                if not days:
                    continue  # nothing left to log: this student's phone sends nothing now
                logged.update(days)
                task = asyncio.create_task(self.post(st, "/v1/me/entries/batch",
                                                     {"entries": [self.entry(st, d) for d in days]}))
            else:  # yesterday's work, or a recent day the student forgot (not today: its shift may not
                # have ended yet, and an entry that ends in the future is refused, whatever the hour the run starts)
                days = self.free_days(st, logged, range(1, 4))
                if not days:
                    continue
                day = days[0] if self.rng.random() < 0.7 else self.rng.choice(days)
                logged.add(day)
                task = asyncio.create_task(self.post(st, "/v1/me/entries", self.entry(
                    st, day, invalid=self.rng.random() < 0.05)))
            pending.add(task)  # keep a reference until done (the loop holds only weak ones)
            task.add_done_callback(pending.discard)
            sent += 1
            if sent % 500 == 0:
                log.info("live: %s", self.stats)


async def main_async(args: argparse.Namespace) -> None:
    cfg = Settings()
    size = Size(1, 2, 20, 5) if args.small else Size(args.institutions, args.programmes, args.students, args.workplaces)
    sim = Sim(cfg, args.base_url or f"http://127.0.0.1:{cfg.api_port}", size, args.seed, args.concurrency,
              args.drop_out, args.prefix)
    await sim.wait_ready()
    await sim.build_cohort()
    log.info("demo student: %s (README: try it by hand)", DEMO_STUDENT)
    await sim.backfill(args.backfill_days)
    if not args.once:
        await sim.live(args.rate, args.seconds)
    await sim.client.aclose()
    log.info("simulator done: %s", sim.stats)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="simulate", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--base-url")
    p.add_argument("--small", action="store_true", help="1 institution, 2 programmes, 20 students, 5 workplaces")
    p.add_argument("--institutions", type=int, default=3)
    p.add_argument("--programmes", type=int, default=20)
    p.add_argument("--students", type=int, default=5000)
    p.add_argument("--workplaces", type=int, default=800)
    p.add_argument("--backfill-days", type=int, default=14)
    p.add_argument("--rate", type=float, default=5.0, help="phone requests per second after the backfill")
    p.add_argument("--seconds", type=float, help="stop the live phase after this long (default: run on)")
    p.add_argument("--once", action="store_true", help="stop after the backfill")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--drop-out", type=float, default=0.04,
                   help="share of students whose enrolment and placement end early (dropped out)")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--prefix", default="inst", help="institution ids (<prefix>-1, ...): a second, separate cohort")
    args = p.parse_args(argv)
    cfg = Settings()
    configure_logging("simulator", cfg.log_level, cfg.log_json)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
