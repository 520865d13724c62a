"""A replay job whose worker is SIGKILLed mid-job is finished by starting the same filter again.

The events the dead worker had set back to queued (or was processing) no longer match a
failed/dead filter: the sweeper recovers them (I1), and the second job replays only the rest.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead
from models.enums import EventAction, EventStatus
from tests.faults.conftest import FaultStack, kill_worker_and_child
from tests.support.factories import make_events_in_bulk
from tests.support.invariants import engine_for, wait_for_drain
from worker.replay_jobs import CHUNK_SIZE

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

EVENTS = CHUNK_SIZE * 15


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
        assert time.monotonic() < deadline, f"replay job not there after {timeout} s: {job}"
        time.sleep(0.1)


def test_a_replay_whose_worker_died_finishes_when_started_again(stack: FaultStack) -> None:
    tenant = stack.tenant()
    engine = engine_for(stack.database_url)
    bodies = [{"phone_number": f"+1202555{n:04d}"} for n in range(EVENTS)]
    with Session(engine) as session:
        make_events_in_bulk(session, tenant, bodies, status=EventStatus.dead, attempts=8)
        session.commit()
    web = stack.web(workers=1)
    stack.beat()
    worker = stack.worker("replay-0", concurrency=1)
    headers = {"Authorization": f"Token {tenant.token}"}
    replay = {"filter": {"config": str(tenant.config_id)}}
    with httpx.Client(base_url=web.extra["url"], headers=headers, timeout=30) as client:
        first = client.post("/api/replays/", json=replay).json()
        assert first["total"] == EVENTS
        _wait(client, first["id"], lambda job: job["done"] >= CHUNK_SIZE, timeout=120)

        kill_worker_and_child(worker)

        stopped = _job(client, first["id"])
        assert stopped["status"] == "running" and stopped["done"] < EVENTS
        stack.worker("replay-1", concurrency=1)
        second = client.post("/api/replays/", json=replay).json()
        assert 0 < second["total"] <= EVENTS - stopped["done"]
        finished = _wait(client, second["id"], lambda job: job["status"] != "running", 300)
    assert finished["status"] == "done"
    assert finished["done"] == second["total"]
    # The killed chunk's events went back to the inbox's usual recovery, not to either job.
    wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)
    with Session(engine) as session:
        statuses = dict(
            session.execute(
                select(IngestionEvent.action, func.count())
                .where(IngestionEvent.config_id == tenant.config_id)
                .group_by(IngestionEvent.action)
            ).all()
        )
        leads = session.scalar(
            select(func.count()).where(Lead.organization_id == tenant.organization_id)
        )
    engine.dispose()
    # Every event applied once: each created its own lead, none created a second.
    assert statuses == {EventAction.created: EVENTS}
    assert leads == EVENTS
