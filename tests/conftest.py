"""Session-wide services and per-test database handles."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common.settings import get_settings
from tests.support.database import rolled_back_session
from tests.support.processes import ServiceProcess, start_worker
from tests.support.services import (
    ServiceUrls,
    drop_test_database,
    forget_broker_keys,
    start_test_services,
)


@pytest.fixture(scope="session")
def services() -> Iterator[ServiceUrls]:
    """A migrated test database and a Redis, pointed at by this process's environment."""
    started = start_test_services()
    saved = {name: os.environ.get(name) for name in started.env()}
    os.environ.update(started.env())
    os.environ.pop("CELERY_BROKER_URL", None)
    get_settings.cache_clear()
    yield started
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    get_settings.cache_clear()
    drop_test_database(started)
    forget_broker_keys(started)
    started.stop()


@pytest.fixture(scope="session")
def engine(services: ServiceUrls) -> Iterator[Engine]:
    """An engine on the test database."""
    test_engine = create_engine(services.sqlalchemy_url)
    yield test_engine
    test_engine.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back when the test ends."""
    with rolled_back_session(engine) as session:
        yield session


@pytest.fixture
def committed_session(engine: Engine) -> Iterator[Session]:
    """A session whose commits are real, for tests that a separate process must see."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(services: ServiceUrls) -> Flask:
    """The webhook app on the test services."""
    from webhook.app import create_app

    return create_app({"TESTING": True, "AUTH_CACHE_SECONDS": 0})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the webhook app."""
    return app.test_client()


@pytest.fixture(scope="session")
def celery_worker(services: ServiceUrls) -> Iterator[ServiceProcess]:
    """A real Celery worker process (prefork, 2 children) on the test services."""
    # The worker must write its metrics where this process's /metrics reads them. The directory
    # is picked when common.metrics is first imported, which may not have happened yet when a
    # session-scoped fixture runs before the test's app: pick it now, before the worker starts.
    import common.metrics  # noqa: F401

    worker = start_worker(services.env(), concurrency=2, node_name="session-worker")
    yield worker
    worker.stop()
