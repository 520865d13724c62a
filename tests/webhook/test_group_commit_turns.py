"""Group commit takes turns: one batch INSERT in flight per process, the next collecting behind it.

A gated runner wraps the inbox's real multi-row INSERT, so a test decides when the batch in
flight returns. Every request runs in its own thread and autocommit session against the test
database, and checks that its event was visible to another connection before it was answered.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from models.db import get_engine, get_sessionmaker
from models.enums import Endpoint
from tests.support.factories import make_tenant
from webhook import inbox
from webhook.auth import EndpointConfig, load_config
from webhook.errors import ApiError
from webhook.group_commit import BatchRunner, GroupCommitter, Ticket
from webhook.inbox import StoredEvent, store_event

pytestmark = pytest.mark.integration

Outcome = StoredEvent | ApiError


class GatedInserts:
    """Stands in for ``webhook.inbox._insert_batch``: logs each batch, holds the ones asked to."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.real = inbox._insert_batch
        self.delay_s = delay_s
        self.sizes: list[int] = []
        self.log: list[tuple[str, int]] = []
        self.gates: dict[int, threading.Event] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self._changed = threading.Condition()

    def hold(self, index: int) -> threading.Event:
        """Keep the ``index``-th batch (from 0) in flight until the returned event is set."""
        self.gates[index] = threading.Event()
        return self.gates[index]

    def wait_started(self, count: int) -> None:
        """Block until ``count`` batches have started."""
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.sizes) >= count, timeout=30)

    def __call__(self, session: Session) -> BatchRunner:
        run = self.real(session)

        def gated(rows: list[dict[str, object]]) -> set[object]:
            with self._changed:
                index = len(self.sizes)
                self.sizes.append(len(rows))
                self.log.append(("start", index))
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                self._changed.notify_all()
            if index in self.gates:
                assert self.gates[index].wait(timeout=30)
            time.sleep(self.delay_s)
            try:
                return run(rows)
            finally:
                with self._changed:
                    self.in_flight -= 1
                    self.log.append(("end", index))

        return gated


def _plain_url(engine: Engine) -> str:
    url = engine.url.render_as_string(hide_password=False)
    return url.replace("postgresql+psycopg://", "postgresql://")


