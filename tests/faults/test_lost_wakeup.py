"""Wake-ups: one message per config while one is pending, and nothing lost when it is dropped.

The web sends one wake-up for a burst of events of a config; the worker drains the config's
fresh events batch by batch, waking itself again while more wait. When the wake-up is lost
(here: purged from the broker before any worker runs), the sweeper still completes every
event (I1), and wakes the config again at its next run rather than when each event's own check
comes due.
"""

from __future__ import annotations

import random

import pytest
from celery import Celery

from tests.faults.conftest import FaultStack, ScenarioReport
from tests.support.invariants import Person, SentRequest, check_invariants, wait_for_drain
from tests.support.load import LoadPlan, send_now
from tests.support.workload import make_person, make_request

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

EVENTS = 10


def _purge(stack: FaultStack, queue: str) -> int:
    """Drop every message waiting in ``queue``; how many there were."""
    client = Celery("fault-test", broker=stack.servers.redis.url)
    try:
        with client.connection_for_write() as connection:
            purged: int = connection.default_channel.queue_purge(queue) or 0
    finally:
        client.close()
    return purged


def _people(tag: str) -> tuple[list[Person], list[SentRequest]]:
    persons = [make_person(tag, index) for index in range(EVENTS)]
    rng = random.Random(12)
    return persons, [make_request(person, 0, rng) for person in persons]


def _lose_the_wakeup_then_drain(
    stack: FaultStack,
    scenario_report: ScenarioReport,
    tag: str,
    timings: dict[str, str],
    web_timings: dict[str, str],
    timeout: float,
) -> None:
    """Post a burst, drop its one wake-up, start a worker and beat, and check every event done."""
    tenant = stack.tenant()
    persons, requests = _people(tag)
    # The web alone first: the burst's messages wait in the broker, where the test can see them.
    web = stack.web(workers=1, **timings, **web_timings)
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token)
    sent = send_now(plan, requests)
    assert all(request.accepted for request in sent)
    # Ten events of one config, posted within the pending window: one wake-up between them.
    assert _purge(stack, "ingest") == 1
    stack.worker(f"lost-wakeup-{tag}", concurrency=2, **timings)
    stack.beat(**timings)
    drained = wait_for_drain(stack.database_url, tenant.organization_id, timeout=timeout)
    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    scenario_report.figures.update(
        events_sent=len(sent), wakeups_dropped=1, drain_seconds=round(drained, 1)
    )
    assert verdict.ok, verdict.violations


def test_a_lost_wakeup_is_covered_by_the_sweeper(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    # The web's wake-up stays pending longer than the test, so no sweep may send another: only
    # the sweeper's check of each event (3 s after receipt in this suite) can finish them.
    pending = {"LEADGATE_WAKE_PENDING_SECONDS": "600"}
    _lose_the_wakeup_then_drain(stack, scenario_report, "W", {}, pending, timeout=90)


def test_a_lost_wakeup_is_sent_again_by_the_next_sweep(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    # Each event's own check is two minutes away, as shipped; a wake-up's mark lasts a second, and
    # nothing is posted after the burst: only the sweep's new wake-up can drain it sooner. The
    # drain must end well inside those two minutes.
    timings = {
        "LEADGATE_STUCK_AFTER_SECONDS": "120",
        "LEADGATE_WAKE_PENDING_SECONDS": "1",
        "LEADGATE_SWEEP_INTERVAL_SECONDS": "2",
    }
    _lose_the_wakeup_then_drain(stack, scenario_report, "X", timings, {}, timeout=60)


def test_one_wakeup_drains_a_backlog_in_batches_without_the_sweeper(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons, requests = _people("V")
    web = stack.web(workers=1)
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token)
    sent = send_now(plan, requests)
    # No beat, so no sweeper: the wake-up and the ones the worker sends itself do all the work,
    # three events per batch.
    stack.worker("drain-by-wakeups", concurrency=1, LEADGATE_BATCH_SIZE="3")
    drained = wait_for_drain(stack.database_url, tenant.organization_id, timeout=90)
    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    scenario_report.figures.update(events_sent=len(sent), drain_seconds=round(drained, 1))
    assert verdict.ok, verdict.violations
