"""Scenarios 2 and 3: Redis, then PostgreSQL, restarts during the load, once cleanly, once crashing.

Redis (broker and locks): a clean restart keeps every message (the append-only file is written
out); a crash may lose the last second of them, which the sweeper makes up for. Workers and beat
reconnect by themselves; tasks running meanwhile carry on under the database's locks.

PostgreSQL: while it is down the webhook answers 503 with Retry-After and the provider resends
(with the same Idempotency-Key); workers see connection errors, back off and retry; the sweeper
picks up what was left processing. Pool pre-ping replaces the dead connections after the restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.faults.conftest import FaultServers, FaultStack, ScenarioReport
from tests.support.invariants import check_invariants, wait_for_drain
from tests.support.load import BackgroundLoad, LoadPlan
from tests.support.workload import interleaved_requests, make_person

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PERSONS = 300
PER_PERSON = 5


@dataclass(frozen=True)
class Restart:
    """Which server restarts, how it is stopped and crashed, and what callers see meanwhile."""

    server: str
    person_prefix: str
    seed: int
    down_seconds: float
    stop_cleanly: Callable[[FaultServers], None]
    crash: Callable[[FaultServers], None]
    start: Callable[[FaultServers], object]
    # Answers the load must have met during the outages (the provider resent those requests).
    outage_answers: tuple[str, ...] = ()


REDIS = Restart(
    server="redis",
    person_prefix="R",
    seed=2,
    down_seconds=2.0,
    stop_cleanly=lambda servers: servers.redis.stop(),  # SHUTDOWN writes the append-only file
    crash=lambda servers: servers.redis.kill(),  # up to a second of writes may be lost
    start=lambda servers: servers.redis.start(),
)
POSTGRES = Restart(
    server="postgres",
    person_prefix="D",
    seed=3,
    down_seconds=3.0,
    # Fast: open transactions are rolled back and connections cut; immediate: a crash, with
    # recovery from the write-ahead log on start.
    stop_cleanly=lambda servers: servers.postgres.stop("fast"),
    crash=lambda servers: servers.postgres.stop("immediate"),
    start=lambda servers: servers.postgres.start(),
    outage_answers=("503",),
)


@pytest.mark.parametrize("restart", [REDIS, POSTGRES], ids=lambda restart: restart.server)
def test_server_restarted_twice_during_load(
    stack: FaultStack, scenario_report: ScenarioReport, restart: Restart
) -> None:
    tenant = stack.tenant()
    persons = [make_person(restart.person_prefix, index) for index in range(PERSONS)]
    requests = interleaved_requests(persons, PER_PERSON, seed=restart.seed)
    web = stack.web()
    stack.beat()
    stack.worker(f"{restart.server}-restart", concurrency=3)
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token, per_process_rate=30)
    load = BackgroundLoad(plan, requests)

    time.sleep(3)
    restart.stop_cleanly(stack.servers)
    time.sleep(restart.down_seconds)
    restart.start(stack.servers)
    time.sleep(4)
    restart.crash(stack.servers)
    time.sleep(restart.down_seconds)
    restart.start(stack.servers)
    recovered = time.monotonic()
    backlog = stack.backlog(tenant.organization_id)
    sent = load.result(timeout=300)
    drain = wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)

    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={
            f"{restart.server}_restarts": 1,
            f"{restart.server}_crashes": 1,
            "down_seconds_each": restart.down_seconds,
        },
        backlog_at_recovery=backlog,
        drain_after_recovery_seconds=round(time.monotonic() - recovered, 1),
        drain_after_load_seconds=round(drain, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    # Every request was accepted in the end; those that met an outage were resent.
    assert verdict.counts["accepted"] == len(sent)
    for answer in restart.outage_answers:
        assert answer in verdict.counts["answers"]
