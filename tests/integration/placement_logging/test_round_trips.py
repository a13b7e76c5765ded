"""SQL round trips per request of the main use cases, counted on the connection the ledger and the
registry use. The use cases run over a unit of work (docs/adr/0008); the hot path (POST entries,
batch) must keep the round trips it had before that move: BEGIN, `pl_begin_log`, the one write
statement, COMMIT. The counts below were measured before the move and after it (equal)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any

from werkplek_common.auth import Role

from .conftest import bearer, entry, idem, new_id, placement_doc

# request -> statements sent (BEGIN and COMMIT/ROLLBACK count as one each)
EXPECTED = {
    "log one entry": 4,  # BEGIN, pl_begin_log, write, COMMIT
    "log it again (same Idempotency-Key)": 3,  # BEGIN, pl_begin_log (stored reply), COMMIT
    "log a refused entry": 3,  # BEGIN, pl_begin_log, ROLLBACK
    "batch of three, one refused, one duplicate": 5,  # BEGIN, pl_begin_log, duplicates, write, COMMIT
    "correct an entry": 6,  # BEGIN, lock, entry, context, write, COMMIT
    "withdraw an entry": 5,  # BEGIN, lock, entry, withdrawal, COMMIT
    # BEGIN, claim, enrolment, its student, workplace, mentor, claim (the put), save, stage (2), revision, COMMIT
    "agree a placement": 12,
    "put the same workplace again": 3,  # BEGIN, claim, COMMIT
}

_SENT = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


class _Counted:
    """A connection that counts the statements it sends."""

    def __init__(self, conn: Any, counter: list[int]) -> None:
        self._conn, self._counter = conn, counter

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._conn, name)
        if name not in _SENT:
            return attr

        async def sent(*args: Any, **kwargs: Any) -> Any:
            self._counter[0] += 1
            return await attr(*args, **kwargs)
        return sent

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self._counter[0] += 2  # BEGIN, and COMMIT or ROLLBACK
        async with self._conn.transaction():
            yield


class _CountingPool:
    def __init__(self, pool: Any) -> None:
        self._pool, self.counter = pool, [0]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[_Counted]:
        async with self._pool.acquire() as conn:
            yield _Counted(conn, self.counter)


@contextmanager
def counting(app: Any) -> Iterator[_CountingPool]:
    """The ledger's and the registry's pool, counted, for the block."""
    ledger, registry = app.state.ledger, app.state.registry
    pool = _CountingPool(ledger.pool)
    app.state.ledger = dataclasses.replace(ledger, pool=pool)
    app.state.registry = dataclasses.replace(registry, pool=pool)
    try:
        yield pool
    finally:
        app.state.ledger, app.state.registry = ledger, registry


async def test_statements_per_request_of_the_main_use_cases(api, cohort, pl_settings):
    app, auth = api.app, cohort.student_auth
    sent: dict[str, int] = {}

    async def measure(what: str, call: Any, status: int) -> Any:
        with counting(app) as pool:
            r = await call
        assert r.status_code == status, (what, r.text)
        sent[what] = pool.counter[0]
        return r

    first, key = entry(cohort.placement, cohort.start), idem()
    r = await measure("log one entry", api.post("/v1/me/entries", json=first, headers={**auth, **key}), 201)
    await measure("log it again (same Idempotency-Key)",
                  api.post("/v1/me/entries", json=first, headers={**auth, **key}), 201)
    await measure("log a refused entry", api.post("/v1/me/entries", json=entry(
        cohort.placement, cohort.end + timedelta(days=30)), headers={**auth, **idem()}), 422)
    batch = [entry(cohort.placement, cohort.start + timedelta(days=1)), first,
             entry(cohort.placement, cohort.end + timedelta(days=30))]
    b = await measure("batch of three, one refused, one duplicate",
                      api.post("/v1/me/entries/batch", json={"entries": batch}, headers={**auth, **idem()}), 200)
    assert [x["status"] for x in b.json()["results"]] == [201, 200, 422]
    path = f"/v1/me/entries/{first['entry_id']}"
    c = await measure("correct an entry", api.patch(path, json={"description": "night shift"},
                                                    headers={**auth, "If-Match": r.headers["etag"]}), 200)
    await measure("withdraw an entry", api.delete(path, headers={**auth, "If-Match": c.headers["etag"]}), 200)

    other = new_id("pl")
    await measure("agree a placement", api.put(f"/v1/placements/{other}", json=placement_doc(
        cohort.student, cohort.workplace, cohort.mentor, cohort.start, cohort.end), headers=cohort.coordinator), 201)
    workplace = (await api.get(f"/v1/workplaces/{cohort.workplace}", headers=cohort.coordinator)).json()["body"]
    await measure("put the same workplace again",
                  api.put(f"/v1/workplaces/{cohort.workplace}", json=workplace, headers=cohort.coordinator), 200)
    assert sent == EXPECTED


async def test_the_counter_counts(api, cohort, pl_settings):
    """A request that reaches no use case sends nothing through the counted pool."""
    with counting(api.app) as pool:
        r = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start),
                           headers=bearer(pl_settings, Role.STUDENT, cohort.student, cohort.institution))
    assert r.status_code == 400  # no Idempotency-Key: refused before any statement
    assert pool.counter[0] == 0
