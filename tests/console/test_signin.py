"""Signing in to the console: the session cookie, CSRF, expiry, revocation and rate limiting."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.sessions import COOKIE_NAME, KEY_PREFIX
from models import ApiToken
from models.base import utcnow
from tests.console.conftest import csrf_token, sign_in
from tests.support.factories import Tenant, make_tenant

pytestmark = pytest.mark.integration


def test_a_page_without_a_session_sends_to_sign_in(console: FlaskClient) -> None:
    answer = console.get("/console/events/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/console/sign-in?next=")


def test_signing_in_sets_a_strict_http_only_cookie(console: FlaskClient, tenant: Tenant) -> None:
    form = console.get("/console/sign-in").get_data(as_text=True)
    answer = console.post(
        "/console/sign-in", data={"token": tenant.token, "csrf_token": csrf_token(form)}
    )
    assert answer.status_code == 302
    cookie = [value for value in answer.headers.getlist("Set-Cookie") if COOKIE_NAME in value][-1]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/console" in cookie
    assert tenant.token not in cookie  # the cookie holds a random id, never the token
    assert console.get("/console/").status_code == 200


def test_the_session_id_changes_at_sign_in(console: FlaskClient, tenant: Tenant) -> None:
    console.get("/console/sign-in")
    before = console.get_cookie(COOKIE_NAME, path="/console")
    assert before is not None
    sign_in(console, tenant.token)
    after = console.get_cookie(COOKIE_NAME, path="/console")
    assert after is not None and after.value != before.value


def test_a_wrong_token_is_refused(console: FlaskClient, tenant: Tenant) -> None:
    form = console.get("/console/sign-in").get_data(as_text=True)
    answer = console.post(
        "/console/sign-in", data={"token": "lg_not-a-token", "csrf_token": csrf_token(form)}
    )
    assert answer.status_code == 401
    assert "unknown or revoked" in answer.get_data(as_text=True)
    assert console.get("/console/").status_code == 302


def test_sign_in_without_its_csrf_token_is_refused(console: FlaskClient, tenant: Tenant) -> None:
    console.get("/console/sign-in")
    answer = console.post("/console/sign-in", data={"token": tenant.token})
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)
    assert console.get("/console/").status_code == 302


def test_a_form_without_its_csrf_token_changes_nothing(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    sign_in(console, tenant.token)
    answer = console.post("/console/tokens/", data={"name": "sneaky"})
    assert answer.status_code == 400
    names = committed_session.scalars(
        select(ApiToken.name).where(ApiToken.organization_id == tenant.organization_id)
    ).all()
    assert "sneaky" not in names


def test_sign_out_ends_the_session(console: FlaskClient, tenant: Tenant) -> None:
    sign_in(console, tenant.token)
    page = console.get("/console/").get_data(as_text=True)
    answer = console.post("/console/sign-out", data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 302
    assert console.get("/console/").status_code == 302


def test_a_revoked_token_ends_its_sessions(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    sign_in(console, tenant.token)
    assert console.get("/console/").status_code == 200
    token = committed_session.scalars(
        select(ApiToken).where(ApiToken.organization_id == tenant.organization_id)
    ).one()
    token.revoked_time = utcnow()
    committed_session.commit()
    answer = console.get("/console/")
    assert answer.status_code == 302
    assert "/console/sign-in" in answer.headers["Location"]


def test_a_session_expires_after_its_lifetime(
    console_app: Flask, console: FlaskClient, tenant: Tenant
) -> None:
    sign_in(console, tenant.token)
    cookie = console.get_cookie(COOKIE_NAME, path="/console")
    assert cookie is not None
    from common.redis_client import redis_for

    client = redis_for(console_app.config["CONSOLE_REDIS_URL"])
    ttl = client.ttl(KEY_PREFIX + cookie.value)
    assert 0 < ttl <= console_app.config["CONSOLE_SESSION_SECONDS"]
    client.delete(KEY_PREFIX + cookie.value)  # what Redis does when the lifetime runs out
    assert console.get("/console/").status_code == 302


def test_failed_sign_ins_are_limited(
    services: object, committed_session: Session, tenant: Tenant
) -> None:
    from console.site import create_site

    app = create_site({"TESTING": True, "CONSOLE_SIGNIN_ATTEMPTS": 2})
    from common.redis_client import redis_for
    from console.signin import ATTEMPTS_KEY

    redis_for(app.config["CONSOLE_REDIS_URL"]).delete(ATTEMPTS_KEY + "10.9.8.7")
    client = app.test_client()
    environ = {"REMOTE_ADDR": "10.9.8.7"}
    form = client.get("/console/sign-in", environ_base=environ).get_data(as_text=True)
    token = csrf_token(form)
    statuses = [
        client.post(
            "/console/sign-in",
            data={"token": "lg_wrong", "csrf_token": token},
            environ_base=environ,
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]
    # Even the right token waits out the window.
    right = client.post(
        "/console/sign-in", data={"token": tenant.token, "csrf_token": token}, environ_base=environ
    )
    assert right.status_code == 429


def test_pages_carry_a_policy_without_inline_scripts(console: FlaskClient, tenant: Tenant) -> None:
    sign_in(console, tenant.token)
    answer = console.get("/console/")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in answer.get_data(as_text=True)


def test_the_api_sets_no_console_cookie(console: FlaskClient, tenant: Tenant) -> None:
    answer = console.get(
        "/api/ingestion-events/", headers={"Authorization": f"Token {tenant.token}"}
    )
    assert answer.status_code == 200
    assert not any(COOKIE_NAME in value for value in answer.headers.getlist("Set-Cookie"))


def test_the_console_can_be_turned_off(services: object) -> None:
    from console.site import create_site

    app = create_site({"TESTING": True, "CONSOLE_ENABLED": False})
    assert app.test_client().get("/console/sign-in").status_code == 404


def test_another_organizations_token_sees_its_own_only(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session, name="other org config")
    committed_session.commit()
    sign_in(console, other.token)
    page = console.get("/console/configs/").get_data(as_text=True)
    assert "other org config" in page
    assert "console config" not in page
    assert console.get(f"/console/configs/{tenant.config_id}/").status_code == 404


def test_sign_in_over_https_sets_a_secure_cookie(console: FlaskClient, tenant: Tenant) -> None:
    base = "https://console.example"
    form = console.get("/console/sign-in", base_url=base).get_data(as_text=True)
    answer = console.post(
        "/console/sign-in",
        base_url=base,
        data={"token": tenant.token, "csrf_token": csrf_token(form)},
        headers={"Referer": base + "/console/sign-in"},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    cookie = [value for value in answer.headers.getlist("Set-Cookie") if COOKIE_NAME in value][-1]
    assert "Secure" in cookie


def test_the_api_starts_and_answers_without_redis(services: object) -> None:
    from console.site import create_site
    from tests.support.processes import free_port

    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    app = create_site({"TESTING": True, "CONSOLE_REDIS_URL": unreachable})
    assert app.test_client().get("/healthz").status_code == 200
