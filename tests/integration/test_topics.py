"""Topics are created from the registry, idempotently, with the registry's partitions and configs."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from werkplek_common.kafka import ensure_topics
from werkplek_events import TOPICS, all_topic_names


async def _describe(bootstrap: str) -> dict[str, tuple[int, dict[str, str]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = all_topic_names()
        parts = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
        out = {}
        for name in names:
            resp = (await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)]))[0]
            out[name] = (parts[name], {e[0]: e[1] for e in resp.resources[0][4]})
        return out
    finally:
        await admin.close()


async def test_creation_twice_gives_the_same_topics_and_configs(stack):
    await ensure_topics(stack.kafka_bootstrap)
    before = await _describe(stack.kafka_bootstrap)
    second = await ensure_topics(stack.kafka_bootstrap)
    assert set(second.values()) == {"unchanged"}
    assert await _describe(stack.kafka_bootstrap) == before


async def test_topics_match_the_registry(stack):
    described = await _describe(stack.kafka_bootstrap)
    for spec in TOPICS:
        partitions, configs = described[spec.name]
        assert partitions == spec.partitions, spec.name
        assert configs["cleanup.policy"] == spec.cleanup, spec.name
        if spec.dlq:
            assert described[spec.dlq][0] == spec.partitions
    reports = [t for t in TOPICS if t.name.startswith("reporting.funding_report.published")]
    assert reports and reports[0].cleanup == "compact"
