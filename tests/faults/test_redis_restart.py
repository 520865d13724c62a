"""Scenario 2: Redis (broker and locks) restarts during the load, once cleanly, once crashing.

A clean restart keeps every message (the append-only file is written out); a crash may lose
the last second of them, which the sweeper makes up for. Workers and beat reconnect by
themselves; tasks running meanwhile carry on under the database's locks.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import FaultStack, ScenarioReport
from tests.support.invariants import check_invariants, wait_for_drain
from tests.support.load import BackgroundLoad, LoadPlan
from tests.support.workload import interleaved_requests, make_person

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PERSONS = 300
PER_PERSON = 5
DOWN_SECONDS = 2.0


def test_redis_restarted_twice_during_load(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = [make_person("R", index) for index in range(PERSONS)]
    requests = interleaved_requests(persons, PER_PERSON, seed=2)
    web = stack.web()
    stack.beat()
    stack.worker("redis-restart", concurrency=3)
    redis_server = stack.servers.redis
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token, per_process_rate=30)
    load = BackgroundLoad(plan, requests)

    time.sleep(3)
    redis_server.stop()  # clean: SHUTDOWN writes the append-only file out
    time.sleep(DOWN_SECONDS)
    redis_server.start()
    time.sleep(4)
    redis_server.kill()  # a crash: up to a second of writes may be lost
    time.sleep(DOWN_SECONDS)
    redis_server.start()
    recovered = time.monotonic()
    backlog = stack.backlog(tenant.organization_id)
    sent = load.result(timeout=300)
    drain = wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)

    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={"redis_restarts": 1, "redis_crashes": 1, "down_seconds_each": 2.0},
        backlog_at_recovery=backlog,
        drain_after_recovery_seconds=round(time.monotonic() - recovered, 1),
        drain_after_load_seconds=round(drain, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert verdict.counts["accepted"] == len(sent)
