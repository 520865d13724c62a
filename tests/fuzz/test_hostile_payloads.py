"""Hostile payloads through the real HTTP path and the real worker (corpus in hostile_corpus.py).

Each request gets a clear 4xx, or is accepted and its event ends as the corpus says (failed
with field errors, or done where the payload is in fact valid): never a 5xx, never an event left
queued or processing, never an unexpected error in the worker's log, and no error body that
repeats the token or the request's phone numbers and emails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.fuzz.hostile_corpus import (
    CONFUSABLE_EMAILS,
    CORPUS,
    EMAIL,
    PHONE,
    Hostile,
)
from tests.support.api import ENDPOINT_SUFFIX, assert_subset, get_lead, post_payload, wait_for_event
from tests.support.factories import Tenant, make_tenant
from tests.support.leaks import assert_no_personal_data
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]

EVENT_TIMEOUT_SECONDS = 60.0


def _post(client: FlaskClient, tenant: Tenant, case: Hostile) -> TestResponse:
    url = f"/api/lead-ingestion/{tenant.config_id}/{ENDPOINT_SUFFIX[case.endpoint]}"
    if case.query:
        url += "?" + case.query
    headers = {"Authorization": f"Token {tenant.token}", **case.headers}
    return client.post(url, data=case.body, content_type=case.content_type, headers=headers)


def _event_id(answer: TestResponse) -> str | None:
    if answer.status_code == 202:
        return str(answer.get_json()["id"])
    return answer.headers.get("Ingestion-Event-Id")


def _check_event(
    client: FlaskClient, tenant: Tenant, case: Hostile, event_id: str, worker: ServiceProcess
) -> dict[str, Any]:
    event = wait_for_event(client, tenant.token, event_id, timeout=EVENT_TIMEOUT_SECONDS)
    assert event["status"] in case.outcomes, f"event ended {event['status']}: {event}"
    if event["status"] == "failed":
        assert event["errors"], "a failed event names what failed"
        for error in event["errors"]:
            assert error["field"] and error["message"], error
    secrets = (tenant.token, *case.personal)
    assert_no_personal_data(json.dumps(event["errors"] + event["warnings"]), secrets)
    assert_no_personal_data(event["last_error"] or "", secrets)
    assert f"{event_id}: unexpected error" not in worker.log()
    return event


def _corpus_params() -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.xfail(strict=True, reason=case.known_defect)]
            if case.known_defect
            else [],
        )
        for case in CORPUS
    ]


@pytest.mark.parametrize("case", _corpus_params())
def test_hostile_payload(
    client: FlaskClient,
    committed_session: Session,
    celery_worker: ServiceProcess,
    case: Hostile,
) -> None:
    """A clear 4xx or an event that ends as expected; never a 5xx, never stuck."""
    tenant = make_tenant(committed_session, case.mapping)
    committed_session.commit()
    answer = _post(client, tenant, case)
    text = answer.get_data(as_text=True)
    assert answer.status_code < 500, text
    assert answer.status_code in case.answers, f"{answer.status_code}: {text[:500]}"
    assert "Traceback" not in text
    if answer.status_code >= 400:
        assert answer.is_json and answer.get_json()["detail"], text
        assert_no_personal_data(text, (tenant.token, *case.personal))
    event_id = _event_id(answer)
    if 200 <= answer.status_code < 300 or answer.status_code == 422:
        assert event_id is not None, f"no event for an accepted request: {text[:500]}"
    if event_id is None:
        assert not case.outcomes, "the corpus expects an event, but none was stored"
        return
    event = _check_event(client, tenant, case, event_id, celery_worker)
    if event["status"] == "done" and case.lead:
        assert_subset(case.lead, get_lead(client, tenant.token, event["lead_id"]))


@pytest.mark.parametrize("name", sorted(CONFUSABLE_EMAILS))
def test_a_confusable_email_never_matches_its_look_alike(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess, name: str
) -> None:
    """An upsert by a look-alike address creates its own lead, leaving the original alone."""
    posted, stored = CONFUSABLE_EMAILS[name]
    tenant = make_tenant(committed_session, match=["email"])
    committed_session.commit()
    first = post_payload(
        client, tenant.config_id, "upsert", {"phone_number": PHONE, "email": EMAIL}, tenant.token
    )
    original = wait_for_event(client, tenant.token, first.get_json()["id"])
    second = post_payload(
        client,
        tenant.config_id,
        "upsert",
        {"phone_number": "4155552671", "email": posted},
        tenant.token,
    )
    event = wait_for_event(client, tenant.token, second.get_json()["id"])
    assert original["status"] == event["status"] == "done"
    if stored == EMAIL:  # the same address in another case is the same address
        assert event["lead_id"] == original["lead_id"]
        assert event["action"] == "updated"
    else:
        assert event["lead_id"] != original["lead_id"]
        assert event["action"] == "created"
    assert get_lead(client, tenant.token, original["lead_id"])["email"] == EMAIL


READ_QUERIES = [
    ("/api/leads/?page=99999999999999999999", 400),
    ("/api/leads/?page_size=-1", 400),
    ("/api/leads/?page=2.0", 200),
    ("/api/leads/?page=1e999999999", 400),
    ("/api/leads/?page=nan", 400),
    ("/api/leads/?campaign=99999999999999999999", 400),
    ("/api/leads/?campaign=" + "9" * 5000, 400),
    ("/api/leads/?external_id=%00", 400),
    ("/api/leads/?email=a%00b%40x.co", 400),
    ("/api/leads/?external_id=1%27%20OR%20%271%27%3D%271", 200),
    ("/api/leads/?email=%27%3B%20DROP%20TABLE%20leads%3B--", 200),
    ("/api/leads/?phone_number=%00", 400),
    ("/api/leads/?phone_number=" + "1" * 10_000, 400),
    ("/api/leads/?status=%00", 400),
    ("/api/leads/?modified_after=%00", 400),
    ("/api/leads/?modified_after=9999-12-31T23:59:59-23:59", 200),
    ("/api/leads/?modified_after=0001-01-01T00:00:00%2B14:00", 200),
    ("/api/leads/99999999999999999999/", 404),
    ("/api/leads/-1/", 404),
    ("/api/leads/%00/", 404),
    ("/api/ingestion-events/?config=%00", 400),
    ("/api/ingestion-events/?since=%ff", 400),
    ("/api/ingestion-events/?status=DONE%00", 400),
    ("/api/ingestion-events/?page=" + "9" * 100, 400),
    ("/api/ingestion-events/?page=2", 400),
    ("/api/ingestion-events/?cursor=%00", 400),
    ("/api/ingestion-events/?cursor=" + "A" * 10_000, 400),
    ("/api/ingestion-events/?payload_contains=" + "%5B" * 5_000, 400),
    (
        "/api/ingestion-events/?payload_contains=%7B%22a%22%3A"
        + "%5B" * 40
        + "1"
        + "%5D" * 40
        + "%7D",
        400,
    ),
    ("/api/ingestion-events/?error_field=%00", 400),
    ("/api/ingestion-events/?lead=99999999999999999999", 400),
    ("/api/ingestion-events/?idempotency_key=" + "k" * 10_000, 200),
    ("/api/ingestion-events/..%2F..%2Fetc%2Fpasswd/", 404),
    ("/api/ingestion-events/" + "a" * 10_000 + "/", 404),
    ("/api/leads/?" + "&".join(f"x{i}=1" for i in range(5_000)), 200),
]


@pytest.mark.parametrize(("url", "status"), READ_QUERIES, ids=[url[:60] for url, _ in READ_QUERIES])
def test_hostile_read_query(
    client: FlaskClient, committed_session: Session, url: str, status: int
) -> None:
    """Read filters and ids out of range, with NUL or SQL-looking text: a 4xx or an answer."""
    tenant = make_tenant(committed_session)
    committed_session.commit()
    answer = client.get(url, headers={"Authorization": f"Token {tenant.token}"})
    assert answer.status_code == status, answer.get_data(as_text=True)[:500]
    if status == 200:
        assert answer.get_json()["count"] == 0
    else:
        assert answer.get_json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/lead-ingestion/not-a-uuid/upsert/",
        "/api/lead-ingestion/%00/upsert/",
        "/api/lead-ingestion/..%2F..%2F/upsert/",
        "/api/lead-ingestion/00000000-0000-0000-0000-000000000000/upsert/",
    ],
)
def test_hostile_config_ids_are_not_found(client: FlaskClient, path: str) -> None:
    """Anything but an active config's UUID is a 404 before the body is read."""
    answer = client.post(path, data=b"{", content_type="application/json")
    assert answer.status_code == 404
    assert answer.get_json()["detail"]


