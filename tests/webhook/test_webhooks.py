"""The lead webhook API: create, read, change, delete, rotate, the delivery log, redeliver."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Webhook, WebhookDelivery
from models.webhook import DeliveryStatus, WebhookTrigger
from tests.support.factories import Tenant, make_delivery, make_tenant, make_webhook
from tests.support.leads import make_lead

PUBLIC_URL = "https://93.184.216.34/hooks/{{external_id}}"


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _create(client: FlaskClient, tenant: Tenant, **fields: Any) -> Any:
    body = {"url": PUBLIC_URL, "trigger": "LEAD_CREATED", **fields}
    return client.post("/api/webhooks/", json=body, headers=_auth(tenant))


@pytest.fixture
def strict_client(services: Any) -> FlaskClient:
    """The app as deployed by default: loopback and private addresses refused."""
    from webhook.app import create_app

    app: Flask = create_app(
        {"TESTING": True, "AUTH_CACHE_SECONDS": 0, "WEBHOOK_ALLOW_PRIVATE": False}
    )
    return app.test_client()


def test_create_answers_the_secret_once_and_never_again(
    client: FlaskClient, tenant: Tenant
) -> None:
    answer = _create(client, tenant, filter_condition="us_state == 'CA'")

    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    assert created["secret"].startswith("whsec_")
    assert created["payload_format"] == "sela"
    assert created["filter_condition"] == "us_state == 'CA'"
    assert created["disabled"] is False
    again = client.get(f"/api/webhooks/{created['id']}/", headers=_auth(tenant)).get_json()
    assert "secret" not in again
    listed = client.get("/api/webhooks/", headers=_auth(tenant)).get_json()
    assert [hook["id"] for hook in listed["results"]] == [created["id"]]
    assert all("secret" not in hook for hook in listed["results"])


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"url": None}, "url", "required"),
        ({"url": "ftp://93.184.216.34/"}, "url", "http:// or https://"),
        ({"url": "https://93.184.216.34/" + "a" * 2048}, "url", "2048"),
        ({"url": "https://93.184.216.34/{{a-b}}"}, "url", "dotted field name"),
        ({"url": "http://169.254.169.254/latest/"}, "url", "metadata"),
        ({"trigger": "LEAD_EXPLODED"}, "trigger", "LEAD_CREATED"),
        ({"payload_format": "xml"}, "payload_format", "sela, standard"),
        ({"filter_condition": "us_state =="}, "filter_condition", "JMESPath"),
        ({"disabled": "yes"}, "disabled", "true or false"),
        ({"colour": "red"}, "colour", "not a field"),
    ],
)
def test_invalid_fields_are_refused_by_name(
    client: FlaskClient, tenant: Tenant, fields: dict[str, Any], field: str, reason: str
) -> None:
    answer = _create(client, tenant, **fields)

    assert answer.status_code == 400
    assert reason in " ".join(answer.get_json()["errors"][field])


def test_every_sela_trigger_is_accepted(client: FlaskClient, tenant: Tenant) -> None:
    statuses = {_create(client, tenant, trigger=t.value).status_code for t in WebhookTrigger}
    assert len(WebhookTrigger) == 21
    assert statuses == {201}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "http://localhost/hook",
        "http://169.254.169.254/",
        "http://[fd00:ec2::254]/",
    ],
)
def test_private_addresses_are_refused_by_default(
    strict_client: FlaskClient, tenant: Tenant, url: str
) -> None:
    answer = _create(strict_client, tenant, url=url)

    assert answer.status_code == 400
    assert "address" in answer.get_json()["errors"]["url"][0]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("http://127.0.0.1:9000/hook", 201),
        ("http://10.0.0.5/hook", 201),
        ("http://169.254.169.254/", 400),
        ("http://[fd00:ec2::254]/", 400),
    ],
)
def test_allowing_private_addresses_never_allows_metadata(
    client: FlaskClient, tenant: Tenant, url: str, status: int
) -> None:
    # The test services set LEADGATE_WEBHOOK_ALLOW_PRIVATE=true.
    assert _create(client, tenant, url=url).status_code == status


def test_another_organizations_webhook_is_a_404(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    hook_id = _create(client, other).get_json()["id"]

    for method, path in [
        ("get", f"/api/webhooks/{hook_id}/"),
        ("patch", f"/api/webhooks/{hook_id}/"),
        ("delete", f"/api/webhooks/{hook_id}/"),
        ("post", f"/api/webhooks/{hook_id}/rotate-secret/"),
        ("get", f"/api/webhooks/{hook_id}/deliveries/"),
        ("post", f"/api/webhooks/{hook_id}/deliveries/1/redeliver/"),
    ]:
        answer = getattr(client, method)(path, json={}, headers=_auth(tenant))
        assert answer.status_code == 404, (method, path)
    assert client.get("/api/webhooks/", headers=_auth(tenant)).get_json()["count"] == 0
    assert client.get(f"/api/webhooks/{hook_id}/", headers=_auth(other)).status_code == 200


def test_without_a_token_it_is_a_401(client: FlaskClient) -> None:
    assert client.get("/api/webhooks/").status_code == 401
    assert client.post("/api/webhooks/", json={}).status_code == 401


def test_patch_disables_with_a_reason_and_enables_again(
    client: FlaskClient, tenant: Tenant
) -> None:
    hook_id = _create(client, tenant).get_json()["id"]
    path = f"/api/webhooks/{hook_id}/"

    off = client.patch(path, json={"disabled": True}, headers=_auth(tenant)).get_json()
    assert (off["disabled"], off["disabled_reason"]) == (True, "disabled through the API")
    on = client.patch(
        path, json={"disabled": False, "trigger": "LEAD_LOST"}, headers=_auth(tenant)
    ).get_json()
    assert (on["disabled"], on["disabled_reason"], on["trigger"]) == (False, None, "LEAD_LOST")
    assert on["url"] == PUBLIC_URL
    bad = client.patch(path, json={"url": "http://169.254.169.254/"}, headers=_auth(tenant))
    assert bad.status_code == 400
    # A reason belongs to a disabled webhook; one given with disabling is kept.
    reason_only = client.patch(path, json={"disabled_reason": "x"}, headers=_auth(tenant))
    assert reason_only.get_json()["disabled_reason"] is None
    off = client.patch(
        path, json={"disabled": True, "disabled_reason": "CRM migration"}, headers=_auth(tenant)
    ).get_json()
    assert off["disabled_reason"] == "CRM migration"


def test_delete_removes_the_webhook(client: FlaskClient, tenant: Tenant) -> None:
    hook_id = _create(client, tenant).get_json()["id"]

    assert client.delete(f"/api/webhooks/{hook_id}/", headers=_auth(tenant)).status_code == 204
    assert client.get(f"/api/webhooks/{hook_id}/", headers=_auth(tenant)).status_code == 404


def test_rotation_keeps_the_old_secret_for_a_day(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    created = _create(client, tenant).get_json()

    rotated = client.post(
        f"/api/webhooks/{created['id']}/rotate-secret/", headers=_auth(tenant)
    ).get_json()

    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    hook = committed_session.get(Webhook, created["id"])
    assert hook is not None
    assert (hook.secret, hook.previous_secret) == (rotated["secret"], created["secret"])
    assert hook.previous_secret_expires_time is not None
    hours = (hook.previous_secret_expires_time - hook.modified_time).total_seconds() / 3600
    assert hours == pytest.approx(24, abs=0.01)


def test_the_delivery_log_and_redelivery(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    hook = make_webhook(committed_session, tenant.organization_id, PUBLIC_URL)
    lead = make_lead(committed_session, tenant)
    attempt = {"time": "2026-01-01T00:00:00+00:00", "status_code": 500, "duration_ms": 3,
               "body": "oops", "error": None}  # fmt: skip
    failed = make_delivery(
        committed_session,
        hook,
        lead.id,
        status=DeliveryStatus.failed,
        attempt_count=3,
        attempts=[attempt],
    )
    pending = make_delivery(committed_session, hook, lead.id)
    committed_session.commit()
    base = f"/api/webhooks/{hook.id}/deliveries/"

    log = client.get(base, headers=_auth(tenant)).get_json()
    assert [item["id"] for item in log["results"]] == [pending.id, failed.id]
    assert log["results"][1]["attempts"] == [attempt]
    assert log["results"][1]["message_id"] == failed.message_id
    only_failed = client.get(base + "?status=failed", headers=_auth(tenant)).get_json()
    assert [item["id"] for item in only_failed["results"]] == [failed.id]

    again = client.post(f"{base}{failed.id}/redeliver/", headers=_auth(tenant))
    assert again.status_code == 202
    assert again.get_json()["status"] == "pending"
    assert again.get_json()["message_id"] == failed.message_id
    committed_session.expire_all()
    row = committed_session.get(WebhookDelivery, failed.id)
    # Back in the queue with its count reset. A worker running in the same test session may
    # already have taken it (sending) or tried it once (pending again, one attempt): never the
    # failed row with its three attempts it was.
    assert row is not None and row.message_id == failed.message_id
    assert row.status in (DeliveryStatus.pending, DeliveryStatus.sending)
    assert row.attempt_count <= 1
    # Still to be sent: nothing to redeliver. An unknown id: 404.
    assert client.post(f"{base}{pending.id}/redeliver/", headers=_auth(tenant)).status_code == 409
    assert client.post(f"{base}999999999/redeliver/", headers=_auth(tenant)).status_code == 404
