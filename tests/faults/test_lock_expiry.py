"""Scenario 5: the Redis lock expires mid-task while another worker handles the same person.

The Redis lock lives 0.5 s; a worker pauses holding it, until the test has seen another worker
take the lock and handle a newer event for the same person. Two variants:

- the pause comes before the database transaction: the newer event creates the lead, and the
  older one, arriving late, is ``stale`` (it only fills what is empty);
- the pause comes inside the transaction, after the advisory locks: the newer event waits on
  them in the database and then updates the lead the older one created.

Either way: one lead per person, holding the newer values, and nothing of the older one lost.
"""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import text

from tests.faults.conftest import FaultStack, ScenarioReport
from tests.support.invariants import Person, SentRequest, check_invariants, engine_for
from tests.support.load import LoadPlan, send_now
from tests.support.servers import wait_until
from tests.support.workload import make_person, person_body

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PER_VARIANT = 4
VARIANTS = {"before-transaction": "stall-lock", "in-transaction": "stall-txn"}


def _first(person: Person, marker: str, rng: random.Random) -> SentRequest:
    body = person_body(person, rng, with_external_id=True)
    body.update(lead_source=f"{person.key}/first", fault=marker)
    return SentRequest(person.key, "upsert", body, checked={"lead_source": f"{person.key}/first"})


def _second(person: Person, rng: random.Random) -> SentRequest:
    # No email: the older event is the only one that brings it.
    body = person_body(person, rng, with_external_id=True)
    del body["email"]
    body.update(lead_source=f"{person.key}/second", metadata={"n": 2})
    return SentRequest(
        person.key,
        "upsert",
        body,
        checked={"lead_source": f"{person.key}/second", "metadata.n": 2},
    )


def advisory_lock_waits(database_url: str) -> int:
    """How many sessions wait for an advisory lock right now."""
    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            waits = connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
            return int(waits or 0)
    finally:
        engine.dispose()


def test_lock_expiring_mid_task_loses_no_update(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = {
        # Numbers run on across variants: a person's phone number comes from it.
        variant: [make_person(f"L{index}", index * PER_VARIANT + n) for n in range(PER_VARIANT)]
        for index, variant in enumerate(VARIANTS)
    }
    everyone = [person for group in persons.values() for person in group]
    for person in everyone:
        person.expected = {"email": person.identifiers["email"]}
    web = stack.web()
    # One event per attempt: the scenario stages one event's attempt against another's, which a
    # batch would fold into a single transaction (test_batches covers batches).
    short_lock = {
        "LEADGATE_LOCK_TTL_SECONDS": "0.5",
        "LEADGATE_STUCK_AFTER_SECONDS": "30",
        "LEADGATE_BATCH_SIZE": "1",
    }
    stack.worker(
        "slow",
        concurrency=len(everyone),
        queues="slow",
        faults="pause_after_lock:60@stall-lock;pause_in_transaction:60@stall-txn",
        **short_lock,
    )
    stack.worker("fast", concurrency=len(everyone), queues="fast", **short_lock)
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token)
    rng = random.Random(5)

    firsts = send_now(
        plan,
        [
            _first(person, marker, rng)
            for variant, marker in VARIANTS.items()
            for person in persons[variant]
        ],
    )
    first_ids = [request.event_id or "" for request in firsts]
    stack.publish(first_ids, queue="slow")
    stack.wait_for_events(first_ids, lambda state: state.attempts >= 1)
    time.sleep(1.0)  # the slow worker's locks have expired; it is still paused
    seconds = send_now(plan, [_second(person, rng) for person in everyone])
    second_ids = [request.event_id or "" for request in seconds]
    stack.publish(second_ids, queue="fast")
    # Paused before its transaction, the older event lets the newer one through at once ...
    locked_out = {person.key for person in persons["before-transaction"]}
    stack.wait_for_events(
        [request.event_id or "" for request in seconds if request.person in locked_out],
        lambda state: state.terminal,
    )
    stack.release("stall-lock")
    # ... paused inside it, it holds the advisory locks the newer one now waits on.
    waiting = wait_until(lambda: advisory_lock_waits(stack.database_url) >= PER_VARIANT, 30)
    stack.release("stall-txn")
    states = stack.wait_for_events(first_ids + second_ids, lambda state: state.terminal)

    sent = firsts + seconds
    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, everyone)

    def actions_of(requests: list[SentRequest], variant: str) -> list[str]:
        keys = {person.key for person in persons[variant]}
        return sorted(
            {
                states[request.event_id or ""].action or "-"
                for request in requests
                if request.person in keys
            }
        )

    actions = {
        variant: {"older": actions_of(firsts, variant), "newer": actions_of(seconds, variant)}
        for variant in VARIANTS
    }
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={
            "lock_ttl_seconds": 0.5,
            "paused_holding_an_expired_lock": len(stack.injected("pause_after_lock")),
            "paused_in_transaction": len(stack.injected("pause_in_transaction")),
        },
        actions=actions,
        newer_events_seen_waiting_on_advisory_locks=waiting,
        drain_after_recovery_seconds=None,
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert actions["before-transaction"] == {"older": ["stale"], "newer": ["created"]}
    assert actions["in-transaction"] == {"older": ["created"], "newer": ["updated"]}
    assert waiting
    assert len(stack.injected("pause_after_lock")) == PER_VARIANT
    assert len(stack.injected("pause_in_transaction")) == PER_VARIANT
