"""Scenario 1: the worker's main process and a pool process are SIGKILLed, again and again.

Messages the killed worker had taken stay unacknowledged in Redis until the visibility timeout
(far beyond the test); the events they carried are recovered by the sweeper instead: queued ones
once they are stuck, processing ones once their lease runs out.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import FaultStack, ScenarioReport, kill_worker_and_child
from tests.support.invariants import check_invariants, pending_events, wait_for_drain
from tests.support.load import BackgroundLoad, LoadPlan
from tests.support.workload import interleaved_requests, make_person

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PERSONS = 400
PER_PERSON = 5
KILLS = 3


def test_worker_killed_repeatedly_during_load(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = [make_person("K", index) for index in range(PERSONS)]
    requests = interleaved_requests(persons, PER_PERSON, seed=1)
    web = stack.web()
    stack.beat()
    worker = stack.worker("killed-0", concurrency=3)
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token, per_process_rate=30)
    load = BackgroundLoad(plan, requests)

    killed: list[int] = []
    for kill in range(1, KILLS + 1):
        # Let the worker get well into the backlog, then kill it mid-flight.
        time.sleep(4)
        killed += kill_worker_and_child(worker)
        worker = stack.worker(f"killed-{kill}", concurrency=3)
    recovered = time.monotonic()
    backlog = stack.backlog(tenant.organization_id)
    sent = load.result(timeout=300)
    load_done = time.monotonic()
    pending_at_load_end = pending_events(stack.database_url, tenant.organization_id)
    drain = wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)

    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={"sigkill_rounds": KILLS, "processes_killed": len(killed)},
        load_seconds=round(load_done - load.started, 1),
        pending_when_load_ended=pending_at_load_end,
        drain_after_load_seconds=round(drain, 1),
        backlog_at_recovery=backlog,
        drain_after_recovery_seconds=round(time.monotonic() - recovered, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert verdict.counts["accepted"] == len(sent)
