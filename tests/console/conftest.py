"""The console app on the test services, and a client that signs in the way a browser does."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.support.factories import Tenant, make_tenant
from tests.support.services import ServiceUrls

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: str) -> str:
    """The CSRF token a rendered form carries."""
    found = CSRF_FIELD.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, token: str) -> None:
    """Sign in through the form, as a person would."""
    form = client.get("/console/sign-in").get_data(as_text=True)
    answer = client.post("/console/sign-in", data={"token": token, "csrf_token": csrf_token(form)})
    assert answer.status_code == 302, answer.get_data(as_text=True)


@pytest.fixture
def console_app(services: ServiceUrls) -> Flask:
    """The API with the console registered, as ``console.wsgi`` serves it."""
    from console.site import create_site

    return create_site({"TESTING": True, "AUTH_CACHE_SECONDS": 0})


@pytest.fixture
def console(console_app: Flask) -> FlaskClient:
    """A client of the console app (it keeps cookies, as a browser does)."""
    return console_app.test_client()


@pytest.fixture
def tenant(committed_session: Session) -> Tenant:
    """An organization with a token and a config, committed so the app's sessions see it."""
    made = make_tenant(
        committed_session,
        mapping={"fields": {"phone_number": "phone", "email": "email"}},
        name="console config",
    )
    committed_session.commit()
    return made
