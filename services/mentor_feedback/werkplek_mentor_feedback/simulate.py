"""The mentor simulator for `make run`: plays mentors whose tools are the dev sources. It waits until
the API is ready, then at a modest rate sends signed webhooks — mostly confirmations, some
rejections, assessments of agreed outcomes, agreement signatures — plus a few forged, stale and
replayed ones, so every metric label moves.

    python -m werkplek_mentor_feedback.simulate
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from werkplek_common.logs import configure_logging

from .config import MentorFeedbackSettings
from .signing import new_secret, signed_headers
from .sources import dev_secret

log = logging.getLogger("mentor_simulator")
REASONS = ["not_worked", "wrong_hours", "wrong_date", "not_at_workplace", "duplicate", "other"]
LEVELS = ["not_yet", "developing", "developing", "achieved", "achieved", "exceeds"]

_PENDING = """
SELECT e.entry_id, e.revision, p.mentor_id, m.webhook_source FROM mf_entries e
JOIN mf_placements p USING (placement_id) JOIN mf_mentors m ON m.mentor_id = p.mentor_id
WHERE m.webhook_source = ANY($1::text[]) AND NOT e.withdrawn AND e.work_date IS NOT NULL
  AND (e.decision IS NULL OR e.decided_revision IS DISTINCT FROM e.revision)
ORDER BY random() LIMIT 40
"""
_PLACEMENT = """
SELECT p.placement_id, p.mentor_id, p.outcomes, m.webhook_source FROM mf_placements p
JOIN mf_mentors m ON m.mentor_id = p.mentor_id
WHERE m.webhook_source = ANY($1::text[]) AND jsonb_array_length(p.outcomes) > 0 ORDER BY random() LIMIT 1
"""


class Simulator:
    def __init__(self, cfg: MentorFeedbackSettings, pool: asyncpg.Pool, client: httpx.AsyncClient) -> None:
        self.cfg, self.pool, self.client = cfg, pool, client
        self.sources = list(cfg.mentor_dev_sources)
        self.secrets = {s: dev_secret(cfg.mentor_secrets_dir, s) for s in self.sources}
        self.last: tuple[str, bytes, dict[str, str]] | None = None
        self.results: Counter[str] = Counter()

    async def send(self, source: str, kind: str, data: dict[str, Any], *, secret: str | None = None,
                   skew: int = 0) -> int:
        body = json.dumps({"type": kind, "timestamp": datetime.now(UTC).isoformat(), "data": data}).encode()
        headers = signed_headers([secret or self.secrets[source]], f"msg_{uuid.uuid4().hex}",
                                 int(time.time()) + skew, body)
        self.last = (source, body, headers)
        return await self._post(source, body, headers, kind)

    async def _post(self, source: str, body: bytes, headers: dict[str, str], label: str) -> int:
        resp = await self.client.post(f"/webhooks/{source}", content=body,
                                      headers={**headers, "content-type": "application/json"})
        self.results[f"{label}:{resp.status_code}"] += 1
        return resp.status_code

    async def decide_hours(self) -> bool:
        rows = await self.pool.fetch(_PENDING, self.sources)
        if not rows:
            return False
        mentor = rows[0]["mentor_id"]
        mine = [r for r in rows if r["mentor_id"] == mentor][: random.randint(1, 5)]
        refs = [{"entry_id": str(r["entry_id"]), "revision": r["revision"]} for r in mine]
        if random.random() < 0.9:
            await self.send(mine[0]["webhook_source"], "hours.confirmed", {"mentor_id": mentor, "entries": refs})
        else:
            rejected = [{**ref, "reason": random.choice(REASONS), "comment": "does not match our planning"}
                        for ref in refs]
            await self.send(mine[0]["webhook_source"], "hours.rejected", {"mentor_id": mentor, "entries": rejected})
        return True

    async def assess(self) -> bool:
        row = await self.pool.fetchrow(_PLACEMENT, self.sources)
        if row is None:
            return False
        outcomes = json.loads(row["outcomes"])
        picked = random.sample(outcomes, k=random.randint(1, len(outcomes)))
        final = random.random() < 0.3
        on = date.today() - timedelta(days=random.randint(0, 30))
        data = {"mentor_id": row["mentor_id"], "assessment_id": f"as-{uuid.uuid4().hex[:12]}",
                "placement_id": row["placement_id"], "moment": "final" if final else "mid_term",
                "assessed_on": on.isoformat(),
                "outcomes": [{"outcome_id": o["outcome_id"], "kind": o["kind"], "level": random.choice(LEVELS),
                              "comment": "observed on the job"} for o in picked]}
        await self.send(row["webhook_source"], "assessment.recorded", data)
        if random.random() < 0.2:
            await self.send(row["webhook_source"], "learning_agreement.signed",
                            {"mentor_id": row["mentor_id"], "placement_id": row["placement_id"],
                             "signed_at": datetime.now(UTC).isoformat()})
        return True

    async def misbehave(self) -> None:
        """A forged signature, a stale timestamp or a replay of the previous message."""
        trick = random.choice(["forged", "stale", "replay"])
        source = random.choice(self.sources)
        data = {"mentor_id": "m-unknown", "entries": [{"entry_id": str(uuid.uuid4())}]}
        if trick == "forged":
            await self.send(source, "hours.confirmed", data, secret=new_secret())
        elif trick == "stale":
            await self.send(source, "hours.confirmed", data, skew=-random.randint(301, 3600))
        elif self.last is not None:
            await self._post(*self.last, label="replay")

    async def tick(self) -> None:
        roll = random.random()
        if roll < 0.04:
            await self.misbehave()
        elif roll < 0.2:
            await self.assess() or await self.decide_hours()
        elif not await self.decide_hours() and random.random() < 0.3:
            await self.assess()  # no pending hours: assess now and then, not at every tick


async def wait_until_ready(client: httpx.AsyncClient) -> None:
    """Poll /readyz with a growing interval; the API may start after the simulator."""
    delay = 0.5
    while True:
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        log.info("waiting for the mentor feedback API")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10)


async def main() -> None:
    cfg = MentorFeedbackSettings()
    configure_logging("mentor_simulator", cfg.log_level, cfg.log_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the summary
    base = f"http://{cfg.mentor_api_host}:{cfg.mentor_api_port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        await wait_until_ready(client)
        pool = await asyncpg.create_pool(cfg.service_dsn, min_size=1, max_size=2)
        sim = Simulator(cfg, pool, client)
        interval, reported = 1 / max(cfg.mentor_simulator_rate_per_s, 0.01), time.monotonic()
        log.info("mentor simulator running", extra={"fields": {"rate_per_s": cfg.mentor_simulator_rate_per_s}})
        while True:
            try:
                await sim.tick()
            except (httpx.HTTPError, asyncpg.PostgresError, OSError) as exc:
                log.warning("simulator step failed", extra={"fields": {"error": repr(exc)}})
            if time.monotonic() - reported > 30:
                log.info("simulated webhooks", extra={"fields": dict(sim.results)})
                reported = time.monotonic()
            await asyncio.sleep(interval * random.uniform(0.5, 1.5))


if __name__ == "__main__":
    asyncio.run(main())
