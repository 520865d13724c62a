"""Lead webhooks end to end: the webhook app, a real Celery worker and a real receiver.

The receiver verifies every request with the ``standardwebhooks`` library. The test services
allow loopback addresses and retry on a schedule of 0, 1 and 2 seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Webhook, WebhookDelivery
from models.webhook import DeliveryStatus
from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess
from tests.support.receiver import FAIL, GONE, Receiver, running_receiver, throttled

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def tenant(committed_session: Session, celery_worker: ServiceProcess) -> Tenant:
    created = make_tenant(committed_session)
    committed_session.commit()
    return created


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _webhook(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, path: str, **fields: Any
) -> dict[str, Any]:
    body = {"url": receiver.url + path, "trigger": "LEAD_CREATED", **fields}
    answer = client.post("/api/webhooks/", json=body, headers=_auth(tenant))
    assert answer.status_code == 201, answer.get_json()
    created: dict[str, Any] = answer.get_json()
    receiver.secrets.append(created["secret"])
    return created


def _upsert(client: FlaskClient, tenant: Tenant, payload: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(
        f"/api/lead-ingestion/{tenant.config_id}/upsert/?wait=10",
        json=payload,
        headers=_auth(tenant),
    )
    assert answer.status_code in (200, 201), answer.get_json()
    lead: dict[str, Any] = answer.get_json()
    return lead


def _deliveries(session: Session, webhook_id: int) -> list[WebhookDelivery]:
    session.expire_all()
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.id)
        )
    )


def _settled(session: Session, webhook_id: int, count: int, timeout: float = 30) -> list[Any]:
    """Wait until ``count`` deliveries of the webhook are delivered or failed."""
    deadline = time.monotonic() + timeout
    while True:
        rows = _deliveries(session, webhook_id)
        finished = [
            r for r in rows if r.status in (DeliveryStatus.delivered, DeliveryStatus.failed)
        ]
        if len(finished) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_a_new_lead_is_delivered_signed_as_the_lead_api_shows_it(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    hook = _webhook(client, tenant, receiver, "/created/{{external_id}}")

    lead = _upsert(client, tenant, {"phone_number": "2024561111", "external_id": "E 1"})

    [got] = receiver.wait_for(1, "/created/E%201")
    assert got.verified_by == (0,)
    assert got.headers["x-leadgate-trigger"] == "LEAD_CREATED"
    shown = client.get(f"/api/leads/{lead['id']}/", headers=_auth(tenant)).get_json()
    assert json.loads(got.body) == shown
    [delivery] = _settled(committed_session, hook["id"], 1)
    assert delivery.status == DeliveryStatus.delivered
    assert delivery.message_id == got.message_id
    log = client.get(f"/api/webhooks/{hook['id']}/deliveries/", headers=_auth(tenant)).get_json()
    assert log["results"][0]["attempts"][0]["status_code"] == 200
    # The worker counted the attempt where this host's /metrics reads it.
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'leadgate_webhook_attempts_total{outcome="delivered",trigger="LEAD_CREATED"}' in metrics
    assert 'leadgate_webhook_attempt_seconds_count{trigger="LEAD_CREATED"}' in metrics


def test_a_failing_receiver_gets_the_same_message_until_it_succeeds(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    receiver.script("/flaky", FAIL, FAIL)
    hook = _webhook(client, tenant, receiver, "/flaky")

    _upsert(client, tenant, {"phone_number": "2024561111"})

    got = receiver.wait_for(3, "/flaky")
    assert [r.answered for r in got] == [500, 500, 200]
    assert len({(r.message_id, r.body) for r in got}) == 1
    assert all(r.verified_by == (0,) for r in got)
    [delivery] = _settled(committed_session, hook["id"], 1)
    assert delivery.status == DeliveryStatus.delivered
    assert [a["status_code"] for a in delivery.attempts] == [500, 500, 200]


def test_a_receiver_failing_every_attempt_ends_failed_and_can_be_redelivered(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    receiver.script("/down", FAIL, FAIL, FAIL)
    hook = _webhook(client, tenant, receiver, "/down")
    _upsert(client, tenant, {"phone_number": "2024561111"})
    [delivery] = _settled(committed_session, hook["id"], 1)
    assert delivery.status == DeliveryStatus.failed
    assert delivery.attempt_count == 3

    again = client.post(
        f"/api/webhooks/{hook['id']}/deliveries/{delivery.id}/redeliver/", headers=_auth(tenant)
    )

    assert again.status_code == 202
    got = receiver.wait_for(4, "/down")
    assert got[-1].answered == 200 and got[-1].message_id == got[0].message_id
    [delivered] = _settled(committed_session, hook["id"], 1)
    assert delivered.status == DeliveryStatus.delivered


def test_410_disables_the_webhook(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    receiver.script("/gone", GONE)
    hook = _webhook(client, tenant, receiver, "/gone")

    _upsert(client, tenant, {"phone_number": "2024561111"})

    [delivery] = _settled(committed_session, hook["id"], 1)
    assert delivery.status == DeliveryStatus.failed
    assert len(receiver.requests_to("/gone")) == 1
    shown = client.get(f"/api/webhooks/{hook['id']}/", headers=_auth(tenant)).get_json()
    assert shown["disabled"] is True
    assert shown["disabled_reason"] == "the receiver answered 410 Gone"


def test_429_is_retried_after_retry_after(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    receiver.script("/busy", throttled(2))
    hook = _webhook(client, tenant, receiver, "/busy")

    _upsert(client, tenant, {"phone_number": "2024561111"})

    [delivery] = _settled(committed_session, hook["id"], 1)
    first, second = (dt.datetime.fromisoformat(a["time"]) for a in delivery.attempts)
    assert [a["status_code"] for a in delivery.attempts] == [429, 200]
    # The schedule's second wait is 1 s; the receiver asked for 2.
    assert (second - first).total_seconds() >= 2


def test_changes_of_one_lead_arrive_in_order_and_other_leads_do_not_wait(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    hook = _webhook(client, tenant, receiver, "/updates/{{external_id}}", trigger="LEAD_UPDATED")
    _upsert(client, tenant, {"phone_number": "2024561111", "external_id": "slow"})
    _upsert(client, tenant, {"phone_number": "2024561112", "external_id": "fast"})
    # The slow lead's first update fails twice; its later ones must wait behind it.
    receiver.script("/updates/slow", FAIL, FAIL)

    for source in ("a", "b", "c"):
        _upsert(client, tenant, {"external_id": "slow", "lead_source": source})
    _upsert(client, tenant, {"external_id": "fast", "lead_source": "x"})

    slow = receiver.wait_for(5, "/updates/slow")
    fast = receiver.wait_for(1, "/updates/fast")
    delivered = [json.loads(r.body)["lead_source"] for r in slow if r.answered == 200]
    assert delivered == ["a", "b", "c"]
    assert [r.answered for r in fast] == [200]
    # The fast lead's update went out while the slow lead's first was still being retried.
    arrivals = receiver.received
    assert arrivals.index(fast[0]) < arrivals.index(next(r for r in slow if r.answered == 200))
    assert len(_settled(committed_session, hook["id"], 4)) == 4


def test_during_a_rotation_both_secrets_verify(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    hook = _webhook(client, tenant, receiver, "/rotated")
    rotated = client.post(f"/api/webhooks/{hook['id']}/rotate-secret/", headers=_auth(tenant))
    receiver.secrets.append(rotated.get_json()["secret"])

    _upsert(client, tenant, {"phone_number": "2024561111"})

    [got] = receiver.wait_for(1, "/rotated")
    # The receiver still on the old secret and the one already on the new both verify.
    assert got.verified_by == (0, 1)
    row = committed_session.get(Webhook, hook["id"])
    assert row is not None and row.previous_secret == hook["secret"]
