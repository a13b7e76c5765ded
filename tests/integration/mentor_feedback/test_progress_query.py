"""The progress read model: upserted only by a higher version; a student reads their own, a
coordinator the students of their institution, anyone else gets 404 (or 403 for other roles)."""

from __future__ import annotations

from werkplek_common.auth import Role
from werkplek_common.devidp import mint
from werkplek_mentor_feedback.progress import State, step
from werkplek_mentor_feedback.progress_worker import upsert_read_model

from tests.unit.mentor_feedback import factories as f


def _bearer(cfg, role: Role, sub: str, institution: str | None = None) -> dict[str, str]:
    return {"authorization": f"Bearer {mint(cfg.data_dir, role=role, sub=sub, institution=institution)}"}


async def test_read_model_keeps_the_highest_version_and_is_scoped_per_reader(world, pool, cfg, api):
    _, v1 = step(State(student_id=world.student), f.placement(world.pl_a, world.student, world.mentor_a))
    assert v1 is not None
    v2 = v1.model_copy(update={"version": 2, "never_assessed": ["lo-2", "lo-3"]})
    await upsert_read_model(pool, [v2])
    await upsert_read_model(pool, [v1])  # late duplicate of an older version: ignored
    url = f"/students/{world.student}/outcome-progress"

    own = await api.get(url, headers=_bearer(cfg, Role.STUDENT, world.student, "inst-1"))
    assert own.status_code == 200 and own.json()["version"] == 2
    assert own.json()["never_assessed"] == ["lo-2", "lo-3"] and own.json()["coverage"]["skill"]["agreed"] == 1
    coordinator = await api.get(url, headers=_bearer(cfg, Role.COORDINATOR, "c-1", "inst-1"))
    assert coordinator.status_code == 200

    assert (await api.get(url, headers=_bearer(cfg, Role.STUDENT, world.student_b, "inst-1"))).status_code == 404
    assert (await api.get(url, headers=_bearer(cfg, Role.COORDINATOR, "c-2", "inst-other"))).status_code == 404
    assert (await api.get(url, headers=_bearer(cfg, Role.MENTOR, world.mentor_a))).status_code == 403
    assert (await api.get(url)).status_code == 401
    nobody = f"/students/{world.student_b}/outcome-progress"  # placed, but no progress yet
    assert (await api.get(nobody, headers=_bearer(cfg, Role.STUDENT, world.student_b, "inst-1"))).status_code == 404
