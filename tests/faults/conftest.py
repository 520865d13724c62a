"""The fault suite's stack: its own PostgreSQL and Redis, and the processes a scenario starts.

Fault tests stop, kill and restart servers, so they never use the machine's shared ones: a
session-wide pgserver cluster and redis-server of their own, restartable at will. Each scenario
gets a fresh organization, an empty Redis, and the web, worker and beat processes it asks for,
all stopped when it ends. Timings are shortened so recovery happens within seconds: a lease
of 3 s renewed for at most 3 s (so a dead worker's events wait 3 s, a hung one's 6 s at most), a
sweep every second, retries from 0.2 s.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionEvent
from tests.support.factories import Tenant, make_tenant
from tests.support.invariants import (
    Person,
    SentRequest,
    Verdict,
    check_invariants,
    engine_for,
    pending_events,
)
from tests.support.load import LoadPlan, send_now
from tests.support.processes import ServiceProcess, start_beat, start_web, start_worker
from tests.support.servers import OwnPostgres, OwnRedis
from tests.support.workload import make_person, make_request
from webhook.broker import PROCESS_EVENT_TASK

RESULTS_FILE = Path(__file__).parent / "last_run.json"
FAULT_WORKER_APP = "tests.support.fault_worker"

FAST_RECOVERY = {
    "LEADGATE_STUCK_AFTER_SECONDS": "3",
    "LEADGATE_LEASE_SECONDS": "3",
    "LEADGATE_SWEEP_INTERVAL_SECONDS": "1",
    "LEADGATE_RETRY_BASE_SECONDS": "0.2",
    "LEADGATE_RETRY_MAX_SECONDS": "2",
    "LEADGATE_MAX_ATTEMPTS": "8",
}


@dataclass(frozen=True)
class EventState:
    """What a test needs to know of an event's progress."""

    status: str
    action: str | None
    attempts: int
    last_error: str | None

    @property
    def terminal(self) -> bool:
        """True once done, failed or dead."""
        return self.status in ("done", "failed", "dead")


@dataclass
class FaultServers:
    """The suite's own PostgreSQL (one migrated database) and Redis."""

    postgres: OwnPostgres
    redis: OwnRedis
    database_url: str


@pytest.fixture(scope="session")
def fault_servers() -> Iterator[FaultServers]:
    """Start the suite's own PostgreSQL and Redis once per session."""
    postgres = OwnPostgres().start()
    redis_server = OwnRedis().start()
    try:
        database_url = postgres.create_database("leadgate_faults")
        yield FaultServers(postgres, redis_server, database_url)
    finally:
        redis_server.destroy()
        postgres.destroy()


