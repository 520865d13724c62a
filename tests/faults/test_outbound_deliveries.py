"""Scenario: lead webhooks while the worker is SIGKILLed and the receiver is down for a while.

Afterwards every lead change was delivered at least once, each ``webhook-id`` always with the
same body, per-lead order held, and no change was lost or queued twice.
"""

from __future__ import annotations

import time

import pytest

from models.webhook import WebhookTrigger
from tests.faults.conftest import FaultStack, ScenarioReport, kill_worker_and_child
from tests.support.factories import make_webhook
from tests.support.invariants import check_invariants, session_on, wait_for_drain
from tests.support.load import BackgroundLoad, LoadPlan
from tests.support.outbound_invariants import check_deliveries, wait_for_deliveries
from tests.support.receiver import running_receiver
from tests.support.workload import interleaved_requests, make_person

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PERSONS = 40
PER_PERSON = 5
KILLS = 2
OUTBOUND = {
    "LEADGATE_WEBHOOK_ALLOW_PRIVATE": "true",
    # Quick retries, and enough of them to outlast the receiver's outage.
    "LEADGATE_WEBHOOK_RETRY_SCHEDULE": ",".join(["0"] + ["0.5"] * 200),
}
QUEUES = "ingest,maintenance,outbound"


def test_deliveries_survive_killed_workers_and_a_receiver_outage(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    with running_receiver() as receiver:
        with session_on(stack.database_url) as session:
            for trigger in (
                WebhookTrigger.LEAD_CREATED,
                WebhookTrigger.LEAD_UPDATED,
                WebhookTrigger.LEAD_REENGAGEMENT,
            ):
                hook = make_webhook(
                    session, tenant.organization_id, f"{receiver.url}/{trigger.value}",
                    trigger=trigger,
                )  # fmt: skip
                receiver.secrets.append(hook.secret)
            session.commit()
        # The receiver is down (500 on everything) until the worker has been killed twice
        # while sending to it.
        receiver.down_until = float("inf")
        persons = [make_person("W", index) for index in range(PERSONS)]
        requests = interleaved_requests(persons, PER_PERSON, seed=3)
        web = stack.web(workers=2, **OUTBOUND)
        stack.beat(**OUTBOUND)
        worker = stack.worker("outbound-0", concurrency=3, queues=QUEUES, **OUTBOUND)
        plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token, per_process_rate=10)
        load = BackgroundLoad(plan, requests)

        killed: list[int] = []
        for kill in range(1, KILLS + 1):
            # Kill it in the middle of sending (and of ingesting: the load is still going).
            receiver.wait_for(len(receiver.received) + 10, timeout=120)
            killed += kill_worker_and_child(worker)
            worker = stack.worker(f"outbound-{kill}", concurrency=3, queues=QUEUES, **OUTBOUND)
        receiver.wait_for(len(receiver.received) + 10, timeout=120)
        refused_during_outage = len(receiver.received)
        receiver.down_until = 0.0  # the receiver is back
        recovered = time.monotonic()
        sent = load.result(timeout=300)
        wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)
        wait_for_deliveries(stack.database_url, tenant.organization_id, timeout=120)
        delivered_after = time.monotonic() - recovered

        verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
        outbound = check_deliveries(stack.database_url, tenant.organization_id, receiver.received)
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={"sigkill_rounds": KILLS, "processes_killed": len(killed)},
        outbound=outbound.counts,
        refused_during_outage=refused_during_outage,
        cut_short_by_a_kill=receiver.cut_short,
        delivered_after_recovery_seconds=round(delivered_after, 1),
    )
    scenario_report.save(outbound)
    verdict.assert_ok()
    outbound.assert_ok()
    # Not vacuous: every person's new lead was delivered, and lead updates were delivered too.
    # How many of the later events change their lead depends on the order the kills leave them
    # in (one applied after a newer event of its person fills only what is empty: 129 to 200
    # deliveries for the 200 events in runs here), so no fixed share of them is promised.
    assert outbound.counts["deliveries"] > PERSONS
    assert receiver.requests_to(f"/{WebhookTrigger.LEAD_CREATED.value}")
    assert receiver.requests_to(f"/{WebhookTrigger.LEAD_UPDATED.value}")
