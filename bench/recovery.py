"""Recovery: the worker is SIGKILLed mid-run and restarted; seconds from the kill to the last done.

N events (70% new persons, 30% updates) are posted with the Procfile's web, worker and beat
running and the shipped settings (a 15 s sweep, a 5 s lease renewed while the worker lives, and
the sweep each worker asks for one lease after its start).
Once a quarter of them are done, at a moment the worker holds some, the whole worker process
group is killed with SIGKILL and a new worker is started. Reported: the events the dead worker
held (``processing`` at the kill), the seconds from the kill to the last of those done, and to
the last event of the run done.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from bench.events import status_counts, wait_until_terminal
from bench.load import BodySource, Target, post_in_order
from bench.payloads import create_tenant
from bench.stack import Servers, create_database, service_env, start_stack, start_worker


@dataclass
class RecoveryPlan:
    """How many events, and when the worker is killed."""

    events: int = 2000
    clients: int = 2
    kill_after_done_share: float = 0.25
    drain_timeout_s: float = 600.0


def _held(database_url: str, organization_id: int) -> list[str]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT id::text FROM ingestion_events WHERE organization_id = %s"
            " AND status = 'processing'",
            (organization_id,),
        ).fetchall()
    return [row[0] for row in rows]


def _last_done(database_url: str, event_ids: list[str]) -> float | None:
    if not event_ids:
        return None
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT extract(epoch FROM max(processed_time))"
            " FROM ingestion_events WHERE id = ANY(%s::uuid[])",
            (event_ids,),
        ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def _wait_for_work_in_hand(
    database_url: str, organization_id: int, done: int, timeout: float
) -> None:
    """Wait until ``done`` events are done and the worker holds some: the moment to kill it."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as connection:
        while True:
            counts = status_counts(connection, organization_id)
            if counts.get("done", 0) >= done and counts.get("processing", 0) > 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"no events in hand after {done} done within {timeout:.0f} s")
            time.sleep(0.005)


def run(servers: Servers, plan: RecoveryPlan) -> dict[str, Any]:
    """Post ``plan.events``, SIGKILL the worker once a share is done, restart it, time the rest."""
    database = create_database(servers, "recovery")
    try:
        tenant = create_tenant(database.sqlalchemy_url)
        stack = start_stack(database, servers)
        try:
            assert stack.web is not None and stack.worker is not None
            bodies = BodySource(count=plan.events, update_share=0.3, run_tag="recovery").bodies()
            shares = [bodies[n :: plan.clients] for n in range(plan.clients)]
            target = Target.at(stack.web.url, tenant.upsert_path, tenant.token)
            posting = threading.Thread(target=post_in_order, args=(target, shares), daemon=True)
            posting.start()
            _wait_for_work_in_hand(
                database.url,
                tenant.organization_id,
                int(plan.events * plan.kill_after_done_share),
                plan.drain_timeout_s,
            )
            killed_at = time.time()
            os.killpg(stack.worker.pid, signal.SIGKILL)
            stack.worker.process.wait()
            held = _held(database.url, tenant.organization_id)
            restart_started = time.monotonic()
            stack.worker = start_worker(service_env(database.url, servers.redis_url))
            restart_s = time.monotonic() - restart_started
            posting.join(plan.drain_timeout_s)
            completion = wait_until_terminal(
                database.url, tenant.organization_id, plan.events, plan.drain_timeout_s
            )
            held_done = _last_done(database.url, held)
        finally:
            stack.stop()
    finally:
        database.drop()
    last = completion.last_processed
    return {
        "events": plan.events,
        "by_status": completion.by_status,
        "complete": completion.complete,
        "held_at_kill": len(held),
        "worker_restart_s": round(restart_s, 1),
        "kill_to_held_done_s": None if held_done is None else round(held_done - killed_at, 1),
        "kill_to_last_done_s": None if last is None else round(last - killed_at, 1),
    }
