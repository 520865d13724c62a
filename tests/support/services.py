"""Test services: the machine's PostgreSQL and Redis when named, else embedded ones."""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from cryptography.fernet import Fernet

from common.settings import to_sqlalchemy_url
from leadgate.embedded import EmbeddedStack
from models.migrate import upgrade_database
from tests.support.pgbouncer import OwnPgBouncer, pooled_url

# Run the session's web and worker through PgBouncer in transaction mode: a port where one
# listens in front of TEST_DATABASE_URL's server, or "start" for one of the session's own.
POOLER_ENV = "LEADGATE_TEST_PGBOUNCER"

# The test session's LEADGATE_SECRET_KEY, the same in this process and its worker processes.
SESSION_SECRET_KEY = Fernet.generate_key().decode()


@dataclass
class ServiceUrls:
    """URLs of the servers a test session uses, and the embedded stack if one was started."""

    database_url: str
    redis_url: str
    # Queues of their own, so test sessions sharing one Redis never take each other's tasks.
    broker_key_prefix: str = ""
    stack: EmbeddedStack | None = None
    # The URL the service code connects with, when it goes through a pooler; the tests' own
    # checks and the migrations use ``database_url``, straight to the server.
    pooled_database_url: str = ""
    pooler: OwnPgBouncer | None = None

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in SQLAlchemy's form."""
        return to_sqlalchemy_url(self.database_url)

    def env(self) -> dict[str, str]:
        """Environment variables that point a child process at these servers."""
        return {
            "DATABASE_URL": self.pooled_database_url or self.database_url,
            "REDIS_URL": self.redis_url,
            "LEADGATE_BROKER_KEY_PREFIX": self.broker_key_prefix,
            # The tests' webhook receivers listen on loopback, and retry in seconds, not hours.
            "LEADGATE_WEBHOOK_ALLOW_PRIVATE": "true",
            "LEADGATE_WEBHOOK_RETRY_SCHEDULE": "0,1,2",
            # The worker opens the callback keys the webhook app sealed: one key for both.
            "LEADGATE_SECRET_KEY": SESSION_SECRET_KEY,
        }

    def stop(self) -> None:
        """Stop the embedded servers and the session's own pooler, if any."""
        if self.pooler is not None:
            self.pooler.stop()
        if self.stack is not None:
            self.stack.stop()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _create_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return _with_database(server_url, name)


def start_test_services() -> ServiceUrls:
    """Find or start PostgreSQL and Redis, create a fresh test database and migrate it."""
    database_server = os.environ.get("TEST_DATABASE_URL", "").strip()
    redis_url = os.environ.get("TEST_REDIS_URL", "").strip()
    stack = None
    if not database_server or not redis_url:
        home = Path(tempfile.mkdtemp(prefix="leadgate-test-"))
        stack = EmbeddedStack(home)
        started = stack.start(need_database=not database_server, need_redis=not redis_url)
        database_server = database_server or started["DATABASE_URL"]
        redis_url = redis_url or started["REDIS_URL"]
    name = f"leadgate_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    database_url = _create_database(database_server, name)
    upgrade_database(to_sqlalchemy_url(database_url))
    services = ServiceUrls(
        database_url=database_url, redis_url=redis_url, broker_key_prefix=f"{name}:", stack=stack
    )
    pooler = os.environ.get(POOLER_ENV, "").strip()
    if pooler == "start":
        services.pooler = OwnPgBouncer(database_server).start()
        services.pooled_database_url = services.pooler.url_for(database_url)
    elif pooler:
        services.pooled_database_url = pooled_url(database_url, int(pooler))
    return services


def forget_broker_keys(services: ServiceUrls) -> None:
    """Delete this session's broker keys from a Redis that outlives it."""
    client = redis.Redis.from_url(services.redis_url)
    for key in client.scan_iter(match=f"{services.broker_key_prefix}*", count=500):
        client.delete(key)


def drop_test_database(services: ServiceUrls) -> None:
    """Drop the session's test database."""
    parts = urlsplit(services.database_url)
    name = parts.path.lstrip("/")
    server_url = _with_database(services.database_url, "postgres")
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
