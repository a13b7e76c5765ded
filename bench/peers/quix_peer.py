"""The per-student job (bench/peers/job.py) as a Quix Streams application; runs in the Quix virtualenv
(.venv-quix, ADR 0080), one process per run: `python bench/peers/quix_peer.py '<json settings>'`.

Written as Quix Streams' documentation recommends (3.28, the current release):
- an `Application` with a consumer group, `auto_offset_reset="earliest"` and the processing guarantee of
  the run ("at-least-once", the default, or "exactly-once": Kafka transactions)
  https://quix.io/docs/quix-streams/configuration.html#processing-guarantees
- a `StreamingDataFrame` over the input topic, bytes in (the contract's codec decodes), JSON out
  https://quix.io/docs/quix-streams/advanced/serialization.html
- per-key state through `apply(..., stateful=True)`: `state.get` / `state.set`, kept in RocksDB with a
  changelog topic (`use_changelog_topics=True`, the default), one state value per student
  https://quix.io/docs/quix-streams/advanced/stateful-processing.html
- `filter` drops the records that changed nothing, `to_topic` produces one output per change
  https://quix.io/docs/quix-streams/processing.html
- stopping: `Application.stop()` from `on_message_processed` once every partition is read to the end
  offsets the bench passes (https://quix.io/docs/api-reference/application.html), so the final commit
  (and, exactly-once, the transaction) is inside the measured time.
Prints one JSON line: records, outputs, seconds and CPU-seconds from the first record to the stop."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.peers.job import decode_record, fold, new_state


def main(cfg: dict[str, Any]) -> dict[str, Any]:
    from quixstreams import Application

    ends = {int(p): int(n) for p, n in cfg["ends"].items() if int(n) > 0}
    seen: dict[int, int] = {}
    clock: dict[str, float] = {}
    counts = {"records": 0, "outputs": 0}
    catalogue: dict[str, int] = cfg["catalogue"]

    def processed(topic: str, partition: int, offset: int) -> None:
        seen[partition] = offset + 1
        if all(seen.get(p, 0) >= n for p, n in ends.items()):
            app.stop()

    app = Application(broker_address=cfg["bootstrap"], consumer_group=cfg["group"], auto_offset_reset="earliest",
                      processing_guarantee=cfg["guarantee"], state_dir=cfg["state_dir"], loglevel="WARNING",
                      on_message_processed=processed)
    source = app.topic(cfg["input"], value_deserializer="bytes", key_deserializer="str")
    output = app.topic(cfg["output"], value_serializer="json", key_serializer="str")

    def step(value: bytes, key: str, timestamp: int, headers: Any, state: Any) -> dict[str, Any] | None:
        if not clock:
            clock.update(t0=time.perf_counter(), c0=time.process_time())
        counts["records"] += 1
        student = state.get("student") or new_state()
        changed, out = fold(student, decode_record(value, headers), catalogue)
        if changed:
            state.set("student", student)
        counts["outputs"] += out is not None
        return out

    sdf = app.dataframe(source)
    sdf = sdf.apply(step, stateful=True, metadata=True).filter(lambda v: v is not None)
    sdf.to_topic(output)
    app.run()
    return {**counts, "seconds": time.perf_counter() - clock["t0"], "cpu_seconds": time.process_time() - clock["c0"]}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
