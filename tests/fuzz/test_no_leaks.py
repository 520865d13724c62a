"""No personal data or secret in any log line or error body.

A realistic flow (creates, updates, duplicates, invalid payloads, forms, dry runs, conflicts,
idempotency clashes, wrong tokens, read filters, a replay) runs through HTTP and the real
worker with phone numbers, emails and tokens made for this test alone. Then no full phone
number (as posted, digits only or E.164), no email and no token may appear in the web side's
log records, in the worker's log, in any 4xx/5xx answer, or in any event's errors, warnings
or last error.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.support.api import post_payload, wait_for_event
from tests.support.factories import make_tenant
from tests.support.leaks import assert_no_personal_data
from tests.support.processes import ServiceProcess
from worker.ingest.phones import normalize_phone

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]

_AREA_CODES = ("202", "212", "305", "312", "415", "512", "617", "713", "206", "303")


@dataclass
class Person:
    """One lead's contact data, in the forms a provider posts it and the form stored."""

    digits: str
    email: str

    @property
    def e164(self) -> str:
        """The number as stored."""
        return normalize_phone(self.digits)

    @property
    def dashed(self) -> str:
        """``(415) 555-2671``."""
        return f"({self.digits[:3]}) {self.digits[3:6]}-{self.digits[6:]}"

    @property
    def dotted(self) -> str:
        """``415.555.2671``."""
        return f"{self.digits[:3]}.{self.digits[3:6]}.{self.digits[6:]}"

    def secrets(self) -> tuple[str, ...]:
        """Every form of this person's data that must not leak."""
        return (self.digits, self.e164, self.dashed, self.dotted, self.email, self.email.lower())


def _people(count: int) -> list[Person]:
    rng = random.Random(uuid.uuid4().int)
    people: list[Person] = []
    while len(people) < count:
        digits = (
            rng.choice(_AREA_CODES) + str(rng.randint(200, 999)) + f"{rng.randint(0, 9999):04d}"
        )
        try:
            normalize_phone(digits)
        except ValueError:
            continue
        tag = uuid.uuid4().hex[:10]
        people.append(Person(digits, f"Lead.{tag}@Example-{tag[:4]}.com"))
    return people


@dataclass
class Flow:
    """What a run of the flow saw: every answer and every event it produced."""

    client: FlaskClient
    token: str
    answers: list[TestResponse] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)

    def post(self, *args: Any, **kwargs: Any) -> TestResponse:
        """post_payload, remembering the answer and its event."""
        answer = post_payload(self.client, *args, **kwargs)
        self.answers.append(answer)
        event_id = (
            answer.get_json().get("id")
            if answer.status_code == 202
            else answer.headers.get("Ingestion-Event-Id")
        )
        if event_id:
            self.event_ids.append(str(event_id))
        return answer

    def get(self, url: str, token: str | None = None) -> TestResponse:
        """A GET with a token, remembering the answer."""
        answer = self.client.get(url, headers={"Authorization": f"Token {token or self.token}"})
        self.answers.append(answer)
        return answer