@pytest.mark.parametrize(
    "authorization",
    ["Token " + "x" * 10_000, "Token lg_\u0000", "Token \u00ff\u00fe", "Token  ", "token lg_x"],
    ids=["long", "nul", "latin1", "blank", "lowercase-scheme"],
)
def test_hostile_tokens_are_refused(
    client: FlaskClient, committed_session: Session, authorization: str
) -> None:
    """Odd Authorization headers are a 401 that never repeats the header."""
    tenant = make_tenant(committed_session)
    committed_session.commit()
    answer = post_payload(
        client,
        tenant.config_id,
        "upsert",
        {"phone_number": PHONE},
        None,
        headers={"Authorization": authorization},
    )
    assert answer.status_code == 401
    sent = authorization.partition(" ")[2].strip()
    if sent:
        assert sent not in answer.get_data(as_text=True)


def test_a_raw_nul_in_the_query_string_is_refused(
    client: FlaskClient, committed_session: Session
) -> None:
    """HTTP servers refuse it in the request line; through WSGI it is a 400, not a 500."""
    tenant = make_tenant(committed_session)
    committed_session.commit()
    answer = client.post(
        f"/api/lead-ingestion/{tenant.config_id}/upsert/",
        data=json.dumps({"phone_number": PHONE}),
        content_type="application/json",
        headers={"Authorization": f"Token {tenant.token}"},
        environ_overrides={"QUERY_STRING": "a=\x00"},
    )
    assert answer.status_code == 400
    assert "NUL" in answer.get_json()["detail"]
