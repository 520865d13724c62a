"""Safe test mode over HTTP with a real worker: the Leadgate-Test header and test configs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models import IngestionEvent, Lead, WebhookDelivery
from tests.support.api import post_payload, wait_for_event
from tests.support.factories import Tenant, make_lead_type, make_tenant
from tests.support.receiver import Receiver, running_receiver

pytestmark = pytest.mark.usefixtures("celery_worker")

PHONE = "(202) 456-1111"
TEST = {"Leadgate-Test": "true"}


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _upsert(
    client: FlaskClient, tenant: Tenant, body: dict[str, Any], headers: dict[str, str] | None = None
) -> TestResponse:
    answer = post_payload(
        client, tenant.config_id, "upsert", body, tenant.token, headers=headers, query="wait=20"
    )
    assert answer.status_code in (200, 201), answer.get_json()
    return answer


def _leads(client: FlaskClient, tenant: Tenant, query: str = "") -> TestResponse:
    return client.get(f"/api/leads/{query}", headers=_auth(tenant))


def _event_count(session: Session, tenant: Tenant) -> int:
    session.expire_all()
    return int(
        session.scalar(
            select(func.count())
            .select_from(IngestionEvent)
            .where(IngestionEvent.config_id == tenant.config_id)
        )
        or 0
    )


def test_a_test_lead_and_a_real_lead_with_the_same_identifiers_never_match(
    client: FlaskClient, tenant: Tenant
) -> None:
    body = {"external_id": "X-1", "phone_number": PHONE, "email": "a@example.com"}
    real = _upsert(client, tenant, body)
    assert real.status_code == 201 and real.get_json()["is_test"] is False

    test = _upsert(client, tenant, body, TEST)
    assert test.status_code == 201, "a test event created a lead of its own"
    assert test.headers["Lead-Match"] == "none"
    test_lead = test.get_json()
    assert test_lead["is_test"] is True and test_lead["id"] != real.get_json()["id"]
    event = wait_for_event(client, tenant.token, test.headers["Ingestion-Event-Id"])
    assert event["is_test"] is True
    by_id = event["match_explanation"][0]
    assert by_id["key"] == "external_id"
    [passed] = by_id["candidates"]
    assert passed["lead_id"] == real.get_json()["id"] and passed["taken"] is False
    assert passed["reason"].startswith("test:")

    # Each mode finds its own lead again, by external id and by phone alike.
    again_real = _upsert(client, tenant, {**body, "lead_source": "real"})
    assert again_real.headers["Lead-Match"] == "external_id"
    assert again_real.get_json()["id"] == real.get_json()["id"]
    by_phone = _upsert(client, tenant, {"phone_number": PHONE, "lead_source": "t"}, TEST)
    assert by_phone.headers["Lead-Match"] == "phone_number"
    assert by_phone.get_json()["id"] == test_lead["id"]
    real_by_phone = _upsert(client, tenant, {"phone_number": PHONE, "lead_source": "r"})
    assert real_by_phone.get_json()["id"] == real.get_json()["id"]
    explained = wait_for_event(client, tenant.token, real_by_phone.headers["Ingestion-Event-Id"])
    phone_key = next(k for k in explained["match_explanation"] if k["key"] == "phone_number")
    reasons = {c["lead_id"]: c["reason"] for c in phone_key["candidates"]}
    assert reasons[test_lead["id"]].startswith("test:")

    # The create door's duplicate rule is per mode too.
    created = post_payload(
        client, tenant.config_id, "create", body, tenant.token, headers=TEST, query="wait=20"
    )
    assert created.headers["Lead-Action"] == "duplicate"
    assert created.get_json()["id"] == test_lead["id"]


def test_test_leads_stay_out_of_the_list_and_the_stats_unless_asked(
    client: FlaskClient, tenant: Tenant
) -> None:
    real = _upsert(client, tenant, {"phone_number": PHONE}).get_json()
    test = _upsert(client, tenant, {"phone_number": "(202) 456-2222"}, TEST).get_json()

    listed = _leads(client, tenant).get_json()
    assert [lead["id"] for lead in listed["results"]] == [real["id"]]
    assert listed["count"] == 1
    everything = _leads(client, tenant, "?include_test=true").get_json()
    assert {lead["id"] for lead in everything["results"]} == {real["id"], test["id"]}
    assert _leads(client, tenant, "?include_test=false").get_json()["count"] == 1
    # The lead itself is still readable by id, flagged.
    one = client.get(f"/api/leads/{test['id']}/", headers=_auth(tenant)).get_json()
    assert one["is_test"] is True

    stats_url = f"/api/ingestion-configs/{tenant.config_id}/stats/"
    stats = client.get(stats_url, headers=_auth(tenant)).get_json()
    assert (stats["accepted"], stats["created"], stats["include_test"]) == (1, 1, False)
    with_test = client.get(stats_url + "?include_test=true", headers=_auth(tenant)).get_json()
    assert (with_test["accepted"], with_test["created"]) == (2, 2)

    for url in ("/api/leads/?include_test=yes", stats_url + "?include_test=1"):
        refused = client.get(url, headers=_auth(tenant))
        assert refused.status_code == 400
        assert "include_test" in refused.get_json()["errors"]


@pytest.mark.parametrize("value", ["yes", "1", "", "TRUE!"])
def test_a_header_that_is_not_true_or_false_is_a_400_and_stores_nothing(
    client: FlaskClient, tenant: Tenant, committed_session: Session, value: str
) -> None:
    answer = post_payload(
        client, tenant.config_id, "upsert", {"phone_number": PHONE}, tenant.token,
        headers={"Leadgate-Test": value},
    )  # fmt: skip
    assert answer.status_code == 400
    assert "Leadgate-Test" in answer.get_json()["errors"]
    assert _event_count(committed_session, tenant) == 0


def test_false_is_a_real_event(client: FlaskClient, tenant: Tenant) -> None:
    answer = _upsert(client, tenant, {"phone_number": PHONE}, {"Leadgate-Test": "False"})
    assert answer.get_json()["is_test"] is False


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_caller_without_a_token_may_not_send_the_header(
    client: FlaskClient, committed_session: Session, value: str
) -> None:
    open_tenant = make_tenant(committed_session, auth="open")
    committed_session.commit()
    answer = post_payload(
        client, open_tenant.config_id, "upsert", {"phone_number": PHONE}, None,
        headers={"Leadgate-Test": value},
    )  # fmt: skip
    assert answer.status_code == 400
    assert "Leadgate-Test" in answer.get_json()["errors"]
    assert "token" in answer.get_json()["detail"]
    assert _event_count(committed_session, open_tenant) == 0


def test_a_payload_key_caller_may_not_send_the_header(
    client: FlaskClient, committed_session: Session
) -> None:
    from common.tokens import hash_token

    keyed = make_tenant(
        committed_session,
        auth="payload-key",
        payload_key_path="key",
        payload_key_hash=hash_token("s3cret"),
    )
    committed_session.commit()
    body = {"phone_number": PHONE, "key": "s3cret"}
    answer = post_payload(client, keyed.config_id, "upsert", body, None, headers=TEST)
    assert answer.status_code == 400
    assert "Leadgate-Test" in answer.get_json()["errors"]
    plain = post_payload(client, keyed.config_id, "upsert", body, None, query="wait=20")
    assert plain.status_code == 201, plain.get_json()


def test_the_standard_api_writes_test_leads_and_patches_only_in_their_mode(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    make_lead_type(committed_session, tenant, is_default=True)
    committed_session.commit()
    headers = {**_auth(tenant), **TEST}
    created = client.post("/api/leads/", json={"phone_number": PHONE}, headers=headers)
    assert created.status_code == 201, created.get_json()
    lead = created.get_json()
    assert lead["is_test"] is True
    real = client.post("/api/leads/", json={"phone_number": PHONE}, headers=_auth(tenant))
    assert real.status_code == 201 and real.get_json()["id"] != lead["id"]

    url = f"/api/leads/{lead['id']}/"
    refused = client.patch(url, json={"lead_source": "x"}, headers=_auth(tenant))
    assert refused.status_code == 404 and "Leadgate-Test" in refused.get_json()["detail"]
    patched = client.patch(url, json={"lead_source": "x"}, headers=headers)
    assert patched.status_code == 200 and patched.get_json()["lead_source"] == "x"
    real_url = f"/api/leads/{real.get_json()['id']}/"
    assert client.patch(real_url, json={"lead_source": "y"}, headers=headers).status_code == 404

    bulk = client.post(
        "/api/leads/bulk-create/",
        json={"leads": [{"phone_number": "(202) 456-3333"}, {"phone_number": PHONE}]},
        headers=headers,
    )
    assert bulk.status_code == 200, bulk.get_json()
    [new, duplicate] = bulk.get_json()["results"]
    assert new["action"] == "created" and duplicate["action"] == "duplicate"
    assert duplicate["id"] == lead["id"]
    assert _leads(client, tenant).get_json()["count"] == 1


def test_a_config_marked_test_makes_test_leads_and_its_dry_run_sees_them(
    client: FlaskClient, tenant: Tenant
) -> None:
    real = _upsert(client, tenant, {"external_id": "C-1", "phone_number": PHONE}).get_json()
    config_url = f"/api/ingestion-configs/{tenant.config_id}/"
    marked = client.patch(config_url, json={"test": True}, headers=_auth(tenant))
    assert marked.status_code == 200, marked.get_json()
    assert marked.get_json()["test"] is True

    test = _upsert(client, tenant, {"external_id": "C-1", "phone_number": PHONE})
    assert test.status_code == 201 and test.get_json()["is_test"] is True
    dry = post_payload(client, tenant.config_id, "dry-run", {"external_id": "C-1"}, tenant.token)
    answer = dry.get_json()
    assert (answer["would"], answer["lead_id"], answer["is_test"]) == (
        "unchanged",
        test.get_json()["id"],
        True,
    )

    unmarked = client.patch(config_url, json={"test": False}, headers=_auth(tenant))
    assert unmarked.get_json()["test"] is False
    again = _upsert(client, tenant, {"external_id": "C-1", "lead_source": "back"})
    assert again.get_json()["id"] == real["id"]
    refused = client.patch(config_url, json={"test": "yes"}, headers=_auth(tenant))
    assert refused.status_code == 400 and "test" in refused.get_json()["errors"]


def test_the_dry_run_honours_the_header(client: FlaskClient, tenant: Tenant) -> None:
    real = _upsert(client, tenant, {"external_id": "D-1", "phone_number": PHONE}).get_json()
    body = {"external_id": "D-1"}
    plain = post_payload(client, tenant.config_id, "dry-run", body, tenant.token).get_json()
    assert (plain["would"], plain["lead_id"], plain["is_test"]) == ("unchanged", real["id"], False)
    tested = post_payload(
        client, tenant.config_id, "dry-run", {**body, "phone_number": PHONE}, tenant.token,
        headers=TEST,
    ).get_json()  # fmt: skip
    assert (tested["would"], tested["lead_id"], tested["is_test"]) == ("create", None, True)
    bad = post_payload(
        client, tenant.config_id, "dry-run", body, tenant.token, headers={"Leadgate-Test": "on"}
    )
    assert bad.status_code == 400 and "Leadgate-Test" in bad.get_json()["errors"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def test_a_subscribed_webhook_receives_nothing_for_a_test_lead_but_the_callback_goes(
    client: FlaskClient, tenant: Tenant, receiver: Receiver, committed_session: Session
) -> None:
    hook = client.post(
        "/api/webhooks/",
        json={"url": receiver.url + "/leads", "trigger": "LEAD_CREATED"},
        headers=_auth(tenant),
    )
    assert hook.status_code == 201, hook.get_json()
    callback = client.patch(
        f"/api/ingestion-configs/{tenant.config_id}/",
        json={"callback_url": receiver.url + "/outcomes"},
        headers=_auth(tenant),
    )
    assert callback.status_code == 200, callback.get_json()

    test = _upsert(client, tenant, {"external_id": "W-test", "phone_number": PHONE}, TEST)
    test_event = test.headers["Ingestion-Event-Id"]
    # The provider's outcome callback reports the test event as any other.
    [reported] = receiver.wait_for(1, "/outcomes")
    assert json.loads(reported.body)["event_id"] == test_event
    real = _upsert(client, tenant, {"external_id": "W-real", "phone_number": PHONE})
    receiver.wait_for(2, "/outcomes")
    # The real lead's delivery arrives; had the test lead's been queued, it would be first.
    [delivered] = receiver.wait_for(1, "/leads")
    assert json.loads(delivered.body)["id"] == real.get_json()["id"]
    committed_session.expire_all()
    queued = committed_session.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.lead_id == test.get_json()["id"])
    )
    assert queued == 0
    assert len(receiver.requests_to("/leads")) == 1


def test_an_expired_test_lead_is_gone_after_the_sweep_and_its_events_stay(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    from worker.tasks import sweep

    real = _upsert(client, tenant, {"phone_number": PHONE}).get_json()
    old = _upsert(client, tenant, {"phone_number": PHONE, "external_id": "old"}, TEST)
    fresh = _upsert(client, tenant, {"phone_number": PHONE, "external_id": "new"}, TEST)
    old_id, fresh_id = old.get_json()["id"], fresh.get_json()["id"]
    # Move the clock by ageing the row, past the default TTL of 24 hours.
    committed_session.execute(
        update(Lead)
        .where(Lead.id.in_([old_id, real["id"]]))
        .values(created_time=func.now() - func.make_interval(0, 0, 0, 0, 25))
    )
    committed_session.commit()

    sweep()

    assert client.get(f"/api/leads/{old_id}/", headers=_auth(tenant)).status_code == 404
    assert client.get(f"/api/leads/{fresh_id}/", headers=_auth(tenant)).status_code == 200
    assert client.get(f"/api/leads/{real['id']}/", headers=_auth(tenant)).status_code == 200
    event = wait_for_event(client, tenant.token, old.headers["Ingestion-Event-Id"])
    assert (event["status"], event["action"], event["lead_id"]) == ("done", "created", None)
    committed_session.expire_all()
    kept = committed_session.get(IngestionEvent, uuid.UUID(old.headers["Ingestion-Event-Id"]))
    assert kept is not None and kept.is_test
