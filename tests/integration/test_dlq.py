"""A record that cannot be decoded or applied goes to its topic's DLQ with the error in its headers,
and the records after it on the partition are still handled."""

from __future__ import annotations

import asyncio
import uuid

from werkplek_common.kafka import EventConsumer, PoisonRecord, send_record
from werkplek_events import KafkaRecord, StudentEnrolled, encode, topic_for

from tests.support import eventually, read_until


def _enrolment(student: str, phase: int = 1) -> StudentEnrolled:
    return StudentEnrolled(student_id=student, programme_id="prog-1", institution_id="inst-1",
                           academic_year="2026-2027", phase=phase, status="regular", age_band="under_21")


async def test_poison_records_go_to_the_dlq_and_the_partition_flows(stack, producer):
    student = f"dlq-{uuid.uuid4().hex[:8]}"
    topic = topic_for(StudentEnrolled).name
    good_before, good_after, contract_breaker = _enrolment(student), _enrolment(student), _enrolment(student, 6)
    headers = encode(good_before, source="/t").headers
    undecodable = KafkaRecord(topic, student.encode(), b'{"not": "an enrolment"', headers)
    for rec in (encode(good_before, source="/t"), undecodable, encode(contract_breaker, source="/t"),
                encode(good_after, source="/t")):
        await send_record(producer, rec)
    await producer.flush()

    handled: list[uuid.UUID] = []

    async def handler(event, _rec):
        if event.student_id != student:
            return
        if event.phase == 6:
            raise PoisonRecord("phase", "phase 6 does not exist in this programme")
        handled.append(event.event_id)

    consumer = EventConsumer(stack.kafka_bootstrap, f"test-{uuid.uuid4()}", [topic], handler,
                             name="dlq-test", producer=producer)
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: len(handled) == 2, what="both good records handled")
    finally:
        await consumer.stop()
        task.cancel()
    assert handled == [good_before.event_id, good_after.event_id]

    dlq = topic_for(StudentEnrolled).dlq
    assert dlq == f"{topic}.dlq"
    recs = await read_until(stack.kafka_bootstrap, [dlq],
                            lambda rs: len([r for r in rs if r.key == student.encode()]) >= 2)
    mine = [dict(r.headers) for r in recs if r.key == student.encode()]
    assert mine[0]["dlq_error_type"] == b"DecodeError" and mine[0]["dlq_field"] == b"value"
    assert mine[0]["dlq_source_topic"] == topic.encode()
    assert mine[1]["dlq_error_type"] == b"PoisonRecord" and mine[1]["dlq_field"] == b"phase"
    assert b"does not exist" in mine[1]["dlq_error"]