@pytest.fixture
def web_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captures every log record the web side emits during the test, at every level."""
    caplog.set_level(logging.DEBUG)
    return caplog


def _record_text(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text


def _run_flow(flow: Flow, config_id: object, other_token: str, people: list[Person]) -> None:
    one, two, three, four, five, six, seven, eight = people
    wait = {"Prefer": "wait=20"}
    # A create, an update of it by phone, a duplicate create, a reengagement-free resend.
    flow.post(
        config_id,
        "upsert",
        {"contact": {"phone": one.dashed, "email": one.email}, "lead": {"id": "crm-1"}},
        flow.token,
        headers=wait,
    )
    flow.post(config_id, "upsert", {"phone_number": one.dotted, "email": two.email}, flow.token)
    flow.post(config_id, "create", {"phone_number": one.digits, "email": two.email}, flow.token)
    # Invalid payloads that still carry valid personal data beside the invalid field.
    flow.post(
        config_id,
        "upsert",
        {"phone_number": three.dashed, "email": "not-an-email", "us_state": "Atlantis"},
        flow.token,
        headers=wait,
    )
    flow.post(config_id, "upsert", {"phone_number": "123", "email": three.email}, flow.token)
    flow.post(
        config_id,
        "upsert",
        {"phone_number": four.e164, "metadata": "not an object", "alt": five.email},
        flow.token,
        headers=wait,
    )
    # A form, with personal data in unmapped keys too.
    form = f"phone_number={five.dotted}&email={five.email}&alt_phone={six.dashed}".replace(
        "@", "%40"
    )
    flow.post(
        config_id,
        "upsert",
        form,
        flow.token,
        content_type="application/x-www-form-urlencoded",
    )
    # An external-id conflict: the lead on the same phone is passed over, with a warning.
    flow.post(
        config_id,
        "upsert",
        {"phone_number": six.digits, "lead": {"id": "crm-6"}},
        flow.token,
        headers=wait,
    )
    flow.post(
        config_id,
        "upsert",
        {"phone_number": six.digits, "lead": {"id": "crm-7"}, "email": seven.email},
        flow.token,
        headers=wait,
    )
    # Idempotency: the same key with another body.
    flow.post(config_id, "upsert", {"event_id": "e-1", "phone_number": seven.digits}, flow.token)
    flow.post(config_id, "upsert", {"event_id": "e-1", "phone_number": eight.digits}, flow.token)
    # Dry runs, valid and not.
    flow.post(
        config_id, "dry-run", {"phone_number": eight.dashed, "email": eight.email}, flow.token
    )
    flow.post(config_id, "dry-run", {"phone_number": eight.dashed, "email": "x@"}, flow.token)
    # Wrong tokens: a mistyped one, another organization's, a missing scheme.
    flow.post(config_id, "upsert", {"phone_number": one.digits}, flow.token[:-2] + "xx")
    flow.post(config_id, "upsert", {"phone_number": one.digits}, other_token)
    flow.post(
        config_id,
        "upsert",
        {"phone_number": one.digits},
        None,
        headers={"Authorization": flow.token},
    )
    # Reads with personal data in filters, valid and not.
    flow.get(f"/api/leads/?phone_number={one.e164.replace('+', '%2B')}")
    flow.get(f"/api/leads/?email={one.email}")
    flow.get(f"/api/leads/?phone_number={one.digits}0")
    flow.get(f"/api/leads/?phone_number={one.digits}&page=0")
    flow.get("/api/leads/", token=flow.token + "x")


def _settle(flow: Flow) -> list[dict[str, Any]]:
    events = [wait_for_event(flow.client, flow.token, event_id) for event_id in flow.event_ids]
    # A replay of a failed event runs the same path again.
    failed = next(event for event in events if event["status"] == "failed")
    replay = flow.client.post(
        f"/api/ingestion-events/{failed['id']}/replay/",
        headers={"Authorization": f"Token {flow.token}"},
    )
    flow.answers.append(replay)
    assert replay.status_code == 202, replay.get_data(as_text=True)
    events.append(wait_for_event(flow.client, flow.token, failed["id"]))
    return events


def test_no_personal_data_or_token_in_logs_or_error_bodies(
    client: FlaskClient,
    committed_session: Session,
    celery_worker: ServiceProcess,
    web_log: pytest.LogCaptureFixture,
) -> None:
    """The flow runs, and none of its phones, emails or tokens leaks anywhere it must not."""
    mapping = {
        "fields": {
            "phone_number": {"from": ["contact.phone", "phone_number"]},
            "email": {"from": ["contact.email", "email"]},
            "external_id": {"from": "lead.id", "type": "string"},
        },
        "idempotency_key": "event_id",
    }
    tenant = make_tenant(committed_session, mapping)
    other = make_tenant(committed_session)
    committed_session.commit()
    people = _people(8)
    worker_log_start = len(celery_worker.log())
    flow = Flow(client, tenant.token)

    _run_flow(flow, tenant.config_id, other.token, people)
    events = _settle(flow)

    statuses = sorted({answer.status_code for answer in flow.answers})
    assert {200, 201, 202, 400, 401, 403, 409, 422} <= set(statuses), statuses
    assert {event["status"] for event in events} == {"done", "failed"}
    assert any(event["warnings"] for event in events), "the conflict leaves a warning"

    secrets = (tenant.token, other.token, *(s for person in people for s in person.secrets()))
    for answer in flow.answers:
        if answer.status_code >= 400:
            assert_no_personal_data(answer.get_data(as_text=True), secrets)
    for event in events:
        assert_no_personal_data(
            json.dumps([event["errors"], event["warnings"], event["last_error"]]), secrets
        )
    for record in web_log.records:
        assert_no_personal_data(_record_text(record), secrets)
    worker_log = celery_worker.log()[worker_log_start:]
    for event in events:
        assert event["id"] in worker_log, "the worker logged its work on every event"
    for line in worker_log.splitlines():
        assert_no_personal_data(line, secrets)


def test_a_server_error_logs_no_values(
    app: Flask, client: FlaskClient, web_log: pytest.LogCaptureFixture
) -> None:
    """A database error quoting a request's values, and an exception naming them, are logged
    with their stack, types and SQL, but without the values; the client sees a bare 500."""
    person = _people(1)[0]
    token = "lg_" + uuid.uuid4().hex

    def database_error() -> str:
        from webhook.db import request_session

        statement = text("SELECT CAST(:value AS integer)")
        request_session().execute(statement, {"value": f"{person.email} {person.dashed} {token}"})
        return "unreachable"

    def value_error() -> str:
        raise ValueError(f"cannot handle {person.e164} / {person.email} / {token}")

    app.add_url_rule("/test-only/database-error", view_func=database_error)
    app.add_url_rule("/test-only/value-error", view_func=value_error)
    secrets = (token, *person.secrets())

    for url in ("/test-only/database-error", "/test-only/value-error"):
        answer = client.get(url)
        assert answer.status_code == 500
        assert answer.get_json() == {"detail": "Internal error."}
    logged = "\n".join(_record_text(record) for record in web_log.records)
    assert "SQLSTATE 22P02" in logged  # what failed is still there to act on
    assert "SELECT CAST" in logged
    assert "ValueError" in logged
    assert "value_error" in logged  # the stack too
    assert_no_personal_data(logged, secrets)


def test_an_open_config_gives_anonymous_callers_nothing_stored(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    """Whoever holds an open config's URL can post, but never read back who is behind it."""
    tenant = make_tenant(committed_session, auth="open")
    committed_session.commit()
    known, other = _people(2)
    owner = {"Prefer": "wait=20", "Authorization": f"Token {tenant.token}"}
    stored = post_payload(
        client,
        tenant.config_id,
        "upsert",
        {"phone_number": known.dashed, "email": known.email, "external_id": "crm-known"},
        None,
        headers=owner,
    )
    assert stored.status_code == 201, stored.get_json()
    lead_id = stored.get_json()["id"]
    # An anonymous caller who knows the phone number: a match, an external-id conflict, a dry run.
    answers = [
        post_payload(
            client, tenant.config_id, "upsert", {"phone_number": known.digits}, None, query=query
        )
        for query in ("wait=20", "wait=0")
    ]
    answers.append(
        post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": known.dotted, "external_id": "crm-other", "email": other.email},
            None,
            headers={"Prefer": "wait=20"},
        )
    )
    answers.append(
        post_payload(client, tenant.config_id, "dry-run", {"phone_number": known.digits}, None)
    )
    assert [answer.status_code for answer in answers] == [200, 202, 201, 401]
    for answer in answers:
        text = answer.get_data(as_text=True) + json.dumps(dict(answer.headers))
        assert_no_personal_data(text, (*known.secrets(), "crm-known", tenant.token))
        assert f'"id": {lead_id}' not in text and f'"id":{lead_id}' not in text
        assert "lead_id" not in text and "warnings" not in text
