"""The per-student job (bench/peers/job.py) as a faust-streaming application, one worker process per run:
`python bench/peers/faust_peer.py '<json settings>'` (in the project's .venv: the bench-peers group).

Written as faust-streaming's documentation recommends (0.15):
- an `App` with `store="rocksdb://"` (RocksDB through rocksdict, the binding faust-streaming now ships
  with; `driver: rocksdict` in the table options) and `topic_partitions` equal to the input's 8
  https://faust-streaming.github.io/faust/userguide/application.html#store
  https://faust-streaming.github.io/faust/reference/faust.stores.rocksdb.html
- a `Table` keyed by student: sharded like the input (the agent reads the topic partitioned by the same
  key) and backed by its changelog topic https://faust-streaming.github.io/faust/userguide/tables.html
- an agent over a raw-bytes topic (the contract's codec decodes, from `stream.events()` for the headers)
  https://faust-streaming.github.io/faust/userguide/agents.html
  https://faust-streaming.github.io/faust/userguide/streams.html
- one output per change with `Topic.send`, JSON values.
The run ends when every partition is read to the end offsets the bench passes: the producer is flushed,
the figures printed as one JSON line, and the process exits (faust has no stop-after-N; the worker's own
shutdown is not measured)."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.peers.job import decode_record, fold, new_state


def main(cfg: dict[str, Any]) -> None:
    import faust

    ends = {int(p): int(n) for p, n in cfg["ends"].items() if int(n) > 0}
    catalogue: dict[str, int] = cfg["catalogue"]
    seen: dict[int, int] = {}
    clock: dict[str, float] = {}
    counts = {"records": 0, "outputs": 0}
    app = faust.App(cfg["group"], broker=f"kafka://{cfg['bootstrap']}", store="rocksdb://",
                    datadir=cfg["state_dir"], topic_partitions=8, web_enabled=False,
                    consumer_auto_offset_reset="earliest", processing_guarantee=cfg["guarantee"])
    source = app.topic(cfg["input"], key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    output = app.topic(cfg["output"], key_serializer="raw", value_serializer="json")
    students = app.Table("students", default=None, partitions=8, options={"driver": "rocksdict"})

    async def finish() -> None:
        await app.producer.flush()
        result = {**counts, "seconds": time.perf_counter() - clock["t0"],
                  "cpu_seconds": time.process_time() - clock["c0"]}
        os.write(1, (json.dumps(result) + "\n").encode())  # fd 1: the worker redirects sys.stdout to its log
        os._exit(0)

    @app.agent(source)
    async def account(stream: Any) -> None:
        try:
            await work(stream)
        except Exception:  # faust would restart the agent and the run would never end: fail the run
            traceback.print_exc()
            os._exit(1)

    async def work(stream: Any) -> None:
        async for event in stream.events():
            if not clock:
                clock.update(t0=time.perf_counter(), c0=time.process_time())
            counts["records"] += 1
            msg = event.message
            key = msg.key.decode()
            state = students.get(key) or new_state()
            changed, out = fold(state, decode_record(msg.value, msg.headers), catalogue)
            if changed:
                students[key] = state
            if out is not None:
                counts["outputs"] += 1
                await output.send(key=msg.key, value=out)
            seen[msg.partition] = msg.offset + 1
            if all(seen.get(p, 0) >= n for p, n in ends.items()):
                await finish()

    sys.argv = [sys.argv[0], "worker", "--loglevel=warn", "--without-web"]
    app.main()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
