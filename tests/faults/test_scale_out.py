"""Horizontal scale-out: two worker commands (as on two machines) and two web processes.

Each worker has its own node name and its own process tree, sharing only the broker and the
database, as two hosts would. Load goes through both web processes at once; both workers must do
work, and I1-I4 must hold.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.faults.conftest import FaultStack, ScenarioReport
from tests.support.invariants import check_invariants, wait_for_drain
from tests.support.load import BackgroundLoad, LoadPlan
from tests.support.processes import ServiceProcess
from tests.support.workload import interleaved_requests, make_person

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PERSONS = 200
PER_PERSON = 4


def _events_finished(worker: ServiceProcess) -> int:
    count = 0
    for line in worker.log().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") == "worker.events" and entry.get("status") == "done":
            count += 1
    return count


def test_two_workers_and_two_webs_share_the_load(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = [make_person("S", index) for index in range(PERSONS)]
    # Each half of the persons goes through its own web process.
    halves = [persons[0::2], persons[1::2]]
    webs = [stack.web(workers=1), stack.web(workers=1)]
    workers = [
        stack.worker("host-a", concurrency=1, LEADGATE_LOG_FORMAT="json"),
        stack.worker("host-b", concurrency=1, LEADGATE_LOG_FORMAT="json"),
    ]
    stack.beat()
    started = time.monotonic()
    loads = [
        BackgroundLoad(
            LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token, processes=2),
            interleaved_requests(half, PER_PERSON, seed=index),
        )
        for index, (web, half) in enumerate(zip(webs, halves, strict=True))
    ]
    sent = [request for load in loads for request in load.result(timeout=300)]
    drain = wait_for_drain(stack.database_url, tenant.organization_id, timeout=180)
    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    per_worker = {worker.name: _events_finished(worker) for worker in workers}
    scenario_report.figures.update(
        events_sent=len(sent),
        web_processes=len(webs),
        worker_commands=len(workers),
        events_done_per_worker=per_worker,
        seconds_to_drain_after_load=round(drain, 1),
        total_seconds=round(time.monotonic() - started, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert verdict.counts["accepted"] == len(sent) == PERSONS * PER_PERSON
    assert all(count > 0 for count in per_worker.values()), per_worker
    assert sum(per_worker.values()) >= len(sent)