def _stored(engine: Engine, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The transaction id (xmin) that inserted each stored event, read from a new connection."""
    with psycopg.connect(_plain_url(engine), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT id, xmin::text FROM ingestion_events WHERE id = ANY(%s)", (event_ids,)
        ).fetchall()
    return {row[0]: row[1] for row in rows}


def _until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class Requests:
    """Ingest requests, each in its own thread and autocommit session, on one committer."""

    def __init__(self, engine: Engine, committer: GroupCommitter) -> None:
        self.engine = engine
        self.committer = committer
        self.factory = get_sessionmaker(engine.url.render_as_string(hide_password=False), True)
        self.tickets: list[Ticket] = []
        self.pool = ThreadPoolExecutor(32)

    def post(
        self, config: EndpointConfig, body: bytes = b"{}", read_first: bool = False
    ) -> Future[Outcome]:
        """Start one request; its future is the stored event or the API error it answered."""
        return self.pool.submit(self.post_now, config, body, read_first)

    def posts(
        self, config: EndpointConfig, count: int, read_first: bool = False
    ) -> list[Future[Outcome]]:
        """Start ``count`` requests and return once each has joined a batch."""
        before = len(self.tickets)
        futures = [
            self.post(config, json.dumps({"n": n}).encode(), read_first) for n in range(count)
        ]
        _until(lambda: len(self.tickets) == before + count)
        _until(lambda: all(ticket.joined for ticket in self.tickets[before:]))
        return futures

    def post_now(
        self, config: EndpointConfig, body: bytes = b"{}", read_first: bool = False
    ) -> Outcome:
        """One request in the calling thread; ``read_first`` reads, as a cache miss would."""
        with self.factory() as session, self.committer.arriving() as ticket:
            self.tickets.append(ticket)
            if read_first:
                session.execute(text("SELECT 1"))
            try:
                stored = store_event(
                    session,
                    config,
                    Endpoint.upsert,
                    body,
                    "application/json",
                    "",
                    None,
                    ticket=ticket,
                )
            except ApiError as error:
                return error
            assert stored.event_id in _stored(self.engine, [stored.event_id]), "answered early"
            return stored


@pytest.fixture
def config(committed_session: Session) -> EndpointConfig:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    return load_config(committed_session, str(tenant.config_id))


@pytest.fixture
def inserts(monkeypatch: pytest.MonkeyPatch) -> GatedInserts:
    gated = GatedInserts()
    monkeypatch.setattr("webhook.inbox._insert_batch", gated)
    # Wake-ups are the broker's business; these tests are about the inserts.
    monkeypatch.setattr("webhook.inbox.wake_config", lambda config_id, event_id: None)
    return gated


@pytest.fixture
def threads(
    engine: Engine, inserts: GatedInserts
) -> Iterator[Callable[[GroupCommitter], Requests]]:
    made: list[Requests] = []

    def make(committer: GroupCommitter) -> Requests:
        made.append(Requests(engine, committer))
        return made[-1]

    yield make
    # A test that failed while a batch was held must not leave its threads waiting.
    for gate in inserts.gates.values():
        gate.set()
    for each in made:
        each.pool.shutdown(wait=True)


def _results(futures: list[Future[Outcome]]) -> list[Outcome]:
    return [future.result(timeout=30) for future in futures]


def test_arrivals_during_a_commit_join_the_next_batch_which_starts_after_it(
    engine: Engine,
    config: EndpointConfig,
    inserts: GatedInserts,
    threads: Callable[[GroupCommitter], Requests],
) -> None:
    committer = GroupCommitter(window_s=30, max_rows=16)
    made = threads(committer)
    release = inserts.hold(0)
    first = made.posts(config, 1)
    inserts.wait_started(1)
    # Batch 1 is in flight: these three join batch 2, whose leader waits for its turn.
    second = made.posts(config, 3)
    time.sleep(0.2)
    assert inserts.sizes == [1], "a second INSERT started while the first was in flight"
    assert not any(future.done() for future in first + second)
    release.set()
    stored = _results(first + second)
    assert all(isinstance(event, StoredEvent) and event.created for event in stored)
    assert inserts.sizes == [1, 3]
    assert inserts.log == [("start", 0), ("end", 0), ("start", 1), ("end", 1)]
    transactions = _stored(engine, [e.event_id for e in stored if isinstance(e, StoredEvent)])
    assert len(set(transactions.values())) == 2
    # Batch 2 followed batch 1 at once: it did not sit out its 30 s window.
    assert committer.stats.followed == 1


@pytest.mark.parametrize("failing", [0, 1], ids=["first batch fails", "second batch fails"])
def test_a_failed_batch_fails_only_its_own_members(
    engine: Engine,
    config: EndpointConfig,
    inserts: GatedInserts,
    threads: Callable[[GroupCommitter], Requests],
    failing: int,
) -> None:
    committer = GroupCommitter(window_s=30, max_rows=16)
    made = threads(committer)
    # A config that does not exist breaks the INSERT's foreign key: its whole batch fails.
    missing = replace(config, id=uuid.uuid4())
    release = inserts.hold(0)
    first = [made.post(missing if failing == 0 else config)]
    inserts.wait_started(1)
    second = [made.post(config), made.post(missing if failing == 1 else config)]
    _until(lambda: len(made.tickets) == 3 and all(ticket.joined for ticket in made.tickets))
    release.set()
    batches = [_results(first), _results(second)]
    assert inserts.sizes == [1, 2]
    for index, outcomes in enumerate(batches):
        if index == failing:
            for error in outcomes:
                assert isinstance(error, ApiError), error
                assert error.status == 503 and error.headers["Retry-After"]
        else:
            assert all(isinstance(event, StoredEvent) and event.created for event in outcomes)
    ok = [event.event_id for event in batches[1 - failing] if isinstance(event, StoredEvent)]
    assert len(_stored(engine, ok)) == len(batches[1 - failing])


def test_a_full_batch_waits_for_its_turn_behind_the_one_in_flight(
    config: EndpointConfig, inserts: GatedInserts, threads: Callable[[GroupCommitter], Requests]
) -> None:
    committer = GroupCommitter(window_s=30, max_rows=2)
    made = threads(committer)
    release = inserts.hold(0)
    futures = made.posts(config, 1)
    inserts.wait_started(1)
    futures += made.posts(config, 4)
    release.set()
    assert all(isinstance(event, StoredEvent) for event in _results(futures))
    assert inserts.sizes == [1, 2, 2]
    assert inserts.most_in_flight == 1
    assert [entry[1] for entry in inserts.log] == [0, 0, 1, 1, 2, 2]


def test_a_request_waiting_for_its_batch_holds_no_connection(
    engine: Engine,
    config: EndpointConfig,
    inserts: GatedInserts,
    threads: Callable[[GroupCommitter], Requests],
) -> None:
    # Web threads outnumber the pool: members holding connections could starve their leader.
    committer = GroupCommitter(window_s=30, max_rows=16)
    made = threads(committer)
    pool = get_engine(engine.url.render_as_string(hide_password=False), autocommit=True).pool
    release = inserts.hold(0)
    futures = made.posts(config, 1, read_first=True)
    inserts.wait_started(1)
    futures += made.posts(config, 4, read_first=True)
    # The four that read and then joined gave theirs back; the leader in flight takes one only
    # once the gate opens (it runs the INSERT then).
    assert pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's count
    release.set()
    assert all(isinstance(event, StoredEvent) for event in _results(futures))


def test_a_lone_request_is_not_delayed(
    config: EndpointConfig, inserts: GatedInserts, threads: Callable[[GroupCommitter], Requests]
) -> None:
    committer = GroupCommitter(window_s=30, max_rows=16)
    started = time.monotonic()
    stored = _results([threads(committer).post(config)])
    assert isinstance(stored[0], StoredEvent) and stored[0].created
    assert time.monotonic() - started < 5, "the lone request sat out the window"
    assert (committer.stats.batches, committer.stats.followed) == (1, 0)


def test_under_load_one_insert_at_a_time_carries_several_rows(
    engine: Engine,
    config: EndpointConfig,
    inserts: GatedInserts,
    threads: Callable[[GroupCommitter], Requests],
) -> None:
    # Each INSERT takes a few milliseconds more, as on a busy database; 16 threads keep posting.
    inserts.delay_s = 0.003
    committer = GroupCommitter(window_s=0.002, max_rows=32)
    made = threads(committer)

    def keep_posting(_: int) -> list[Outcome]:
        return [made.post_now(config, json.dumps({"n": n}).encode()) for n in range(8)]

    with ThreadPoolExecutor(16) as pool:
        outcomes = [outcome for each in pool.map(keep_posting, range(16)) for outcome in each]
    stored = [event.event_id for event in outcomes if isinstance(event, StoredEvent)]
    assert len(stored) == 128 and len(_stored(engine, stored)) == 128
    assert inserts.most_in_flight == 1
    assert sum(inserts.sizes) == 128
    assert committer.stats.rows / committer.stats.batches >= 2, inserts.sizes
    assert committer.stats.followed > 0
