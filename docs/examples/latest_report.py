"""Print the latest funding report of a programme and academic year from the report topic.

    python latest_report.py --bootstrap kafka:9092 --report prog-grad-zorg:2026-2027

Needs only aiokafka (pip install aiokafka). The topic is compacted and keyed by report id: reading it
from the beginning and keeping the highest version of the key gives the report's latest version."""

import argparse
import asyncio
import json

from aiokafka import AIOKafkaConsumer

TOPIC = "reporting.funding_report.published.v1"


async def latest(bootstrap: str, report_id: str) -> dict | None:
    # no group_id: every partition is assigned to us, nothing is committed
    consumer = AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        parts = list(consumer.assignment())
        end, best = await consumer.end_offsets(parts), None
        while any([await consumer.position(p) < end[p] for p in parts]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in (r for r in records if r.key == report_id.encode()):
                    report = json.loads(record.value)
                    if best is None or report["version"] > best["version"]:
                        best = report
        return best
    finally:
        await consumer.stop()


def show(report: dict) -> None:
    print(f"{report['report_id']} version {report['version']} generated {report['generated_at']}")
    for section in report["sections"]:
        print(f"[{section['name']}]")
        for row in section["rows"]:
            cells = [f"{name}={'x' if c['suppressed'] else c['value']}" for name, c in row["cells"].items()]
            print(f"  {row['label']}: {', '.join(cells)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Print the latest version of one funding report.")
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--report", required=True, help="<programme id>:<academic year>")
    args = parser.parse_args()
    found = asyncio.run(latest(args.bootstrap, args.report))
    show(found) if found else print(f"no report {args.report} on {TOPIC}")