@dataclass
class FaultStack:
    """One scenario's view of the servers, and every process it started (stopped at the end)."""

    servers: FaultServers
    tmp_path: Path
    processes: list[ServiceProcess] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        """The scenario database's URL."""
        return self.servers.database_url

    def env(self, **overrides: str) -> dict[str, str]:
        """Environment for a web, worker or beat process on the suite's servers."""
        return {
            "DATABASE_URL": self.servers.database_url,
            "REDIS_URL": self.servers.redis.url,
            "CELERY_BROKER_URL": self.servers.redis.url,
            # The suite's Redis is its own: no prefix (the shared one's session prefix, which
            # this process's environment may carry, would hide the test's own messages).
            "LEADGATE_BROKER_KEY_PREFIX": "",
            "LEADGATE_HOME": str(self.tmp_path / "home"),
            **FAST_RECOVERY,
            **overrides,
        }

    def tenant(self, **options: Any) -> Tenant:
        """A fresh organization with a token, a campaign and a config (standard field names)."""
        engine = engine_for(self.database_url)
        try:
            with Session(engine) as session:
                tenant = make_tenant(session, **options)
                session.commit()
                return tenant
        finally:
            engine.dispose()

    def worker(
        self,
        name: str,
        concurrency: int = 2,
        faults: str = "",
        queues: str = "ingest,maintenance",
        **env: str,
    ) -> ServiceProcess:
        """A Celery worker; with ``faults``, the fault-injecting app (see fault_worker)."""
        overrides = dict(env)
        if faults:
            overrides["LEADGATE_TEST_FAULT"] = faults
            overrides["LEADGATE_TEST_FAULT_LOG"] = str(self.fault_log)
            overrides["LEADGATE_TEST_FAULT_RELEASE_DIR"] = str(self.release_dir)
        process = start_worker(
            self.env(**overrides),
            concurrency=concurrency,
            node_name=name,
            queues=queues,
            app=FAULT_WORKER_APP if faults else "worker.celery_app",
        )
        self.processes.append(process)
        return process

    def web(self, workers: int = 2, **env: str) -> ServiceProcess:
        """A gunicorn serving the webhook; its URL is ``.extra["url"]``."""
        process = start_web(self.env(**env), workers=workers)
        self.processes.append(process)
        return process

    def beat(self, **env: str) -> ServiceProcess:
        """Celery beat, which schedules the sweeper every second."""
        process = start_beat(self.env(**env))
        self.processes.append(process)
        return process

    @property
    def release_dir(self) -> Path:
        """Where ``release`` puts the files that end the fault worker's faults."""
        return self.tmp_path / "released"

    def release(self, marker: str) -> None:
        """End the faults of the rules with ``marker``: pauses end now, errors stop."""
        self.release_dir.mkdir(exist_ok=True)
        (self.release_dir / marker).touch()

    @property
    def fault_log(self) -> Path:
        """The file the fault worker appends one line to per injected fault."""
        return self.tmp_path / "faults.jsonl"

    def injected(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Faults injected so far, optionally of one kind."""
        if not self.fault_log.exists():
            return []
        lines = [json.loads(line) for line in self.fault_log.read_text().splitlines() if line]
        return [line for line in lines if kind is None or line["kind"] == kind]

    def publish(
        self, event_ids: list[str], queue: str, copies: int = 1, countdown: float | None = None
    ) -> None:
        """Publish ``copies`` messages per event straight to ``queue``, back to back."""
        client = Celery("fault-test", broker=self.servers.redis.url)
        try:
            for event_id in event_ids:
                for _ in range(copies):
                    client.send_task(
                        PROCESS_EVENT_TASK, args=[event_id], queue=queue, countdown=countdown
                    )
        finally:
            client.close()

    def events(self, event_ids: list[str]) -> dict[str, EventState]:
        """The current status, action and attempts of some events, by id."""
        engine = engine_for(self.database_url)
        try:
            with Session(engine) as session:
                rows = session.execute(
                    select(
                        IngestionEvent.id,
                        IngestionEvent.status,
                        IngestionEvent.action,
                        IngestionEvent.attempts,
                        IngestionEvent.last_error,
                    ).where(IngestionEvent.id.in_([uuid.UUID(event_id) for event_id in event_ids]))
                ).all()
        finally:
            engine.dispose()
        return {
            str(row.id): EventState(
                row.status.value,
                row.action.value if row.action else None,
                row.attempts,
                row.last_error,
            )
            for row in rows
        }

    def wait_for_events(
        self, event_ids: list[str], done: Callable[[EventState], bool], timeout: float = 60
    ) -> dict[str, EventState]:
        """Wait until every event satisfies ``done``; their states (fails on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.events(event_ids)
            if len(states) == len(event_ids) and all(map(done, states.values())):
                return states
            if time.monotonic() > deadline:
                waiting = {key: state for key, state in states.items() if not done(state)}
                raise AssertionError(f"events not there after {timeout:.0f} s: {waiting}")
            time.sleep(0.1)

    def backlog(self, organization_id: int) -> int | None:
        """Events of the organization not terminal yet (None if the database cannot say)."""
        try:
            return pending_events(self.database_url, organization_id)
        except Exception:  # the database may be on its way back up
            return None

    def stop_all(self) -> None:
        """Stop every process the scenario started (whole process groups)."""
        for process in reversed(self.processes):
            process.stop(timeout=10)


@dataclass(frozen=True)
class HeldEvents:
    """New persons' events, posted and then held ``processing`` by a paused worker."""

    tenant: Tenant
    persons: list[Person]
    sent: list[SentRequest]
    event_ids: list[str]
    holder: ServiceProcess

    def assert_done_after_the_holder(
        self,
        stack: FaultStack,
        states: dict[str, EventState],
        report: ScenarioReport,
        **figures: object,
    ) -> None:
        """I1-I4 hold (the report saved with ``figures``) and each event ran once more, to done."""
        verdict = check_invariants(
            stack.database_url, self.tenant.organization_id, self.sent, self.persons
        )
        report.figures.update(events_held=len(self.event_ids), **figures)
        report.save(verdict)
        verdict.assert_ok()
        assert {state.status for state in states.values()} == {"done"}
        # Held once by the killed worker, done once after it: no event ran a third time.
        assert {state.attempts for state in states.values()} == {2}


def post_and_hold(
    stack: FaultStack, tag: str, count: int, seed: int, web_workers: int, **env: str
) -> HeldEvents:
    """Post ``count`` new persons, then start a worker that takes them and pauses holding them."""
    tenant = stack.tenant()
    rng = random.Random(seed)
    persons = [make_person(tag, index) for index in range(count)]
    web = stack.web(workers=web_workers, **env)
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token)
    # All in the inbox before any worker runs: the first message's claim takes them as one batch.
    sent = send_now(plan, [make_request(person, 0, rng) for person in persons])
    event_ids = [request.event_id or "" for request in sent]
    assert all(event_ids)
    holder = stack.worker(
        "holder", concurrency=1, queues="ingest", faults="pause_after_lock:600", **env
    )
    stack.wait_for_events(event_ids, lambda state: state.status == "processing")
    return HeldEvents(tenant, persons, sent, event_ids, holder)


def kill_worker_and_child(worker: ServiceProcess) -> list[int]:
    """SIGKILL a worker's main process and one of its pool processes; the pids killed."""
    children = _children(worker.process.pid)
    killed = [worker.process.pid]
    os.kill(worker.process.pid, signal.SIGKILL)
    if children:
        os.kill(children[0], signal.SIGKILL)
        killed.append(children[0])
    worker.process.wait()
    # The other pool processes lose their parent; take the rest of the group down with it.
    worker.stop()
    return killed


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except OSError:
        return []


@pytest.fixture
def stack(fault_servers: FaultServers, tmp_path: Path) -> Iterator[FaultStack]:
    """A scenario's stack on an empty Redis, with a running PostgreSQL and Redis."""
    if not _redis_alive(fault_servers.redis):  # a scenario that failed mid-outage
        fault_servers.redis.start()
    fault_servers.redis.flush()
    scenario = FaultStack(fault_servers, tmp_path)
    yield scenario
    scenario.stop_all()
    for process in scenario.processes:
        print(f"{process.name} log: {process.log_path}")


def _redis_alive(server: OwnRedis) -> bool:
    try:
        return bool(server.client().ping())
    except Exception:
        return False


@dataclass
class ScenarioReport:
    """What a scenario reports: its figures and the checker's verdict."""

    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def save(self, verdict: Verdict | None = None) -> None:
        """Print the figures and merge them into ``tests/faults/last_run.json``."""
        entry = {**self.figures, "seconds": round(time.monotonic() - self.started, 1)}
        if verdict is not None:
            entry["verdict"] = verdict.as_dict()
        print(f"\n[{self.name}] {json.dumps(entry, indent=1, default=str)}")
        try:
            results = json.loads(RESULTS_FILE.read_text())
        except (OSError, ValueError):
            results = {}
        results[self.name] = {"run": uuid.uuid4().hex[:8], "at": time.time(), **entry}
        RESULTS_FILE.write_text(json.dumps(results, indent=2, default=str) + "\n")


@pytest.fixture
def scenario_report(request: pytest.FixtureRequest) -> ScenarioReport:
    """The scenario's report, named after the test."""
    return ScenarioReport(request.node.name)
