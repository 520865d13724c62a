"""Scenario: provider outcome callbacks while the worker is SIGKILLed and the receiver is down.

Afterwards every event that ended has exactly one callback (none lost, none sent as two
messages), reporting the state the event ended in, delivered signed, each ``webhook-id`` always
with the same body.
"""

from __future__ import annotations

import pytest

from models import IngestionConfig
from tests.faults.conftest import FaultStack, ScenarioReport, kill_worker_and_child
from tests.support.invariants import check_invariants, session_on, wait_for_drain
from tests.support.load import BackgroundLoad, LoadPlan
from tests.support.outbound_invariants import (
    check_callbacks,
    check_deliveries,
    wait_for_deliveries,
)
from tests.support.receiver import running_receiver
from tests.support.services import SESSION_SECRET_KEY
from tests.support.workload import interleaved_requests, make_person
from worker.callback_settings import CallbackOptions, apply_callback

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PERSONS = 30
PER_PERSON = 4
KILLS = 2
OUTBOUND = {
    "LEADGATE_WEBHOOK_ALLOW_PRIVATE": "true",
    "LEADGATE_SECRET_KEY": SESSION_SECRET_KEY,
    # Quick retries, and enough of them to outlast the receiver's outage.
    "LEADGATE_WEBHOOK_RETRY_SCHEDULE": ",".join(["0"] + ["0.5"] * 200),
}
QUEUES = "ingest,maintenance,outbound"


def _set_callback(stack: FaultStack, config_id: object, url: str) -> str:
    with session_on(stack.database_url) as session:
        config = session.get(IngestionConfig, config_id)
        assert config is not None
        options = CallbackOptions(url=url, secret_keys=(SESSION_SECRET_KEY,), allow_private=True)
        apply_callback(config, options)
        session.commit()
    assert options.issued_secret is not None
    return options.issued_secret


def test_callbacks_survive_killed_workers_and_a_receiver_outage(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    with running_receiver() as receiver:
        receiver.secrets.append(_set_callback(stack, tenant.config_id, receiver.url + "/outcomes"))
        receiver.down_until = float("inf")
        persons = [make_person("C", index) for index in range(PERSONS)]
        requests = interleaved_requests(persons, PER_PERSON, seed=5)
        web = stack.web(workers=2, **OUTBOUND)
        stack.beat(**OUTBOUND)
        worker = stack.worker("callbacks-0", concurrency=3, queues=QUEUES, **OUTBOUND)
        plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token, per_process_rate=10)
        load = BackgroundLoad(plan, requests)

        killed: list[int] = []
        for kill in range(1, KILLS + 1):
            # Kill it in the middle of sending callbacks (and of ingesting: the load goes on).
            receiver.wait_for(len(receiver.received) + 10, timeout=120)
            killed += kill_worker_and_child(worker)
            worker = stack.worker(f"callbacks-{kill}", concurrency=3, queues=QUEUES, **OUTBOUND)
        receiver.wait_for(len(receiver.received) + 10, timeout=120)
        receiver.down_until = 0.0  # the receiver is back
        sent = load.result(timeout=300)
        wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)
        wait_for_deliveries(stack.database_url, tenant.organization_id, timeout=120)

        verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
        outbound = check_deliveries(
            stack.database_url, tenant.organization_id, receiver.received, subscribed=False
        )
        callbacks = check_callbacks(stack.database_url, tenant.organization_id)
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={"sigkill_rounds": KILLS, "processes_killed": len(killed)},
        outbound=outbound.counts,
        callbacks=callbacks.counts,
        cut_short_by_a_kill=receiver.cut_short,
    )
    scenario_report.save(callbacks)
    verdict.assert_ok()
    outbound.assert_ok()
    callbacks.assert_ok()
    assert callbacks.counts["callbacks"] >= len(sent)  # not vacuous: one per event at least
    assert outbound.counts["resent"] > 0  # the outage and the kills made some go out again
