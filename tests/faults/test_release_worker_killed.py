"""A release whose worker is SIGKILLed mid-job is taken over by releasing again; none is lost.

The chunk the dead worker was on is left queued (or processing under a lease that runs out): the
sweeper sends those events on, their config is still held so they are parked again, and the job
that takes over walks them with the rest. Every held event reaches a terminal state once (I1).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Lead
from models.enums import EventAction, EventStatus
from tests.faults.conftest import FAST_RECOVERY, FaultStack, kill_worker_and_child
from tests.support.factories import make_events_in_bulk
from tests.support.invariants import engine_for, wait_for_drain
from worker.replay_jobs import CHUNK_SIZE

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

EVENTS = CHUNK_SIZE * 6


def _job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/replays/{job_id}/")
    assert answer.status_code == 200, answer.text
    job: dict[str, Any] = answer.json()
    return job


def _wait(client: httpx.Client, job_id: str, until: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = _job(client, job_id)
        if until(job):
            return job
        assert time.monotonic() < deadline, f"release job not there after {timeout} s: {job}"
        time.sleep(0.1)


def _release(client: httpx.Client, config_id: str) -> dict[str, Any]:
    answer = client.post(f"/api/ingestion-configs/{config_id}/release/")
    assert answer.status_code == 202, answer.text
    job: dict[str, Any] = answer.json()
    return job


def test_a_release_whose_worker_died_is_taken_over_and_every_event_ends_once(
    stack: FaultStack,
) -> None:
    tenant = stack.tenant(held=True, held_reason="manual")
    engine = engine_for(stack.database_url)
    bodies = [{"phone_number": f"+1202555{n:04d}"} for n in range(EVENTS)]
    with Session(engine) as session:
        make_events_in_bulk(session, tenant, bodies, status=EventStatus.held)
        session.commit()
    web = stack.web(workers=1)
    stack.beat()
    worker = stack.worker("release-0", concurrency=1)
    headers = {"Authorization": f"Token {tenant.token}"}
    config_id = str(tenant.config_id)
    with httpx.Client(base_url=web.extra["url"], headers=headers, timeout=30) as client:
        first = _release(client, config_id)
        assert first["total"] == EVENTS
        _wait(client, first["id"], lambda job: job["done"] >= CHUNK_SIZE, timeout=120)

        kill_worker_and_child(worker)

        stopped = _job(client, first["id"])
        assert stopped["status"] == "running" and stopped["done"] < EVENTS
        stack.worker("release-1", concurrency=1)
        # Once it has not moved for the stuck interval, a new job takes over.
        time.sleep(float(FAST_RECOVERY["LEADGATE_STUCK_AFTER_SECONDS"]) + 1)
        second = _release(client, config_id)
        assert second["id"] != first["id"]
        finished = _wait(client, second["id"], lambda job: job["status"] != "running", 300)
        abandoned = _job(client, first["id"])
    assert finished["status"] == "done", finished
    assert abandoned["status"] == "failed" and "taken over" in abandoned["error"]
    wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)
    with Session(engine) as session:
        outcomes = dict(
            session.execute(
                select(IngestionEvent.status, func.count())
                .where(IngestionEvent.config_id == tenant.config_id)
                .group_by(IngestionEvent.status)
            ).all()
        )
        actions = dict(
            session.execute(
                select(IngestionEvent.action, func.count())
                .where(IngestionEvent.config_id == tenant.config_id)
                .group_by(IngestionEvent.action)
            ).all()
        )
        leads = session.scalar(
            select(func.count()).where(Lead.organization_id == tenant.organization_id)
        )
        held = session.get_one(IngestionConfig, tenant.config_id).held
    engine.dispose()
    # Every event applied once: each created its own lead, none a second; nothing still held.
    assert outcomes == {EventStatus.done: EVENTS}
    assert actions == {EventAction.created: EVENTS}
    assert leads == EVENTS
    assert held is False
