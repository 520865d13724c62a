"""Group commit in the web: concurrent requests share one INSERT and one commit.

The in-process tests hold every request at a barrier after it announced itself, so the batch's
shape is certain; the HTTP test posts to a real gunicorn and looks at the rows' transaction ids.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from models.db import get_sessionmaker
from models.enums import Endpoint
from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess, start_web
from tests.support.services import ServiceUrls
from webhook.auth import EndpointConfig, load_config
from webhook.errors import ApiError
from webhook.group_commit import GroupCommitter, Ticket
from webhook.inbox import StoredEvent, store_event

pytestmark = pytest.mark.integration


def _database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _plain_url(engine: Engine) -> str:
    return _database_url(engine).replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def config(committed_session: Session) -> EndpointConfig:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    return load_config(committed_session, str(tenant.config_id))


def _stored(engine: Engine, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The transaction id (xmin) that inserted each stored event, read from a new connection."""
    with psycopg.connect(_plain_url(engine), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT id, xmin::text FROM ingestion_events WHERE id = ANY(%s)", (event_ids,)
        ).fetchall()
    return {row[0]: row[1] for row in rows}


def _run_together(
    engine: Engine, committer: GroupCommitter, jobs: list[Callable[[Session, Ticket], StoredEvent]]
) -> list[StoredEvent | BaseException]:
    """Run each job in its own thread and autocommit session, all announced before any inserts.

    Each result is checked on return: a stored event must already be visible to another
    connection, i.e. committed before the request could answer.
    """
    factory = get_sessionmaker(_database_url(engine), autocommit=True)
    announced = threading.Barrier(len(jobs))

    def run(job: Callable[[Session, Ticket], StoredEvent]) -> StoredEvent | BaseException:
        with factory() as session, committer.arriving() as ticket:
            announced.wait(timeout=30)
            try:
                stored = job(session, ticket)
            except ApiError as error:
                return error
            assert stored.event_id in _stored(engine, [stored.event_id]), "answered before commit"
            return stored

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def _post(
    config: EndpointConfig, body: bytes, key: str | None = None
) -> Callable[..., StoredEvent]:
    def job(session: Session, ticket: Ticket) -> StoredEvent:
        return store_event(
            session, config, Endpoint.upsert, body, "application/json", "", key, ticket=ticket
        )

    return job


def test_concurrent_requests_share_one_insert_and_one_commit(
    engine: Engine, config: EndpointConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[tuple[uuid.UUID, uuid.UUID]] = []
    monkeypatch.setattr(
        "webhook.inbox.wake_config", lambda config_id, event_id: woken.append((config_id, event_id))
    )
    committer = GroupCommitter(window_s=20, max_rows=16)
    jobs = [_post(config, json.dumps({"n": n}).encode()) for n in range(4)]
    results = _run_together(engine, committer, jobs)
    stored = [result for result in results if isinstance(result, StoredEvent)]
    assert len(stored) == 4 and all(event.created for event in stored)
    assert len({event.event_id for event in stored}) == 4
    assert all(event.event_id.version == 7 for event in stored)  # time-ordered ids
    transactions = _stored(engine, [event.event_id for event in stored])
    assert len(transactions) == 4
    assert len(set(transactions.values())) == 1, transactions
    assert (committer.stats.batches, committer.stats.rows) == (1, 4)
    # One wake-up for the batch, naming one of its events, sent after everyone's commit.
    assert len(woken) == 1 and woken[0][0] == config.id
    assert woken[0][1] in {event.event_id for event in stored}
    assert all(event.woken for event in stored)


def test_a_full_batch_goes_without_waiting_for_the_window(
    engine: Engine, config: EndpointConfig
) -> None:
    committer = GroupCommitter(window_s=600, max_rows=2)
    results = _run_together(engine, committer, [_post(config, b'{"n": 1}') for _ in range(4)])
    assert all(isinstance(result, StoredEvent) for result in results)
    assert committer.stats.batches == 2 and committer.stats.largest == 2


def test_a_failed_batch_fails_only_its_own_requests(engine: Engine, config: EndpointConfig) -> None:
    committer = GroupCommitter(window_s=20, max_rows=2)
    # A config that does not exist breaks the INSERT's foreign key: its whole batch fails.
    missing = replace(config, id=uuid.uuid4())
    failed = _run_together(
        engine, committer, [_post(config, b'{"batch": "a"}'), _post(missing, b'{"batch": "a"}')]
    )
    assert all(isinstance(result, ApiError) for result in failed), failed
    for error in failed:
        assert isinstance(error, ApiError)
        assert error.status == 503 and error.headers["Retry-After"]
    passed = _run_together(engine, committer, [_post(config, b'{"batch": "b"}')] * 2)
    assert all(isinstance(result, StoredEvent) for result in passed)
    with psycopg.connect(_plain_url(engine), autocommit=True) as connection:
        bodies = connection.execute(
            "SELECT raw_body FROM ingestion_events WHERE config_id = %s", (config.id,)
        ).fetchall()
    assert sorted(bytes(row[0]) for row in bodies) == [b'{"batch": "b"}'] * 2


def test_one_idempotency_key_twice_in_a_batch_stores_one_event(
    engine: Engine, config: EndpointConfig
) -> None:
    committer = GroupCommitter(window_s=20, max_rows=8)
    jobs = [_post(config, b'{"same": 1}', key="k-1") for _ in range(3)]
    results = _run_together(engine, committer, jobs)
    stored = [result for result in results if isinstance(result, StoredEvent)]
    assert len(stored) == 3
    assert len({event.event_id for event in stored}) == 1
    assert sorted(event.created for event in stored) == [False, False, True]
    assert committer.stats.batches == 1


def test_a_request_that_leaves_early_does_not_hold_the_batch(
    engine: Engine, config: EndpointConfig
) -> None:
    committer = GroupCommitter(window_s=600, max_rows=8)
    factory = get_sessionmaker(_database_url(engine), autocommit=True)
    with committer.arriving():
        pass  # say, refused by authentication before reaching the door
    with factory() as session, committer.arriving() as ticket:
        stored = _post(config, b"{}")(session, ticket)
    assert stored.created and committer.stats.batches == 1


@pytest.fixture(scope="module")
def one_web_process(services: ServiceUrls) -> Iterator[ServiceProcess]:
    # One process with the Procfile's threads, and a window wide enough to see sharing.
    web = start_web({**services.env(), "LEADGATE_GROUP_COMMIT_WINDOW_MS": "50"}, workers=1)
    yield web
    web.stop()


def test_concurrent_posts_to_one_web_process_share_commits(
    one_web_process: ServiceProcess, committed_session: Session, engine: Engine
) -> None:
    tenant: Tenant = make_tenant(committed_session)
    committed_session.commit()
    url = f"{one_web_process.extra['url']}/api/lead-ingestion/{tenant.config_id}/upsert/"

    def post(n: int) -> tuple[int, str]:
        request = urllib.request.Request(
            url,
            data=json.dumps({"lead": n}).encode(),
            headers={"Authorization": f"Token {tenant.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())["id"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(64)))
    assert {status for status, _ in answers} == {202}
    event_ids = [uuid.UUID(event_id) for _, event_id in answers]
    transactions = _stored(engine, event_ids)
    assert len(transactions) == 64
    assert len(set(transactions.values())) < 64, "no two requests shared a commit"
