"""Scenario 8: the broker (Redis) is down, then hung, while requests arrive.

The webhook still answers 202 at once: the event is in the inbox, a refused publish fails at
once, and after a publish that timed out (a hung broker) the web process stops trying for a
while. The worker and beat wait for the broker to return, and the sweeper then enqueues every
event that was accepted while it was away.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

import pytest

from tests.faults.conftest import FaultStack, ScenarioReport
from tests.support.invariants import SentRequest, check_invariants, wait_for_drain
from tests.support.load import BackgroundLoad, LoadPlan, send_now
from tests.support.servers import wait_until
from tests.support.workload import interleaved_requests, make_person, make_request

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PERSONS = 200
PER_PERSON = 5
OUTAGE_SECONDS = 4.0


def _answers(sent: list[SentRequest], start: float, end: float) -> dict[str, Any]:
    during = [request for request in sent if start <= request.sent_at <= end]
    seconds = [request.seconds for request in during]
    return {
        "sent": len(during),
        "accepted": sum(request.accepted for request in during),
        "median_seconds": round(statistics.median(seconds), 3) if seconds else None,
        "max_seconds": round(max(seconds), 3) if seconds else None,
    }


def test_requests_while_the_broker_is_down_or_hung_are_accepted_then_processed(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = [make_person("B", index) for index in range(PERSONS)]
    requests = interleaved_requests(persons, PER_PERSON, seed=8)
    web = stack.web()
    stack.beat()
    stack.worker("broker-down", concurrency=2)
    redis_server = stack.servers.redis
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token, per_process_rate=20)
    load = BackgroundLoad(plan, requests)

    time.sleep(2)
    redis_server.stop()
    down = (time.time(), time.time() + OUTAGE_SECONDS)
    time.sleep(OUTAGE_SECONDS)
    redis_server.start()
    time.sleep(2)
    redis_server.pause()
    hung = (time.time(), time.time() + OUTAGE_SECONDS)
    time.sleep(OUTAGE_SECONDS)
    redis_server.resume()
    recovered = time.monotonic()
    backlog = stack.backlog(tenant.organization_id)
    sent = load.result(timeout=300)
    drain = wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)

    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    while_down = _answers(sent, *down)
    while_hung = _answers(sent, *hung)
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={"broker_down_seconds": OUTAGE_SECONDS, "broker_hung_seconds": 4.0},
        answers_while_down=while_down,
        answers_while_hung=while_hung,
        backlog_at_recovery=backlog,
        drain_after_recovery_seconds=round(time.monotonic() - recovered, 1),
        drain_after_load_seconds=round(drain, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert while_down["sent"] and while_hung["sent"], "no request arrived during an outage"
    # Every request got its 202 on the first try, and promptly: none waited on the broker
    # beyond one publish timeout (2 s) per web process.
    assert all(request.accepted and request.tries == 1 for request in sent)
    assert while_down["max_seconds"] < 3.0
    assert while_hung["max_seconds"] < 5.0


def test_a_worker_holding_unacknowledged_messages_outlives_the_broker(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    # Messages with a countdown sit unacknowledged in the worker until due, and a task in
    # flight acknowledges its message only when it ends. Losing the broker meanwhile made
    # kombu fail on the dead connection with an AttributeError, and the worker shut down.
    tenant = stack.tenant()
    persons = [make_person("U", index) for index in range(10)]
    web = stack.web()
    worker = stack.worker(
        "holding", concurrency=2, queues="held", faults="pause_after_lock:4@in-flight"
    )
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token)
    # The webhook's own messages go to a queue nobody reads; the worker gets copies.
    sent = send_now(plan, interleaved_requests(persons, 1, seed=88))
    rng = random.Random(8)
    sent += send_now(plan, [make_request(persons[0], 1, rng, fault="in-flight")])
    event_ids = [request.event_id or "" for request in sent]
    stack.publish(event_ids[:-1], queue="held", countdown=60)
    stack.publish(event_ids[-1:], queue="held")
    stack.wait_for_events(event_ids[-1:], lambda state: state.attempts >= 1)
    stack.servers.redis.stop()
    time.sleep(2)
    stack.servers.redis.start()
    recovered = time.monotonic()
    reconnected = wait_until(lambda: worker.log().count("Connected to") >= 2, timeout=30)
    assert worker.alive() and reconnected, worker.log()[-3000:]
    stack.publish(event_ids[:-1], queue="held")
    stack.wait_for_events(event_ids, lambda state: state.terminal)

    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={
            "broker_down_seconds": 2.0,
            "messages_held_unacknowledged": len(sent) - 1,
            "tasks_in_flight": 1,
        },
        worker_survived=worker.alive(),
        drain_after_recovery_seconds=round(time.monotonic() - recovered, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert worker.alive() and "Unrecoverable error" not in worker.log()
    assert len(stack.injected("pause_after_lock")) == 1
