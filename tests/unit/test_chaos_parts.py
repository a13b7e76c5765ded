"""The parts of the chaos run (`make chaos`, tests/chaos) that `make test` can check without running it:
it still finds every service of infra/Procfile and the ports each needs, its plan says what every
student's totals must end as, its faults cover every worker, and its stall measure counts what it
should. So a change elsewhere (a service renamed, a setting moved) breaks `make test`, not only the
next chaos run."""

from __future__ import annotations

from datetime import date, timedelta

from tests.chaos import procfile
from tests.chaos.faults import schedule
from tests.chaos.verify import GroupWatch
from tests.chaos.workload import make_plan


def test_every_procfile_line_is_an_api_a_worker_or_a_tool_with_free_ports_to_give() -> None:
    lines = [line for line in procfile.PROCFILE.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    found = procfile.services()
    assert len(found) == len(lines)  # every line understood
    kinds = {s.name: s.kind for s in found}
    assert kinds["placement_api"] == kinds["mentor_api"] == "api"
    assert {"hour_accounting", "placement_worker", "mentor_worker"} <= {n for n, k in kinds.items() if k == "worker"}
    assert all(k == "tool" for n, k in kinds.items() if "simulator" in n)
    for svc in found:
        assert procfile.settings_class(svc.package) is not None, svc.package
        if svc.kind == "worker":  # what `make run` pins in the Procfile is a setting the run can move
            assert {k for k in svc.env if k.endswith("_PORT")} <= {
                f"WERKPLEK_{f.upper()}" for f in procfile.port_fields(svc.package)}
        if svc.kind == "api":
            assert procfile.api_port_field(svc.package)


def test_a_procfile_line_keeps_its_environment_and_arguments() -> None:
    svc = procfile.parse("w: env WERKPLEK_METRICS_PORT=9103 A=b python -m werkplek_x worker --fast")
    assert svc is not None
    assert (svc.module, svc.args, svc.env) == ("werkplek_x", ("worker", "--fast"),
                                               {"WERKPLEK_METRICS_PORT": "9103", "A": "b"})
    assert procfile.parse("# a comment") is None
    assert procfile.parse("x: bash -c true") is None


def test_an_entry_naming_an_unset_variable_drops_its_setting_family(monkeypatch) -> None:
    monkeypatch.delenv("WERKPLEK_APP_OIDC_ISSUER", raising=False)
    monkeypatch.setenv("CHAOS_SET", "x")
    line = ("placement_api: env WERKPLEK_OIDC_ISSUER=$WERKPLEK_APP_OIDC_ISSUER"
            " WERKPLEK_OIDC_AUDIENCE=werkplek-placement"
            " WERKPLEK_OIDC_JWKS_URL=$WERKPLEK_APP_OIDC_ISSUER/certs WERKPLEK_OIDC_TRUST_DEV_IDP=true"
            " WERKPLEK_OTHER=$CHAOS_SET/y WERKPLEK_METRICS_PORT=9101 python -m werkplek_placement_logging api")
    service = procfile.parse(line)
    assert service is not None
    assert procfile.without_unset(service).env == {"WERKPLEK_OTHER": "x/y", "WERKPLEK_METRICS_PORT": "9101"}
    monkeypatch.setenv("WERKPLEK_APP_OIDC_ISSUER", "http://idp")
    assert procfile.without_unset(service).env["WERKPLEK_OIDC_JWKS_URL"] == "http://idp/certs"


def test_the_plan_is_the_seed_alone_and_says_each_students_totals() -> None:
    today = date(2026, 12, 1)
    plan = make_plan(1000, 10, seed=3, today=today)
    assert plan == make_plan(1000, 10, seed=3, today=today)  # a run with one replica makes the same
    assert plan.entries == 1000 and len(plan.students) == 10
    for st in plan.students:
        assert len({e.work_date for e in st.entries}) == len(st.entries)  # one entry a day
        assert all(plan.start < e.work_date < today for e in st.entries)
        assert all(e.entry_id[14] == "7" for e in st.entries)  # UUIDv7, as the API requires
        confirmed, pending, rejected = st.expected()
        assert confirmed + pending + rejected == sum(e.minutes for e in st.entries)
    decisions = [e.decision for st in plan.students for e in st.entries]
    assert {"confirmed", "pending", "rejected"} == set(decisions)
    assert plan.start == today - timedelta(days=100 + 7)


def test_every_worker_is_paused_and_killed_once_and_the_broker_restarted_last() -> None:
    faults = schedule(["a", "b", "c"], replicas=2)
    assert sorted((f.target, f.action, f.replica) for f in faults if f.target != "kafka") == [
        ("a", "kill", 1), ("a", "pause", 0), ("b", "kill", 1), ("b", "pause", 0), ("c", "kill", 1), ("c", "pause", 0)]
    assert faults[-1].action == "broker" and all(0 < f.at < 1 for f in faults)
    assert [f.at for f in faults] == sorted(f.at for f in faults)
    assert {f.replica for f in schedule(["a"], replicas=1)} == {0}  # one replica takes both faults


def test_a_stall_is_the_longest_time_behind_without_progress() -> None:
    watch = GroupWatch()
    for t, committed, lag in [(0, 10, 5), (3, 12, 5), (6, 12, 9), (9, 12, 20), (12, 40, 0), (15, 40, 4), (18, 40, 4)]:
        watch.sample(t, committed, lag)
    assert watch.max_stall_s == 6  # from 3 (last progress) to 9; then caught up; 15..18 is 3
    assert watch.max_lag == 20
