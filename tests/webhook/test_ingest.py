"""The ingestion endpoints over HTTP: auth, bodies, idempotency, waiting, outages."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent
from models.enums import EventStatus
from tests.support.api import post_payload, wait_for_event
from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess

PHONE = "(202) 456-1111"
FORM = "application/x-www-form-urlencoded"


def _event(session: Session, event_id: str) -> IngestionEvent:
    session.expire_all()
    event = session.get(IngestionEvent, uuid.UUID(event_id))
    assert event is not None
    return event


class TestAuthentication:
    def test_missing_token_is_401(self, client: FlaskClient, tenant: Tenant) -> None:
        answer = post_payload(client, tenant.config_id, "upsert", {"phone_number": PHONE}, None)
        assert answer.status_code == 401
        assert answer.get_json()["detail"]

    @pytest.mark.parametrize("header", ["Bearer abc", "Token", "token abc", "abc"])
    def test_malformed_header_is_401(
        self, client: FlaskClient, tenant: Tenant, header: str
    ) -> None:
        answer = client.post(
            f"/api/lead-ingestion/{tenant.config_id}/upsert/",
            json={"phone_number": PHONE},
            headers={"Authorization": header},
        )
        assert answer.status_code == 401

    def test_wrong_token_is_401(self, client: FlaskClient, tenant: Tenant) -> None:
        answer = post_payload(client, tenant.config_id, "upsert", {}, "lg_not-a-real-token")
        assert answer.status_code == 401

    def test_other_organization_token_is_403(
        self, client: FlaskClient, tenant: Tenant, committed_session: Session
    ) -> None:
        other = make_tenant(committed_session)
        committed_session.commit()
        answer = post_payload(client, tenant.config_id, "upsert", {}, other.token)
        assert answer.status_code == 403

    def test_unknown_and_inactive_configs_are_404(
        self, client: FlaskClient, tenant: Tenant, committed_session: Session
    ) -> None:
        assert post_payload(client, uuid.uuid4(), "upsert", {}, tenant.token).status_code == 404
        assert post_payload(client, "not-a-uuid", "upsert", {}, tenant.token).status_code == 404
        config = committed_session.get(IngestionConfig, tenant.config_id)
        assert config is not None
        config.active = False
        committed_session.commit()
        answer = post_payload(client, tenant.config_id, "upsert", {}, tenant.token)
        assert answer.status_code == 404

    def test_open_config_needs_no_token(
        self, client: FlaskClient, committed_session: Session
    ) -> None:
        open_tenant = make_tenant(committed_session, auth="open")
        committed_session.commit()
        answer = post_payload(
            client, open_tenant.config_id, "upsert", {"phone_number": PHONE}, None
        )
        assert answer.status_code == 202


class TestBodies:
    def test_accepted_answer_names_the_event(
        self, client: FlaskClient, tenant: Tenant, committed_session: Session
    ) -> None:
        answer = post_payload(
            client, tenant.config_id, "upsert", {"phone_number": PHONE}, tenant.token
        )
        assert answer.status_code == 202
        body = answer.get_json()
        assert body["status"] == "queued"
        assert body["status_url"] == f"/api/ingestion-events/{body['id']}/"
        assert answer.headers["Location"] == body["status_url"]
        stored = _event(committed_session, body["id"])
        assert json.loads(stored.raw_body) == {"phone_number": PHONE}
        assert stored.organization_id == tenant.organization_id

    def test_status_url_names_each_event_under_the_mount_point(
        self, client: FlaskClient, tenant: Tenant
    ) -> None:
        # Served under a path prefix (SCRIPT_NAME), the URL keeps it; each answer has its own id.
        urls = []
        for phone in (PHONE, "+14155550199"):
            answer = client.post(
                f"/api/lead-ingestion/{tenant.config_id}/upsert/",
                json={"phone_number": phone},
                headers={"Authorization": f"Token {tenant.token}"},
                base_url="http://localhost/gate",
            )
            assert answer.status_code == 202
            body = answer.get_json()
            assert body["status_url"] == f"/gate/api/ingestion-events/{body['id']}/"
            urls.append(body["status_url"])
        assert urls[0] != urls[1]
        # The prefix is the request's, not the first one's.
        answer = post_payload(
            client, tenant.config_id, "upsert", {"phone_number": "+14155550123"}, tenant.token
        )
        assert answer.get_json()["status_url"].startswith("/api/ingestion-events/")

    @pytest.mark.parametrize(
        "body",
        ["[1, 2]", '"text"', "42", "null", "{not json", "", '{"a": NaN}'],
        ids=["list", "string", "number", "null", "broken", "empty", "nan"],
    )
    def test_body_that_is_not_an_object_is_400(
        self, client: FlaskClient, tenant: Tenant, body: str
    ) -> None:
        answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token)
        assert answer.status_code == 400
        assert answer.get_json()["detail"]

    def test_invalid_utf8_is_400(self, client: FlaskClient, tenant: Tenant) -> None:
        answer = client.post(
            f"/api/lead-ingestion/{tenant.config_id}/upsert/",
            data=b'{"a": "\xff"}',
            content_type="application/json",
            headers={"Authorization": f"Token {tenant.token}"},
        )
        assert answer.status_code == 400

    @pytest.mark.parametrize(
        ("body", "content_type", "reason"),
        [
            ("name=Jos%E9", FORM, "not valid utf-8 (byte 0xe9)"),
            ("a=1", FORM + "; charset=klingon", "'klingon' is not a known text encoding"),
        ],
        ids=["escape-not-utf8", "unknown-charset"],
    )
    def test_undecodable_form_is_400_naming_the_problem(
        self, client: FlaskClient, tenant: Tenant, body: str, content_type: str, reason: str
    ) -> None:
        answer = post_payload(
            client, tenant.config_id, "upsert", body, tenant.token, content_type=content_type
        )
        assert answer.status_code == 400
        assert reason in answer.get_json()["detail"]

    def test_other_content_type_is_415(self, client: FlaskClient, tenant: Tenant) -> None:
        answer = post_payload(
            client, tenant.config_id, "upsert", "<lead/>", tenant.token, content_type="text/xml"
        )
        assert answer.status_code == 415

    def test_too_large_is_413(self, app: Flask, tenant: Tenant) -> None:
        app.config["MAX_BODY_BYTES"] = 100
        body = {"phone_number": PHONE, "notes": "x" * 200}
        answer = post_payload(app.test_client(), tenant.config_id, "upsert", body, tenant.token)
        assert answer.status_code == 413

    def test_query_parameters_merge_under_body_keys(
        self, client: FlaskClient, tenant: Tenant, committed_session: Session
    ) -> None:
        answer = post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": PHONE, "lead_source": "body"},
            tenant.token,
            query="lead_source=query&sub_id=7&wait=0",
        )
        assert answer.status_code == 202
        assert _event(committed_session, answer.get_json()["id"]).query_string == (
            "lead_source=query&sub_id=7"
        )


class TestIdempotency:
    def test_same_key_same_body_answers_first_event(
        self, client: FlaskClient, tenant: Tenant
    ) -> None:
        headers = {"Idempotency-Key": "abc"}
        first = post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": PHONE},
            tenant.token,
            headers=headers,
        )
        again = post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": PHONE},
            tenant.token,
            headers=headers,
        )
        assert first.status_code == again.status_code == 202
        assert first.get_json()["id"] == again.get_json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"

    def test_same_key_other_body_is_409(self, client: FlaskClient, tenant: Tenant) -> None:
        headers = {"Idempotency-Key": "abc"}
        post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": PHONE},
            tenant.token,
            headers=headers,
        )
        other = post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": "(202) 456-1112"},
            tenant.token,
            headers=headers,
        )
        assert other.status_code == 409

    def test_key_from_mapping_path(self, client: FlaskClient, committed_session: Session) -> None:
        keyed = make_tenant(committed_session, {"idempotency_key": "event.id"})
        committed_session.commit()
        body = {"phone_number": PHONE, "event": {"id": "evt-1"}}
        first = post_payload(client, keyed.config_id, "upsert", body, keyed.token)
        again = post_payload(client, keyed.config_id, "upsert", body, keyed.token)
        assert first.get_json()["id"] == again.get_json()["id"]
        other = post_payload(
            client,
            keyed.config_id,
            "upsert",
            {"phone_number": PHONE, "event": {"id": "evt-2"}},
            keyed.token,
        )
        assert other.get_json()["id"] != first.get_json()["id"]

    def test_long_key_from_mapping_path_is_digested(
        self, client: FlaskClient, committed_session: Session
    ) -> None:
        keyed = make_tenant(committed_session, {"idempotency_key": "event.id"})
        committed_session.commit()
        body = {"phone_number": PHONE, "event": {"id": "k" * 400}}
        first = post_payload(client, keyed.config_id, "upsert", body, keyed.token)
        again = post_payload(client, keyed.config_id, "upsert", body, keyed.token)
        assert first.status_code == 202
        assert first.get_json()["id"] == again.get_json()["id"]
        stored = _event(committed_session, first.get_json()["id"])
        assert (stored.idempotency_key or "").startswith("sha256:")

    def test_overlong_key_is_digested_alike_from_the_header_or_the_path(
        self, client: FlaskClient, committed_session: Session
    ) -> None:
        keyed = make_tenant(committed_session, {"idempotency_key": "event.id"})
        committed_session.commit()
        long_key = "k" * 300
        body = {"phone_number": PHONE}
        first = post_payload(
            client,
            keyed.config_id,
            "upsert",
            body,
            keyed.token,
            headers={"Idempotency-Key": long_key},
        )
        assert first.status_code == 202, first.get_json()
        again = post_payload(
            client,
            keyed.config_id,
            "upsert",
            body,
            keyed.token,
            headers={"Idempotency-Key": long_key},
        )
        assert again.get_json()["id"] == first.get_json()["id"]
        stored = _event(committed_session, first.get_json()["id"])
        assert stored.idempotency_key == "sha256:" + hashlib.sha256(long_key.encode()).hexdigest()
        # The same key from the payload's path is the same key: another body under it is a 409.
        from_path = post_payload(
            client, keyed.config_id, "upsert", {**body, "event": {"id": long_key}}, keyed.token
        )
        assert from_path.status_code == 409

    def test_same_key_on_another_config_is_independent(
        self, client: FlaskClient, tenant: Tenant, committed_session: Session
    ) -> None:
        other = make_tenant(committed_session)
        committed_session.commit()
        headers = {"Idempotency-Key": "shared"}
        first = post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": PHONE},
            tenant.token,
            headers=headers,
        )
        second = post_payload(
            client, other.config_id, "upsert", {"phone_number": PHONE}, other.token, headers=headers
        )
        assert first.get_json()["id"] != second.get_json()["id"]


@pytest.mark.integration
class TestWaiting:
    def test_created_then_updated_then_invalid(
        self, client: FlaskClient, tenant: Tenant, celery_worker: ServiceProcess
    ) -> None:
        created = post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": PHONE, "email": "w@example.com"},
            tenant.token,
            query="wait=20",
        )
        assert created.status_code == 201, created.get_json()
        lead = created.get_json()
        assert lead["phone_number"] == "+12024561111" and lead["email"] == "w@example.com"
        assert created.headers["Lead-Action"] == "created"
        updated = post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": PHONE, "lead_source": "S"},
            tenant.token,
            headers={"Prefer": "wait=20"},
        )
        assert updated.status_code == 200
        assert updated.headers["Lead-Action"] == "updated"
        assert updated.get_json()["id"] == lead["id"]
        invalid = post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": "(123) 456-7899", "email": "nope"},
            tenant.token,
            query="wait=20",
        )
        assert invalid.status_code == 422
        assert set(invalid.get_json()["errors"]) == {"phone_number", "email"}

    def test_wait_runs_out_with_202(
        self, client: FlaskClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("webhook.inbox.wake_config", lambda *_: False)
        answer = post_payload(
            client,
            tenant.config_id,
            "upsert",
            {"phone_number": PHONE},
            tenant.token,
            query="wait=0.3",
        )
        assert answer.status_code == 202
        assert answer.get_json()["status"] == "queued"


@pytest.mark.integration
class TestFormBodies:
    def test_blank_repeated_value_is_dropped(
        self, client: FlaskClient, tenant: Tenant, celery_worker: ServiceProcess
    ) -> None:
        answer = post_payload(
            client,
            tenant.config_id,
            "upsert",
            "phone_number=2024561111&email=a%40b.co&email=",
            tenant.token,
            content_type=FORM,
            query="wait=20",
        )
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["email"] == "a@b.co"

    def test_charset_of_the_content_type_is_honoured(
        self, client: FlaskClient, tenant: Tenant, celery_worker: ServiceProcess
    ) -> None:
        answer = client.post(
            f"/api/lead-ingestion/{tenant.config_id}/upsert/?wait=20",
            data=b"phone_number=2024561111&first_name=Jos%E9&city=M\xfcnchen",
            content_type=FORM + "; charset=ISO-8859-1",
            headers={"Authorization": f"Token {tenant.token}"},
        )
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["metadata"] == {
            "first_name": "José",
            "city": "München",
            "timezone": "America/New_York",
        }

    def test_json_labelled_as_a_form_is_read_as_json_with_a_warning(
        self, client: FlaskClient, tenant: Tenant, celery_worker: ServiceProcess
    ) -> None:
        # What curl --data-binary @lead.json sends without -H 'Content-Type: application/json'.
        answer = post_payload(
            client,
            tenant.config_id,
            "upsert",
            json.dumps({"phone_number": PHONE, "email": "curl@example.com"}),
            tenant.token,
            content_type=FORM,
        )
        event = wait_for_event(client, tenant.token, answer.get_json()["id"])
        assert (event["status"], event["action"]) == ("done", "created")
        assert [warning["field"] for warning in event["warnings"]] == ["body"]
        assert "read as JSON" in event["warnings"][0]["reason"]


class TestOutages:
    def test_broker_down_still_accepts_and_keeps_the_event(
        self,
        client: FlaskClient,
        tenant: Tenant,
        committed_session: Session,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from celery import Celery

        dead = Celery("dead-broker", broker="redis://127.0.0.1:1/0")
        dead.conf.broker_transport_options = {"max_retries": 0, "socket_connect_timeout": 0.5}
        monkeypatch.setattr("webhook.broker._client", lambda: dead)
        answer = post_payload(
            client, tenant.config_id, "upsert", {"phone_number": PHONE}, tenant.token
        )
        assert answer.status_code == 202
        # Kept in the inbox; a session worker woken by another test's event may claim it too.
        kept = _event(committed_session, answer.get_json()["id"])
        assert kept.status in (EventStatus.queued, EventStatus.processing, EventStatus.done)

    def test_database_down_is_503_with_retry_after(
        self, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from common.settings import get_settings
        from webhook.app import create_app

        monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
        get_settings.cache_clear()
        try:
            client = create_app({"TESTING": True, "AUTH_CACHE_SECONDS": 0}).test_client()
            answer = post_payload(
                client, tenant.config_id, "upsert", {"phone_number": PHONE}, tenant.token
            )
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()
        assert answer.status_code == 503
        assert answer.headers["Retry-After"]
        assert "Traceback" not in answer.get_data(as_text=True)


@pytest.mark.integration
def test_event_api_reports_outcome(
    client: FlaskClient, tenant: Tenant, celery_worker: ServiceProcess
) -> None:
    answer = post_payload(client, tenant.config_id, "upsert", {"phone_number": PHONE}, tenant.token)
    event = wait_for_event(client, tenant.token, answer.get_json()["id"])
    assert event["status"] == "done" and event["action"] == "created"
    assert event["attempts"] == 1
    assert event["matched_by"] is None
    assert event["processed_time"] is not None
