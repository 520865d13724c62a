"""B8's measured reads and claims, each through the project's own code, in a spawned process.

- the claim: ``worker.ingest.claims.claim_events`` on a fresh event, with the worker's batch
  size, lease and attempts settings (the named event plus up to 31 fresh ones of its config);
- the sweep: ``worker.sweeper.claim_due_events`` with the sweeper's settings, and the configs
  it wakes again (``worker.wakeups.stalled_configs``);
- the events list and one event's read: the views ``list_events`` and ``get_event`` of
  ``webhook/views/events.py`` called in a request context of the real app (no HTTP, no routing:
  the query is written inside the view, so calling the view is what keeps it the API's query;
  the token's lookup is cached after the first call, as in a running web process).

Claims and sweeps write, so each runs in a transaction rolled back after it: the fresh events
stay fresh for the next repetition. The process's environment names the B8 database, so the
settings, the engine options (custom plans) and the app are the ones a deployment gets.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.inbox_load import LEAF_RELATIONS
from bench.load import percentile

TARGET_P99_MS = 20.0
LIST_PATH = "/api/ingestion-events/"


@dataclass(frozen=True)
class Probe:
    """What the measuring process needs to know about the database it measures."""

    database_url: str
    redis_url: str
    sqlalchemy_url: str
    token: str
    built: str  # ISO time of the build: the data's "now"
    repeats: int
    warmup: int
    # A query slower than the target by far gives its p99 in fewer repetitions: each stops
    # after this long once it has MIN_REPEATS of them.
    max_seconds: float = 90.0
    seed: int = 8


MIN_REPEATS = 50
# Back to back, rolled-back sweeps would feed their own index 182 dead entries a time, where a
# real sweeper runs every 15 s and autovacuum keeps pace: the writing groups vacuum this often.
VACUUM_EVERY = 50


def timings(samples_ms: list[float], returned: list[int]) -> dict[str, Any]:
    """p50/p95/p99/max of the samples, whether p99 met the target, and what the calls returned."""
    p99 = percentile(samples_ms, 0.99)
    return {
        "repeats": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 0.50), 3),
        "p95_ms": round(percentile(samples_ms, 0.95), 3),
        "p99_ms": round(p99, 3),
        "max_ms": round(max(samples_ms, default=0.0), 3),
        "met": p99 < TARGET_P99_MS,
        "returned_min": min(returned, default=0),
        "returned_mean": round(sum(returned) / len(returned), 1) if returned else 0,
    }


def _timed(call: Callable[[], int], after: Callable[[], None], probe: Probe) -> dict[str, Any]:
    """Run ``call`` warm-up times, then ``repeats`` times timed; ``after`` untimed each time."""
    samples: list[float] = []
    returned: list[int] = []
    deadline = None
    for round_ in range(probe.warmup + probe.repeats):
        if round_ == probe.warmup:
            deadline = time.monotonic() + probe.max_seconds
        started = time.perf_counter()
        count = call()
        elapsed = (time.perf_counter() - started) * 1000
        after()
        if deadline is not None:
            samples.append(elapsed)
            returned.append(count)
            if len(samples) >= MIN_REPEATS and time.monotonic() > deadline:
                break
    return timings(samples, returned)


def rolled_back(session: Any, database_url: str) -> Callable[[], None]:
    """What follows a claim or a sweep: its rollback, and every VACUUM_EVERY times a vacuum."""
    calls = 0

    def after() -> None:
        nonlocal calls
        session.rollback()
        calls += 1
        if calls % VACUUM_EVERY == 0:
            vacuum_inbox(database_url)

    return after


def vacuum_inbox(database_url: str) -> float:
    """VACUUM the inbox with its indexes; the seconds it took."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM (INDEX_CLEANUP ON) ingestion_events")
    return round(time.perf_counter() - started, 1)


def list_filters(
    config_id: str, built: dt.datetime, email: str | None
) -> dict[str, dict[str, str]]:
    """The events-list queries measured, by name: each a set of query parameters."""
    since = (built - dt.timedelta(days=7)).isoformat()
    filters = {
        "list newest": {},
        "list status=failed": {"status": "failed"},
        "list config": {"config": config_id},
        "list since 7 days": {"since": since},
        "list config+status=failed": {"config": config_id, "status": "failed"},
    }
    if email is not None:
        filters["list payload_contains email"] = {
            "payload_contains": json.dumps({"contact": {"email": email}})
        }
    return filters


