"""Pooled database connections that died under the webhook (a PostgreSQL restart, a killed
backend): never a 500. A connection idle for a while is tested before use and replaced; one in
recent use fails its request with a 503 and Retry-After, and the pool is renewed for the next.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from common.settings import get_settings
from models import db
from tests.support.api import post_payload
from tests.support.factories import Tenant

PHONE = "(202) 456-1111"


def _kill_the_pooled_connection(client: FlaskClient, tenant: Tenant, engine: Engine) -> None:
    """Leave the app's pool with one connection, then end its backend from the server side."""
    db.dispose_engines()
    answer = post_payload(client, tenant.config_id, "upsert", {"phone_number": PHONE}, tenant.token)
    assert answer.status_code == 202
    # The pool hands out the connection returned last: the one the request above used (the
    # accept path runs on the autocommit engine).
    with db.get_engine(get_settings().sqlalchemy_url, autocommit=True).connect() as connection:
        backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})


def test_a_dead_connection_in_recent_use_is_a_503_then_replaced(
    client: FlaskClient, tenant: Tenant, engine: Engine
) -> None:
    _kill_the_pooled_connection(client, tenant, engine)
    answer = post_payload(client, tenant.config_id, "upsert", {"phone_number": PHONE}, tenant.token)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]
    again = post_payload(client, tenant.config_id, "upsert", {"phone_number": PHONE}, tenant.token)
    assert again.status_code == 202


def test_a_dead_connection_that_sat_idle_is_replaced_before_use(
    client: FlaskClient, tenant: Tenant, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kill_the_pooled_connection(client, tenant, engine)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    answer = post_payload(client, tenant.config_id, "upsert", {"phone_number": PHONE}, tenant.token)
    assert answer.status_code == 202
