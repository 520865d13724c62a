"""Web and worker through PgBouncer in transaction mode, unchanged but for the database URL.

The shared provider cases and the concurrency test run again in a pytest session of their own
whose web, worker and in-process app connect through a PgBouncer (``pool_mode = transaction``,
four server connections, so client transactions really do hop between server connections).
Only the URL differs: ``?prepare_threshold=none``, because PgBouncer before 1.21 (Debian 12 has
1.18) cannot carry server-side prepared statements across server connections.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from models.db import make_engine
from tests.support.pgbouncer import OwnPgBouncer, pgbouncer_binary
from tests.support.services import POOLER_ENV, ServiceUrls

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
ADD_ONE = text("SELECT CAST(:n AS integer) + 1")
THROUGH_THE_POOLER = ["tests/webhook/test_shared_cases.py", "tests/worker/test_concurrency.py"]


@pytest.fixture(scope="module")
def pgbouncer(services: ServiceUrls) -> Iterator[OwnPgBouncer]:
    """A PgBouncer in front of the test server; skipped, loudly, only when not installed."""
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer is not installed (.ci/run installs it: apt-get install pgbouncer)")
    server = services.database_url.rsplit("/", 1)[0] + "/postgres"
    bouncer = OwnPgBouncer(server).start()
    yield bouncer
    bouncer.stop()


def test_prepared_statements_off_make_a_transaction_pooler_safe(
    services: ServiceUrls, pgbouncer: OwnPgBouncer
) -> None:
    pooled = pgbouncer.url_for(services.sqlalchemy_url)
    engine = make_engine(pooled, pool_size=8)
    try:
        # Ten connections of ours on four server connections, each statement run often enough
        # that psycopg would have prepared it (five times) on whichever server connection it
        # happened to use: with prepares on, a later run elsewhere fails.
        connections = [engine.connect() for _ in range(10)]
        try:
            for _ in range(8):
                for connection in connections:
                    value = connection.execute(ADD_ONE, {"n": 41}).scalar()
                    assert value == 42
                    connection.commit()
        finally:
            for connection in connections:
                connection.close()
    finally:
        engine.dispose()


def test_without_the_url_option_the_pooler_breaks_prepared_statements(
    services: ServiceUrls, pgbouncer: OwnPgBouncer
) -> None:
    # Why the option exists: psycopg's default prepares, and the pooler moves the next
    # transaction to a server connection that never saw the statement.
    url = pgbouncer.url_for(services.database_url).split("?", 1)[0]
    connections = [psycopg.connect(url, autocommit=True) for _ in range(10)]
    errors: list[str] = []
    try:
        for _ in range(8):
            for connection in connections:
                try:
                    connection.execute("SELECT %s::int + 1", (41,)).fetchone()
                except psycopg.Error as error:
                    errors.append(type(error).__name__)
    finally:
        for connection in connections:
            connection.close()
    assert errors, "expected prepared statements to collide behind a transaction pooler"


# A whole inner session: the shared cases and the concurrency test take minutes.
@pytest.mark.timeout(1500)
def test_shared_cases_and_concurrency_pass_through_pgbouncer(pgbouncer: OwnPgBouncer) -> None:
    env = {**os.environ, POOLER_ENV: str(pgbouncer.port)}
    # The inner session makes its own database and services; only the pooler is shared.
    for name in ("DATABASE_URL", "REDIS_URL", "LEADGATE_BROKER_KEY_PREFIX"):
        env.pop(name, None)
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *THROUGH_THE_POOLER],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output[-4000:]
    assert " passed" in output and "skipped" not in output, output[-2000:]
    log = pgbouncer.log()
    # The inner session's web, worker and app logged in through the pooler...
    assert log.count("login attempt: db=leadgate_test_") >= 3, log[-2000:]
    # ...and no statement failed there.
    assert "prepared statement" not in log, log[-2000:]
