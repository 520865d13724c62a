"""Scenario 4: one event delivered more than once, at the same moment, to different workers.

The claim (a compare-and-set on the event row) lets exactly one delivery in; the others find
the event held or done and write nothing. A slower variant: the first attempt stalls past its
lease, the sweeper hands a copy to another worker and the broker redelivers the original
message too; the row lock and the attempt number make the stalled attempt a no-op.
"""

from __future__ import annotations

import random
import signal
import time

import pytest

from tests.faults.conftest import EventState, FaultStack, ScenarioReport
from tests.support.invariants import SentRequest, check_invariants
from tests.support.load import LoadPlan, send_now
from tests.support.processes import ServiceProcess
from tests.support.workload import make_person, make_request

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]


def _terminal(state: EventState) -> bool:
    return state.terminal


def _ids(requests: list[SentRequest]) -> list[str]:
    ids = [request.event_id for request in requests if request.event_id]
    assert len(ids) == len(requests), [request.answers for request in requests]
    return ids


def _seen_by(worker: ServiceProcess, event_id: str) -> bool:
    return event_id in worker.log()


def test_the_same_event_delivered_to_two_workers_at_once_applies_once(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = [make_person("T", index) for index in range(40)]
    web = stack.web()
    # At DEBUG a worker logs the id of every event it is handed, claimable or not (_seen_by).
    twins = [
        stack.worker(f"twin-{name}", concurrency=2, queues="twins", LEADGATE_LOG_LEVEL="DEBUG")
        for name in "ab"
    ]
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token)
    rng = random.Random(4)
    # A create, then two reengagements per person; the webhook's own messages go to a queue
    # no worker reads, and every event is published to the twins' queue several times at once.
    rounds = [("upsert", 2), ("create", 2), ("create", 3)]
    sent: list[SentRequest] = []
    for step, (endpoint, copies) in enumerate(rounds):
        batch = send_now(plan, [make_request(person, step, rng, endpoint) for person in persons])
        stack.publish(_ids(batch), queue="twins", copies=copies)
        stack.wait_for_events(_ids(batch), _terminal)
        sent += batch
    for person in persons:
        person.reengagements = 2

    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    on_both = sum(all(_seen_by(twin, event_id) for twin in twins) for event_id in _ids(sent))
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={
            "deliveries": sum(copies for _, copies in rounds) * len(persons),
            "events_delivered_to_both_workers": on_both,
        },
        drain_after_recovery_seconds=None,
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert all(state.attempts == 1 for state in stack.events(_ids(sent)).values())
    assert on_both > 0, "no event reached both workers; the race was not exercised"


def test_a_stalled_attempt_loses_to_a_swept_copy_and_a_redelivery(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = [make_person("S", index) for index in range(6)]
    web = stack.web()
    stack.beat()
    # First attempts run here and stall after taking the Redis lock (which expires after 1 s)
    # until the events are done: far past their 3 s lease, so the sweeper hands them on.
    stalled = stack.worker(
        "stalled",
        concurrency=len(persons),
        queues="stalled",
        faults="pause_after_lock:60@stall",
        LEADGATE_LOCK_TTL_SECONDS="1",
        # One event per attempt: each stalled attempt must be its own (see test_lock_expiry).
        LEADGATE_BATCH_SIZE="1",
    )
    rescuer = stack.worker("rescuer", concurrency=2, LEADGATE_BATCH_SIZE="1")
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token)
    rng = random.Random(44)
    creates = send_now(plan, [make_request(person, 0, rng) for person in persons])
    stack.wait_for_events(_ids(creates), _terminal)

    # The rescuer stays frozen while the stalled worker claims the reengagements, so that
    # the webhook's own messages (the redeliveries) reach it only afterwards.
    rescuer.signal_group(signal.SIGSTOP)
    stalls = [make_request(person, 1, rng, "create", fault="stall") for person in persons]
    send_now(plan, stalls)
    stack.publish(_ids(stalls), queue="stalled")
    stack.wait_for_events(_ids(stalls), lambda state: state.attempts >= 1)
    rescuer.signal_group(signal.SIGCONT)
    resumed = time.monotonic()
    states = stack.wait_for_events(_ids(stalls), _terminal)
    drained = time.monotonic() - resumed
    # Let the stalled attempts go on: they find the events taken over.
    stack.release("stall")
    deadline = time.monotonic() + 30
    while stalled.log().count("was taken over") < len(persons) and time.monotonic() < deadline:
        time.sleep(0.2)
    for person in persons:
        person.reengagements = 1

    sent = creates + stalls
    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={
            "stalled_attempts": len(stack.injected("pause_after_lock")),
            "taken_over": stalled.log().count("was taken over"),
        },
        drain_after_recovery_seconds=round(drained, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert all(state.action == "reengaged" for state in states.values())
    assert all(state.attempts >= 2 for state in states.values()), states
    assert len(stack.injected("pause_after_lock")) == len(persons)
    assert stalled.log().count("was taken over") == len(persons)
