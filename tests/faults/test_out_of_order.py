"""Scenario 6: an older event is processed after a newer one (a late retry): it is ``stale``.

Each person gets three updates in order. The middle one keeps failing with a transient error
until every third update is applied, so its successful retry comes after them. It must not
overwrite what the newer event set; it only fills what is still empty (a metadata key only it
carries).
"""

from __future__ import annotations

import random

import pytest

from tests.faults.conftest import FaultStack, ScenarioReport
from tests.support.invariants import check_invariants, wait_for_drain
from tests.support.load import LoadPlan, post_requests
from tests.support.workload import make_person, make_request

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PERSONS = 20


def test_an_older_event_applied_late_is_stale_and_keeps_the_newer_values(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = [make_person("O", index) for index in range(PERSONS)]
    web = stack.web()
    stack.worker(
        "late-retries",
        concurrency=2,
        faults="transient:always@late",
        LEADGATE_RETRY_BASE_SECONDS="0.5",
        LEADGATE_RETRY_MAX_SECONDS="1",
        LEADGATE_MAX_ATTEMPTS="100",
    )
    rng = random.Random(6)
    requests = []
    for person in persons:
        person.expected = {"metadata.late_only": "filled"}
        requests += [
            make_request(person, 0, rng),
            make_request(person, 1, rng, fault="late", metadata={"n": 1, "late_only": "filled"}),
            make_request(person, 2, rng),
        ]
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token)
    sent = post_requests(plan, requests)
    on_time = [request.event_id or "" for request in sent if not request.body.get("fault")]
    stack.wait_for_events(on_time, lambda state: state.terminal)
    stack.release("late")
    drain = wait_for_drain(stack.database_url, tenant.organization_id, timeout=60)

    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons, 100)
    states = stack.events([request.event_id or "" for request in sent])
    late = [states[request.event_id or ""] for request in sent if request.body.get("fault")]
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={"transient_errors": len(stack.injected("transient"))},
        late_actions=sorted({state.action or "-" for state in late}),
        late_attempts=sorted(state.attempts for state in late),
        drain_after_load_seconds=round(drain, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    # (An older event whose first attempt came after the release is late all the same.)
    assert [state for state in late if state.action != "stale"] == []
    assert len(stack.injected("transient")) >= PERSONS