def measure(probe: Probe) -> dict[str, Any]:
    """Every B8 query's timings by name (``queries``), and what they were asked (``samples``)."""
    os.environ.update(DATABASE_URL=probe.database_url, REDIS_URL=probe.redis_url)
    os.environ.pop("CELERY_BROKER_URL", None)
    import logging

    from common.settings import get_settings
    from models.db import get_sessionmaker
    from webhook.app import create_app
    from webhook.views.events import get_event, list_events
    from worker.ingest.claims import claim_events
    from worker.sweeper import claim_due_events
    from worker.wakeups import stalled_configs

    logging.disable(logging.INFO)
    settings = get_settings()
    rng = random.Random(probe.seed)
    built = dt.datetime.fromisoformat(probe.built)
    session = get_sessionmaker(probe.sqlalchemy_url)()
    samples = _samples(session)
    session.rollback()
    results: dict[str, Any] = {}
    # A rolled-back claim or sweep still leaves its row versions behind, dead, with their index
    # entries. Vacuumed before each writing group, within it (rolled_back) and after the last,
    # every group meets the table autovacuum would leave, and a reused database starts the next
    # run as clean as a fresh one.
    vacuums = [vacuum_inbox(probe.database_url)]

    def claim() -> int:
        claims = claim_events(
            session, rng.choice(samples.fresh), settings.lease_seconds, settings.task_max_attempts,
            settings.batch_size,
        )  # fmt: skip
        return len(claims)

    results["claim"] = _timed(claim, rolled_back(session, probe.database_url), probe)
    vacuums.append(vacuum_inbox(probe.database_url))

    # The data's clock stopped at the build: the sweep runs at that moment, so a reused
    # database is due for the same events as a fresh one.
    pending_window = dt.timedelta(seconds=settings.wake_pending_seconds)

    def sweep() -> int:
        due = claim_due_events(session, settings.stuck_after_seconds, now=built)
        return len(due) + len(stalled_configs(session, built - pending_window))

    results["sweep"] = _timed(sweep, rolled_back(session, probe.database_url), probe)
    session.close()
    vacuums.append(vacuum_inbox(probe.database_url))

    app = create_app({"TESTING": True})
    headers = {"Authorization": f"Token {probe.token}"}

    def view_call(path: str, view: Callable[[], Any]) -> Callable[[], int]:
        def call() -> int:
            with app.test_request_context(path, headers=headers):
                answer = view()
                assert answer.status_code == 200, answer.get_data(as_text=True)
                body = answer.get_json()
            return len(body.get("results", [body]))

        return call

    for name, query in list_filters(samples.config_id, built, samples.email).items():
        path = f"{LIST_PATH}?{urlencode(query)}"
        results[name] = _timed(view_call(path, list_events), lambda: None, probe)
        if name == "list status=failed":
            second = _second_page(app, path, headers, list_events)
            if second is not None:
                page = _timed(view_call(second, list_events), lambda: None, probe)
                results["list status=failed page 2 (cursor)"] = page

    def read() -> int:
        event_id = str(rng.choice(samples.spread))
        return view_call(f"{LIST_PATH}{event_id}/", lambda: get_event(event_id))()

    results["read one event"] = _timed(read, lambda: None, probe)
    return {"queries": results, "samples": samples.described(), "vacuum_s": vacuums}


@dataclass(frozen=True)
class Samples:
    """Events to ask for: fresh ones to claim, ones from every month to read, a config, an email."""

    fresh: list[Any]
    spread: list[Any]
    config_id: str
    config_events: int
    email: str | None

    def described(self) -> dict[str, Any]:
        """How many events of each kind were there to ask for."""
        return {
            "fresh_events": len(self.fresh),
            "read_ids": len(self.spread),
            "list_config_events": self.config_events,
            "payload_email": self.email is not None,
        }


_FRESH = "SELECT id FROM ingestion_events WHERE status = 'queued' AND attempts = 0"
# Rows of random blocks across the whole table: ids of every month, in proportion.
_SPREAD = "SELECT id FROM ingestion_events TABLESAMPLE SYSTEM (%(pct)s) REPEATABLE (8)"
_CONFIG = "SELECT config_id FROM ingestion_events WHERE id = %(id)s"
_CONFIG_EVENTS = "SELECT count(*) FROM ingestion_events WHERE config_id = %(config)s"
_EMAILS = (
    "SELECT payload -> 'contact' ->> 'email' FROM ingestion_events"
    " WHERE id = ANY(%(ids)s) AND payload IS NOT NULL"
)
# The planner's row count is enough to size the sample; it is fresh after the build's ANALYZE.
_ESTIMATE = (
    f"SELECT sum(reltuples)::bigint FROM {LEAF_RELATIONS}"  # noqa: S608 - constants only
    " JOIN pg_class ON oid = relid"
)


def _samples(session: Any) -> Samples:
    def column(statement: str, **values: Any) -> list[Any]:
        return [row[0] for row in session.connection().exec_driver_sql(statement, values)]

    estimate = int(column(_ESTIMATE, table="ingestion_events")[0] or 0)
    spread = column(_SPREAD, pct=min(100.0, 3_000 * 100 / max(1, estimate)))
    emails = column(_EMAILS, ids=spread[:50])
    config_id = column(_CONFIG, id=spread[0])[0]
    return Samples(
        fresh=column(_FRESH),
        spread=spread,
        config_id=str(config_id),
        config_events=column(_CONFIG_EVENTS, config=config_id)[0],
        email=emails[0] if emails else None,
    )


def _second_page(
    app: Any, path: str, headers: dict[str, str], view: Callable[[], Any]
) -> str | None:
    """The path of the page after the first, by the cursor the first page's ``next`` gives."""
    with app.test_request_context(path, headers=headers):
        following = view().get_json()["next"]
    if following is None:
        return None
    parts = urlsplit(following)
    cursor = parse_qs(parts.query)["cursor"][0]
    query = {**{k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}, "cursor": cursor}
    return f"{parts.path}?{urlencode(query)}"
