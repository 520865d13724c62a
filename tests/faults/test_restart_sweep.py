"""Scenario: a worker holding events is SIGKILLed and a new one starts; no beat runs at all.

A supervisor restarting a crashed worker is the common way a worker comes back. The new worker
asks for one sweep a lease after its start (``worker.celery_app.request_start_sweep``), so the
dead worker's events are handed on then, not at beat's next tick. With beat stopped, that sweep
is the only one: without it the held events would stay ``processing`` for good and the test
fails at its deadline.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import FaultStack, ScenarioReport, kill_worker_and_child, post_and_hold

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

EVENTS = 12
LEASE_SECONDS = 3.0
TIMINGS = {
    # Long enough that nothing but the start sweep can hand the events on within the test.
    "LEADGATE_STUCK_AFTER_SECONDS": "600",
    "LEADGATE_LEASE_SECONDS": str(LEASE_SECONDS),
    "LEADGATE_SWEEP_INTERVAL_SECONDS": "600",
    # The paused worker's identity locks run out before the new worker needs them.
    "LEADGATE_LOCK_TTL_SECONDS": "2",
}
# A worker's start (a few seconds on a busy machine), its sweep one lease and a second later,
# and processing twelve events; far below the ten minutes of the next sweep without it.
DEADLINE_SECONDS = 90.0


def test_a_restarted_worker_hands_on_the_dead_workers_events_without_beat(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    held = post_and_hold(stack, "S", EVENTS, 21, web_workers=1, **TIMINGS)
    event_ids = held.event_ids
    # Two leases on, the heartbeat still renews the holder's lease. (The holder reads only the
    # ingest queue: its own start sweep waits on the maintenance queue for the next worker.)
    time.sleep(2 * LEASE_SECONDS)
    assert {state.status for state in stack.events(event_ids).values()} == {"processing"}

    kill_worker_and_child(held.holder)
    killed_at = time.monotonic()
    stack.worker("restarted", concurrency=2, **TIMINGS)
    states = stack.wait_for_events(
        event_ids, lambda state: state.terminal, timeout=DEADLINE_SECONDS
    )
    recovered_s = time.monotonic() - killed_at

    held.assert_done_after_the_holder(
        stack,
        states,
        scenario_report,
        lease_seconds=LEASE_SECONDS,
        kill_to_all_done_seconds=round(recovered_s, 1),
    )
