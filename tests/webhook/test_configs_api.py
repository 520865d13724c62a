"""Configs over HTTP: the CLI's rules and messages, the token's organization only, versions."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import IngestionConfig
from models.enums import EventAction, EventStatus
from tests.support.factories import Tenant, make_event, make_lead_type, make_tenant
from tests.support.leads import make_lead

PHONE = {"fields": {"phone_number": "contact.phone"}}
MOBILE = {"fields": {"phone_number": "contact.mobile"}}
BASE = "/api/ingestion-configs/"


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _create(client: FlaskClient, tenant: Tenant, **body: Any) -> Any:
    return client.post(BASE, json={"campaign": tenant.campaign_id, **body}, headers=_auth(tenant))


def test_create_read_list_and_change_a_config(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    lead_type = make_lead_type(committed_session, tenant)
    committed_session.commit()
    created = _create(
        client, tenant, name="provider A", mapping=PHONE, match=["phone_number"],
        lead_type=lead_type.id,
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    config = created.get_json()
    assert created.headers["Location"].endswith(f"{BASE}{config['id']}/")
    assert (config["name"], config["mapping"], config["match"]) == (
        "provider A", PHONE, ["phone_number"],
    )  # fmt: skip
    assert config["organization"] == tenant.organization_id and config["mapping_version"] == 1
    url = f"{BASE}{config['id']}/"
    assert client.get(url, headers=_auth(tenant)).get_json() == config
    listed = client.get(BASE, headers=_auth(tenant)).get_json()
    assert {c["id"] for c in listed["results"]} == {str(tenant.config_id), config["id"]}

    changed = client.patch(
        url,
        json={"mapping": MOBILE, "lead_type": None, "message": "renamed"},
        headers=_auth(tenant),
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["lead_type"] is None
    assert changed.get_json()["mapping_version"] == 2
    assert changed.get_json()["version"] == config["version"] + 1


def test_another_organizations_config_is_not_found(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    url = f"{BASE}{other.config_id}/"
    assert client.get(url, headers=_auth(tenant)).status_code == 404
    assert client.patch(url, json={"name": "x"}, headers=_auth(tenant)).status_code == 404
    assert client.get(f"{url}versions/", headers=_auth(tenant)).status_code == 404
    # Nor may a config be made in another organization's campaign.
    refused = client.post(BASE, json={"campaign": other.campaign_id}, headers=_auth(tenant))
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {
        "campaign": [f"no campaign with id {other.campaign_id}"]
    }
    listed = client.get(BASE, headers=_auth(tenant)).get_json()["results"]
    assert str(other.config_id) not in {c["id"] for c in listed}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"match": ["email", "zip"]}, "match", "unknown match key zip"),
        ({"name": ""}, "name", "must not be empty"),
        ({"max_body_bytes": 0}, "max_body_bytes", "positive"),
        ({"lead_type": 2**40}, "lead_type", "whole number from 0"),
        ({"lead_type": "3"}, "lead_type", "expected integer or null, got string"),
        ({"auth": "hmac-ish"}, "auth", "expected one of"),
        ({"version": 9}, "version", "unknown or read-only"),
        ({"name": "a\u0000b"}, "name", "without NUL"),
    ],
)
def test_refusals_are_400s_naming_the_field(
    client: FlaskClient, tenant: Tenant, body: dict[str, Any], field: str, words: str
) -> None:
    answer = client.patch(f"{BASE}{tenant.config_id}/", json=body, headers=_auth(tenant))
    assert answer.status_code == 400, answer.get_json()
    messages = answer.get_json()["errors"][field]
    assert any(words in message for message in messages), messages


def test_a_bad_mapping_lists_every_problem_as_the_cli_does(
    client: FlaskClient, tenant: Tenant
) -> None:
    bad = {"fields": {"phone_number": {"from": "a", "value": "b"}, "nope": "x"}, "extra": 1}
    answer = _create(client, tenant, mapping=bad)
    assert answer.status_code == 400
    problems = answer.get_json()["errors"]["mapping"]
    for where in (
        "mapping: unknown key 'extra'",
        "fields.phone_number: needs exactly one of",
        "fields.nope: ",
    ):
        assert any(p.startswith(where) for p in problems), problems  # fmt: skip


def test_versions_list_show_and_restore(client: FlaskClient, tenant: Tenant) -> None:
    config = _create(client, tenant, mapping=PHONE).get_json()
    url = f"{BASE}{config['id']}/"
    client.patch(
        url, json={"mapping": MOBILE, "message": "provider renamed"}, headers=_auth(tenant)
    )
    versions = client.get(f"{url}versions/", headers=_auth(tenant)).get_json()
    assert [(v["number"], v["mapping"]) for v in versions["results"]] == [(2, MOBILE), (1, PHONE)]
    assert versions["results"][0]["message"] == "provider renamed"
    assert versions["results"][0]["saved_by"].startswith("token ")
    one = client.get(f"{url}versions/1/", headers=_auth(tenant)).get_json()
    assert one["mapping"] == PHONE
    assert client.get(f"{url}versions/7/", headers=_auth(tenant)).status_code == 404

    restored = client.post(
        f"{url}versions/1/restore/", headers=_auth(tenant), json={"message": "back to v1"}
    )
    assert restored.status_code == 201, restored.get_json()
    assert (restored.get_json()["number"], restored.get_json()["mapping"]) == (3, PHONE)
    assert restored.get_json()["message"] == "back to v1"
    assert client.get(url, headers=_auth(tenant)).get_json()["mapping"] == PHONE
    again = client.post(f"{url}versions/3/restore/", headers=_auth(tenant))
    assert again.status_code == 409
    assert "nothing to restore" in again.get_json()["detail"]


def test_a_body_that_is_not_json_is_refused(client: FlaskClient, tenant: Tenant) -> None:
    answer = client.post(BASE, data="campaign=1", headers=_auth(tenant) | {
        "Content-Type": "application/x-www-form-urlencoded"
    })  # fmt: skip
    assert answer.status_code == 415
    answer = client.post(BASE, data="[1]", headers=_auth(tenant) | {
        "Content-Type": "application/json"
    })  # fmt: skip
    assert answer.status_code == 400
    assert client.get(BASE).status_code == 401


def _failed_and_done(committed_session: Session, tenant: Tenant) -> None:
    """A done event whose phone sits at contact.phone (the saved mapping reads it)."""
    lead = make_lead(committed_session, tenant, phone_number="+12024561111")
    make_event(
        committed_session, tenant, {"contact": {"phone": "2024561111"}},
        status=EventStatus.done, action=EventAction.created, lead_id=lead.id, mapping_version=1,
    )  # fmt: skip
    committed_session.commit()


def test_a_mapping_that_would_fail_events_needs_confirm(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, PHONE)
    _failed_and_done(committed_session, tenant)
    url = f"{BASE}{tenant.config_id}/"

    tried = client.post(f"{url}mapping-impact/", json={"mapping": MOBILE}, headers=_auth(tenant))
    assert tried.status_code == 200, tried.get_json()
    assert tried.get_json()["new_failures"] == 1
    assert tried.get_json()["failed_fields"] == {"phone_number": 1}

    refused = client.patch(url, json={"mapping": MOBILE}, headers=_auth(tenant))
    assert refused.status_code == 409
    assert refused.get_json()["impact"]["summary"].startswith("v2 changes 1 of 1 outcomes")
    assert client.get(url, headers=_auth(tenant)).get_json()["mapping"] == PHONE

    saved = client.patch(f"{url}?confirm=true", json={"mapping": MOBILE}, headers=_auth(tenant))
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["mapping"] == MOBILE
    assert saved.get_json()["impact"]["new_failures"] == 1


def test_a_harmless_mapping_saves_with_its_report(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, PHONE)
    _failed_and_done(committed_session, tenant)
    either = {"fields": {"phone_number": {"from": ["contact.phone", "contact.mobile"]}}}
    saved = client.patch(
        f"{BASE}{tenant.config_id}/", json={"mapping": either}, headers=_auth(tenant)
    )
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["impact"]["changed_outcomes"] == 0
    # A change without a mapping carries no report.
    renamed = client.patch(
        f"{BASE}{tenant.config_id}/", json={"name": "renamed"}, headers=_auth(tenant)
    )
    assert "impact" not in renamed.get_json()
    bad = client.post(
        f"{BASE}{tenant.config_id}/mapping-impact/", json={"mapping": {"x": 1}},
        headers=_auth(tenant),
    )  # fmt: skip
    assert bad.status_code == 400 and "mapping" in bad.get_json()["errors"]


KEY = "pk-5d1e8a2b7c3f9e04"


def test_provider_credentials_are_set_as_the_cli_sets_them(
    app: Flask, client: FlaskClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "SECRET_KEYS", (Fernet.generate_key().decode(),))
    created = _create(
        client, tenant, mapping=PHONE, auth="payload-key", payload_key_path="auth.key",
        payload_key=KEY, ignore_file_parts=True,
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    config = created.get_json()
    assert (config["auth"], config["payload_key_path"]) == ("payload-key", "auth.key")
    assert config["ignore_file_parts"] is True
    assert KEY not in created.get_data(as_text=True)

    url = f"{BASE}{config['id']}/"
    signed = client.patch(
        url, json={"auth": "signature", "signature_header": "X-Sig", "signing_secret": "s3cret"},
        headers=_auth(tenant),
    )  # fmt: skip
    assert signed.status_code == 200, signed.get_json()
    shown = signed.get_json()
    assert (shown["signature_header"], shown["signature_encoding"]) == ("X-Sig", "base64")
    assert "s3cret" not in signed.get_data(as_text=True) and "payload_key_path" not in shown


def test_a_signing_secret_without_a_secret_key_is_refused(
    app: Flask, client: FlaskClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "SECRET_KEYS", ())
    answer = client.patch(
        f"{BASE}{tenant.config_id}/",
        json={"auth": "signature", "signature_header": "X-Sig", "signing_secret": "s3cret"},
        headers=_auth(tenant),
    )
    assert answer.status_code == 400
    [message] = answer.get_json()["errors"]["signing_secret"]
    assert "LEADGATE_SECRET_KEY is not set" in message


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"auth": "payload-key", "payload_key_path": "k"}, "payload_key",
         "auth payload-key needs payload_key"),
        ({"payload_key": KEY}, "payload_key", "payload_key do not go with auth token"),
        ({"auth": "payload-key", "payload_key_path": "a..b", "payload_key": KEY},
         "payload_key_path", "object keys joined by dots"),
        ({"auth": "signature", "signature_header": "X-Sig", "signing_secret": "s",
          "signature_encoding": "b32"}, "signature_encoding", "must be base64 or hex"),
        ({"payload_key": 7}, "payload_key", "expected string, got integer"),
    ],
)  # fmt: skip
def test_credential_refusals_name_the_key(
    client: FlaskClient, tenant: Tenant, body: dict[str, Any], field: str, words: str
) -> None:
    answer = client.patch(f"{BASE}{tenant.config_id}/", json=body, headers=_auth(tenant))
    assert answer.status_code == 400, answer.get_json()
    messages = answer.get_json()["errors"][field]
    assert any(words in message for message in messages), messages
    after = client.get(f"{BASE}{tenant.config_id}/", headers=_auth(tenant)).get_json()
    assert after["auth"] == "token"


def test_a_lead_type_of_another_organization_is_refused(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    theirs = make_lead_type(committed_session, other)
    committed_session.commit()
    answer = client.patch(
        f"{BASE}{tenant.config_id}/", json={"lead_type": theirs.id}, headers=_auth(tenant)
    )
    assert answer.status_code == 400
    [message] = answer.get_json()["errors"]["lead_type"]
    assert f"no lead type with id {theirs.id} in organization {tenant.organization_id}" in message


def test_the_standard_api_config_is_not_changed_here(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    standard = IngestionConfig(
        organization_id=tenant.organization_id, name="standard", mapping={}, standard_api=True
    )
    committed_session.add(standard)
    committed_session.commit()
    answer = client.patch(f"{BASE}{standard.id}/", json={"name": "x"}, headers=_auth(tenant))
    assert answer.status_code == 400
    assert "standard lead API's own" in answer.get_json()["detail"]
