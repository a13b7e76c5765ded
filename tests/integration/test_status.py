"""Issue 10: `make run`'s status shows, per service, whether it answers and its consumer lag, so a dead
worker is visible at once (the line used to read "kafka up ... postgres up" with the reports worker gone)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from werkplek_common.cli import Watched, status_lines
from werkplek_common.settings import CommonSettings

from tests.e2e.stack import free_port
from tests.support import _commit_when_coordinated, end_offsets

TOPIC = "placement.time_entry.withdrawn.v1.dlq"  # read by no service: records here disturb nobody


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def alive() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


async def test_a_dead_worker_and_a_lagging_group_show_at_once(stack: CommonSettings, producer, alive: int) -> None:
    group = f"test-status-{uuid.uuid4().hex[:8]}"
    tp = TopicPartition(TOPIC, 0)
    start = (await end_offsets(stack.kafka_bootstrap, [TOPIC]))[tp]
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        await _commit_when_coordinated(consumer, {tp: start})
    finally:
        await consumer.stop()
    for _ in range(3):  # three records the group has not read
        await producer.send_and_wait(TOPIC, b"{}", key=b"k", partition=0)

    lines = await status_lines(stack, (Watched("alive-worker", alive, group), Watched("dead-worker", free_port())))
    assert lines[0].split("  ", 1)[1].startswith("kafka up")
    assert "  alive-worker  up  lag 3" in lines
    assert "  dead-worker   DOWN" in lines
    assert lines[-1].startswith("  students with a share ")
