"""Scenario 3: PostgreSQL restarts during the load, once cleanly, once crashing.

While it is down the webhook answers 503 with Retry-After and the provider resends (with the
same Idempotency-Key); workers see connection errors, back off and retry; the sweeper picks up
what was left processing. Pool pre-ping replaces the dead connections after the restart.
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
DOWN_SECONDS = 3.0


def test_postgres_restarted_twice_during_load(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = [make_person("D", index) for index in range(PERSONS)]
    requests = interleaved_requests(persons, PER_PERSON, seed=3)
    web = stack.web()
    stack.beat()
    stack.worker("postgres-restart", concurrency=3)
    postgres = stack.servers.postgres
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token, per_process_rate=30)
    load = BackgroundLoad(plan, requests)

    time.sleep(3)
    postgres.stop("fast")  # clean: open transactions are rolled back, connections cut
    time.sleep(DOWN_SECONDS)
    postgres.start()
    time.sleep(4)
    postgres.stop("immediate")  # a crash: recovery from the write-ahead log on start
    time.sleep(DOWN_SECONDS)
    postgres.start()
    recovered = time.monotonic()
    backlog = stack.backlog(tenant.organization_id)
    sent = load.result(timeout=300)
    drain = wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)

    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={"postgres_restarts": 1, "postgres_crashes": 1, "down_seconds_each": 3.0},
        backlog_at_recovery=backlog,
        drain_after_recovery_seconds=round(time.monotonic() - recovered, 1),
        drain_after_load_seconds=round(drain, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    # Every request was accepted in the end; those that met the outage were resent.
    assert verdict.counts["accepted"] == len(sent)
    assert "503" in verdict.counts["answers"]
