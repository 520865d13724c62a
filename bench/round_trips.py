"""Round trips per event: the webhook and the worker run in-process with counting clients.

Counts, per accepted request and per processed event: SQL statements sent, transaction commands
(BEGIN, COMMIT, ROLLBACK, SAVEPOINT) and Redis commands (a pipeline counts once). It runs in a
spawned process so the environment it sets never leaks into the harness.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any

from bench.payloads import person_payload


@contextmanager
def counting(counts: Counter[str]) -> Iterator[None]:
    """Count database and Redis round trips made by this process while the block runs."""
    import psycopg
    import redis.client
    from psycopg._connection_base import BaseConnection

    originals: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[label] += 1
            return original(*args, **kwargs)

        originals.append((owner, name, original))
        setattr(owner, name, counted)

    wrap(psycopg.Cursor, "execute", "db_statements")
    wrap(psycopg.Cursor, "executemany", "db_statements")
    # BEGIN, COMMIT and ROLLBACK go through this one private method in psycopg 3.
    wrap(BaseConnection, "_exec_command", "db_transaction_commands")
    wrap(redis.client.Redis, "execute_command", "redis_commands")
    wrap(redis.client.Pipeline, "execute", "redis_commands")
    try:
        yield
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)


def _per(counts: Counter[str], n: int) -> dict[str, float]:
    return {label: round(value / n, 2) for label, value in sorted(counts.items())}


def _measure(database_url: str, redis_url: str, events: int) -> dict[str, Any]:
    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url)
    os.environ.pop("CELERY_BROKER_URL", None)
    from bench.payloads import NESTED_MAPPING, create_tenant
    from common.settings import to_sqlalchemy_url
    from webhook.app import create_app
    from worker.celery_app import app as celery_app

    celery_app.loader.import_default_modules()
    process_event: Callable[[str], None] = celery_app.tasks["leadgate.process_event"]
    tenant = create_tenant(to_sqlalchemy_url(database_url), NESTED_MAPPING)
    client = create_app().test_client()
    # The app configures INFO logging; a line per event would drown the harness's output.
    logging.disable(logging.INFO)
    headers = {"Authorization": f"Token {tenant.token}"}
    tag = uuid.uuid4().hex[:6]

    def post(key: str, person: int, revision: int) -> str:
        answer = client.post(
            tenant.upsert_path, json=person_payload(key, person, revision, tag), headers=headers
        )
        assert answer.status_code == 202, answer.get_data(as_text=True)
        event_id: str = answer.get_json()["id"]
        return event_id

    # Warm the caches (token, config, compiled mapping, pools) before counting anything.
    process_event(post("warm", 9_000_000, 0))
    web: Counter[str] = Counter()
    with counting(web):
        created = [post(f"rt{n}", 8_000_000 + n, 0) for n in range(events)]
        updated = [post(f"rt{n}", 8_000_000 + n, 1) for n in range(events)]
    new_leads: Counter[str] = Counter()
    with counting(new_leads):
        for event_id in created:
            process_event(event_id)
    updates: Counter[str] = Counter()
    with counting(updates):
        for event_id in updated:
            process_event(event_id)
    return {
        "events": events,
        "web_per_request": _per(web, 2 * events),
        "worker_per_new_lead": _per(new_leads, events),
        "worker_per_update": _per(updates, events),
    }


def measure_round_trips(database_url: str, redis_url: str, events: int = 50) -> dict[str, Any]:
    """Post ``events`` new persons then an update of each, process them, count per event."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_measure, database_url, redis_url, events).result()
