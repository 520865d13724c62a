"""B10 release: a held config's events run by the release job, against the usual processing.

2,000 nested payloads (three quarters new persons, a quarter updates of persons sent earlier)
wait in the inbox twice: as the held events of a held config, released by the release job in
this process (one event per claim and transaction, in receive order, then the hold lifted), and
as the queued events of a second config processed by the worker's attempt policy in receive
order with its usual batched claims. Both in a spawned process (the settings come from the
environment it sets), side by side in one run: ``release / usual`` is what strict order costs.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from bench.payloads import NESTED_MAPPING, create_tenant, person_payload
from bench.stack import Servers, create_database


@dataclass
class ReleasePlan:
    """How many events each run processes."""

    events: int = 2000


def _fill(
    sqlalchemy_url: str, config_id: uuid.UUID, organization_id: int, status: Any, n: int
) -> None:
    from sqlalchemy import create_engine, insert
    from sqlalchemy.orm import Session

    from models import IngestionEvent
    from models.enums import Endpoint

    updates = n // 4
    bodies = [person_payload(f"r{n}", k, 0, "b10") for k in range(n - updates)]
    bodies += [person_payload(f"r{n}", k, 1, "b10") for k in range(updates)]
    rows = [
        {
            "id": uuid.uuid4(),
            "config_id": config_id,
            "organization_id": organization_id,
            "endpoint": Endpoint.upsert,
            "content_type": "application/json",
            "raw_body": json.dumps(body).encode(),
            "body_sha256": "0" * 64,
            "status": status,
        }
        for body in bodies
    ]
    engine = create_engine(sqlalchemy_url)
    with Session(engine) as session:
        session.execute(insert(IngestionEvent), rows)
        session.commit()
    engine.dispose()


def _measure(database_url: str, redis_url: str, sqlalchemy_url: str, events: int) -> dict[str, Any]:
    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url)
    os.environ.pop("CELERY_BROKER_URL", None)
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.orm import Session

    from models import IngestionConfig, IngestionEvent
    from models.enums import EventStatus
    from worker.attempts import attempt_event
    from worker.configs import Author
    from worker.release_jobs import advance_release_job, start_release

    logging.disable(logging.INFO)
    held = create_tenant(sqlalchemy_url, NESTED_MAPPING)
    usual = create_tenant(sqlalchemy_url, NESTED_MAPPING)
    engine = create_engine(sqlalchemy_url)
    with Session(engine) as session:
        session.get_one(IngestionConfig, held.config_id).held = True
        session.commit()
    _fill(sqlalchemy_url, held.config_id, held.organization_id, EventStatus.held, events)
    _fill(sqlalchemy_url, usual.config_id, usual.organization_id, EventStatus.queued, events)

    def done(config_id: uuid.UUID) -> int:
        with Session(engine) as session:
            statement = select(func.count()).where(
                IngestionEvent.config_id == config_id, IngestionEvent.status == EventStatus.done
            )
            return session.scalar(statement) or 0

    with Session(engine) as session:
        config = session.get_one(IngestionConfig, held.config_id, with_for_update=True)
        job, _ = start_release(session, config, Author("bench"), abandoned_after_seconds=600)
        job_id = job.id
        session.commit()
    started = time.perf_counter()
    while advance_release_job(job_id, lambda *_: None, 600.0):
        pass
    release_s = time.perf_counter() - started

    with Session(engine) as session:
        ids = session.scalars(
            select(IngestionEvent.id)
            .where(IngestionEvent.config_id == usual.config_id)
            .order_by(IngestionEvent.seq)
        ).all()
    started = time.perf_counter()
    for event_id in ids:
        attempt_event(event_id)
    usual_s = time.perf_counter() - started
    result = {
        "events": events,
        "release_done": done(held.config_id),
        "usual_done": done(usual.config_id),
        "release_s": round(release_s, 2),
        "usual_s": round(usual_s, 2),
        "release_eps": round(events / release_s, 1),
        "usual_eps": round(events / usual_s, 1),
        "release_over_usual": round(release_s / usual_s, 2),
    }
    engine.dispose()
    return result


def run(servers: Servers, plan: ReleasePlan) -> dict[str, Any]:
    """Run B10 on a fresh database: the release's seconds and the usual processing's beside them."""
    database = create_database(servers, "b10")
    try:
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            return pool.submit(
                _measure, database.url, servers.redis_url, database.sqlalchemy_url, plan.events
            ).result()
    finally:
        database.drop()
