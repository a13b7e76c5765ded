"""Programme facts for accounting. ProgrammeRegistered is keyed by programme on a 1-partition compacted
topic while students are keyed by student on 8, so it cannot be co-partitioned: every worker reads the
whole topic into memory (a runtime `GlobalTable`), and no student is accounted before the programmes
already registered are known. A programme that arrives later or changes re-evaluates the students
tagged with it."""

from __future__ import annotations

from werkplek_common.runtime import GlobalTable
from werkplek_common.runtime.tables import Dlq
from werkplek_events import Event, ProgrammeRegistered, topic_for

from .domain import Programme, programme_from
from .processor import programme_tag

TOPIC = topic_for(ProgrammeRegistered).name


class ProgrammeCatalogue:
    def __init__(self) -> None:
        self.programmes: dict[str, Programme] = {}

    def register(self, event: ProgrammeRegistered) -> bool:
        """Record a programme; True when it changed what accounting computes."""
        new = programme_from(event)
        changed = self.programmes.get(new.programme_id) != new
        self.programmes[new.programme_id] = new
        return changed

    def table(self, dlq: Dlq | None = None) -> GlobalTable:
        def apply(event: Event) -> set[str]:
            assert isinstance(event, ProgrammeRegistered)
            return {programme_tag(event.programme_id)} if self.register(event) else set()

        return GlobalTable("programmes", [TOPIC], apply, dlq)
