"""Provider outcome callbacks end to end: the webhook app, a real Celery worker, a real receiver.

The receiver verifies every request with the ``standardwebhooks`` library, using the key the
config's save answered with. The test services allow loopback addresses and retry on a
schedule of 0, 1 and 2 seconds.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import WebhookDelivery
from models.webhook import DeliveryStatus
from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess
from tests.support.receiver import FAIL, Receiver, running_receiver

pytestmark = pytest.mark.integration

CALLBACK_KEYS = {
    "event_id",
    "status",
    "action",
    "lead_id",
    "errors",
    "idempotency_key",
    "received_time",
    "processed_time",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def tenant(committed_session: Session, celery_worker: ServiceProcess) -> Tenant:
    created = make_tenant(committed_session)
    committed_session.commit()
    return created


@pytest.fixture
def open_tenant(committed_session: Session, celery_worker: ServiceProcess) -> Tenant:
    created = make_tenant(committed_session, auth="open")
    committed_session.commit()
    return created


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _set_callback(client: FlaskClient, tenant: Tenant, receiver: Receiver, path: str) -> None:
    answer = client.patch(
        f"/api/ingestion-configs/{tenant.config_id}/",
        json={"callback_url": receiver.url + path},
        headers=_auth(tenant),
    )
    assert answer.status_code == 200, answer.get_json()
    receiver.secrets.append(answer.get_json()["callback_secret"])


def _post(
    client: FlaskClient,
    tenant: Tenant,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    answer = client.post(
        f"/api/lead-ingestion/{tenant.config_id}/upsert/?wait=10",
        json=payload,
        headers=_auth(tenant) if headers is None else headers,
    )
    assert answer.status_code in (200, 201, 422), answer.get_json()
    return {"status_code": answer.status_code, "event_id": answer.headers["Ingestion-Event-Id"]}


def _callbacks(session: Session, event_id: str) -> list[WebhookDelivery]:
    session.expire_all()
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.ingestion_event_id == uuid.UUID(event_id))
            .order_by(WebhookDelivery.id)
        )
    )


def _settled(session: Session, event_id: str, count: int = 1) -> list[WebhookDelivery]:
    deadline = time.monotonic() + 30
    while True:
        rows = _callbacks(session, event_id)
        finished = [r for r in rows if r.status == DeliveryStatus.delivered]
        if len(finished) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_a_done_event_is_reported_signed_with_its_lead(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    _set_callback(client, tenant, receiver, "/outcomes")

    posted = client.post(
        f"/api/lead-ingestion/{tenant.config_id}/upsert/?wait=10",
        json={"phone_number": "2024561111", "external_id": "CB-1"},
        headers={**_auth(tenant), "Idempotency-Key": "provider-42"},
    )
    assert posted.status_code == 201, posted.get_json()
    lead = posted.get_json()

    [got] = receiver.wait_for(1, "/outcomes")
    assert got.verified_by == (0,)
    assert got.headers["x-leadgate-trigger"] == "EVENT_OUTCOME"
    body = json.loads(got.body)
    assert set(body) == CALLBACK_KEYS
    event_id = posted.headers["Ingestion-Event-Id"]
    assert body["event_id"] == event_id
    assert (body["status"], body["action"], body["lead_id"]) == ("done", "created", lead["id"])
    assert body["errors"] == []
    assert body["idempotency_key"] == "provider-42"
    event = client.get(f"/api/ingestion-events/{event_id}/", headers=_auth(tenant)).get_json()
    assert body["received_time"] == event["received_time"]
    assert body["processed_time"] == event["processed_time"]
    [delivery] = _settled(committed_session, event_id)
    assert delivery.message_id == got.message_id
    log = client.get(
        f"/api/ingestion-configs/{tenant.config_id}/callbacks/", headers=_auth(tenant)
    ).get_json()
    [shown] = log["results"]
    assert (shown["event_id"], shown["status"]) == (event_id, "delivered")
    assert shown["attempts"][0]["status_code"] == 200
    assert "webhook" not in shown


def test_a_failed_event_is_reported_with_its_errors_and_a_replay_sends_again(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    _set_callback(client, tenant, receiver, "/failed")

    posted = _post(client, tenant, {"first_name": "Ada", "phone_number": "12"})
    assert posted["status_code"] == 422

    [first] = receiver.wait_for(1, "/failed")
    body = json.loads(first.body)
    assert (body["status"], body["action"], body["lead_id"]) == ("failed", None, None)
    assert body["errors"] and all(set(e) >= {"field", "message"} for e in body["errors"])
    _settled(committed_session, posted["event_id"])
    replayed = client.post(
        f"/api/ingestion-events/{posted['event_id']}/replay/", headers=_auth(tenant)
    )
    assert replayed.status_code in (200, 202), replayed.get_json()
    # The replay reaches a terminal state again: a new change, a new message.
    got = receiver.wait_for(2, "/failed")
    assert len(got) == 2
    assert got[1].message_id != first.message_id
    assert json.loads(got[1].body)["status"] == "failed"
    assert len(_settled(committed_session, posted["event_id"], count=2)) == 2


def test_an_open_config_s_callback_carries_no_lead_id(
    client: FlaskClient, open_tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    _set_callback(client, open_tenant, receiver, "/open")

    posted = _post(client, open_tenant, {"phone_number": "2024562222"}, headers={})
    assert posted["status_code"] == 201

    [got] = receiver.wait_for(1, "/open")
    assert got.verified_by == (0,)
    body = json.loads(got.body)
    assert set(body) == CALLBACK_KEYS
    assert (body["status"], body["action"], body["lead_id"]) == ("done", "created", None)
    assert "2024562222" not in got.body.decode()


def test_a_failing_receiver_gets_the_same_callback_until_it_succeeds(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    receiver.script("/flaky", FAIL, FAIL)
    _set_callback(client, tenant, receiver, "/flaky")

    posted = _post(client, tenant, {"phone_number": "2024563333"})

    got = receiver.wait_for(3, "/flaky")
    assert [r.answered for r in got] == [500, 500, 200]
    assert len({r.message_id for r in got}) == 1
    assert len({r.body for r in got}) == 1
    assert all(r.verified_by == (0,) for r in got)
    [delivery] = _settled(committed_session, posted["event_id"])
    assert delivery.attempt_count == 3
    assert [a["status_code"] for a in delivery.attempts] == [500, 500, 200]


def test_a_rotated_key_signs_beside_the_old_one(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    _set_callback(client, tenant, receiver, "/rotated")
    answer = client.patch(
        f"/api/ingestion-configs/{tenant.config_id}/",
        json={"rotate_callback_secret": True},
        headers=_auth(tenant),
    )
    assert answer.status_code == 200
    rotated = answer.get_json()
    assert rotated["callback_secret"] not in receiver.secrets
    assert rotated["previous_callback_secret_valid_until"] is not None
    receiver.secrets.append(rotated["callback_secret"])

    _post(client, tenant, {"phone_number": "2024564444"})

    [got] = receiver.wait_for(1, "/rotated")
    assert got.verified_by == (0, 1)
