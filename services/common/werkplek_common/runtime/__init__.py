"""The stream runtime every consumer of werkplek runs on (docs/adr/0004-one-stream-runtime.md).

A consumer is a `Processor`: a pure `handle(state, events, ctx) -> (state, outputs)` per key, and how
its state and outputs are stored. The runtime owns the rest:

    loop.py      the one consumer loop (fetch a batch, hand it over), starting clients with backoff
    member.py    a consumer-group member: rebalance handling, fencing, lag, best-effort Kafka commits
    engine.py    a batch → per-key steps → chunked, pipelined commits; hot cache; quarantine; passes
    batch.py     grouping records by key, decoding them with the contract's codec (pure)
    store.py     PostgreSQL: offsets (compare-and-set), states, quarantine, outbox, in one transaction
    dead.py      DLQ copies staged in the outbox
    tables.py    reference data read whole by every worker (global tables)
    worker.py    a worker process: supervision, health, signals
    health.py    /healthz, /readyz and /metrics on the metrics port
    faults.py    quiet logs under faults (repeats summarised, outages logged once)
    backoff.py   capped exponential backoff
    collector.py the garbage collector's settings for workers holding many small objects
"""

from .engine import Engine
from .member import Options
from .processor import Context, Processor, registry_key
from .store import Fenced, Store
from .tables import GlobalTable
from .worker import Worker

__all__ = ["Context", "Engine", "Fenced", "GlobalTable", "Options", "Processor", "Store", "Worker", "registry_key"]
