"""A config's outcome callback over HTTP: set, shown once, rotated, removed, refused, private."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import IngestionConfig
from tests.support.factories import Tenant, make_tenant

BASE = "/api/ingestion-configs/"
URL = "https://provider.example.com/leadgate/outcomes"


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _patch(client: FlaskClient, tenant: Tenant, **body: object) -> object:
    return client.patch(f"{BASE}{tenant.config_id}/", json=body, headers=_auth(tenant))


def test_the_key_is_shown_once_and_stored_sealed(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    answer = client.patch(
        f"{BASE}{tenant.config_id}/", json={"callback_url": URL}, headers=_auth(tenant)
    )
    assert answer.status_code == 200, answer.get_json()
    saved = answer.get_json()
    assert saved["callback_url"] == URL
    secret = saved["callback_secret"]
    assert secret.startswith("whsec_")
    shown = client.get(f"{BASE}{tenant.config_id}/", headers=_auth(tenant)).get_json()
    assert shown["callback_url"] == URL and "callback_secret" not in shown
    # Changing only the URL keeps the key, and does not show it again.
    moved = client.patch(
        f"{BASE}{tenant.config_id}/", json={"callback_url": URL + "/v2"}, headers=_auth(tenant)
    ).get_json()
    assert "callback_secret" not in moved
    config = committed_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    committed_session.refresh(config)
    assert config.callback_secret is not None and secret not in config.callback_secret


def test_a_rotation_keeps_the_old_key_valid_and_removing_drops_both(
    client: FlaskClient, tenant: Tenant
) -> None:
    first = client.patch(
        f"{BASE}{tenant.config_id}/", json={"callback_url": URL}, headers=_auth(tenant)
    ).get_json()
    rotated = client.patch(
        f"{BASE}{tenant.config_id}/", json={"rotate_callback_secret": True}, headers=_auth(tenant)
    ).get_json()
    assert rotated["callback_secret"] != first["callback_secret"]
    assert rotated["previous_callback_secret_valid_until"] is not None
    removed = client.patch(
        f"{BASE}{tenant.config_id}/", json={"callback_url": None}, headers=_auth(tenant)
    ).get_json()
    assert removed["callback_url"] is None
    assert removed["previous_callback_secret_valid_until"] is None
    again = client.patch(
        f"{BASE}{tenant.config_id}/", json={"callback_url": URL}, headers=_auth(tenant)
    ).get_json()
    assert again["callback_secret"] not in (first["callback_secret"], rotated["callback_secret"])


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"callback_url": "http://169.254.169.254/latest/meta-data/"}, "callback_url", "metadata"),
        ({"callback_url": "ftp://provider.example.com/"}, "callback_url", "http"),
        ({"callback_url": "https://provider.example.com/a b"}, "callback_url", "spaces"),
        ({"callback_url": ""}, "callback_url", "URL"),
        ({"callback_url": "https://x.example.com/" + "a" * 2100}, "callback_url", "2048"),
        ({"rotate_callback_secret": True}, "rotate_callback_secret", "needs a callback_url"),
        ({"rotate_callback_secret": "yes"}, "rotate_callback_secret", "boolean"),
        ({"callback_url": 5}, "callback_url", "string"),
    ],
)
def test_bad_callback_options_are_refused_naming_the_field(
    client: FlaskClient, tenant: Tenant, body: dict[str, object], field: str, words: str
) -> None:
    answer = client.patch(f"{BASE}{tenant.config_id}/", json=body, headers=_auth(tenant))
    assert answer.status_code == 400
    [message] = answer.get_json()["errors"][field]
    assert words in message
    shown = client.get(f"{BASE}{tenant.config_id}/", headers=_auth(tenant)).get_json()
    assert shown["callback_url"] is None


def test_a_loopback_callback_is_refused_unless_private_addresses_are_allowed(
    app: Flask, client: FlaskClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    body = {"callback_url": "http://127.0.0.1:9/outcomes"}
    refused = client.patch(f"{BASE}{tenant.config_id}/", json=body, headers=_auth(tenant))
    assert refused.status_code == 400
    assert "loopback or private" in refused.get_json()["errors"]["callback_url"][0]
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    allowed = client.patch(f"{BASE}{tenant.config_id}/", json=body, headers=_auth(tenant))
    assert allowed.status_code == 200


def test_a_callback_set_when_the_config_is_created(client: FlaskClient, tenant: Tenant) -> None:
    created = client.post(
        BASE, json={"campaign": tenant.campaign_id, "callback_url": URL}, headers=_auth(tenant)
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["callback_secret"].startswith("whsec_")


def test_another_organization_s_callbacks_are_not_found(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    for path in ("callbacks/", "callbacks/1/redeliver/"):
        url = f"{BASE}{other.config_id}/{path}"
        answer = client.post(url, headers=_auth(tenant)) if "redeliver" in path else None
        answer = answer or client.get(url, headers=_auth(tenant))
        assert answer.status_code == 404
    assert client.get(f"{BASE}not-a-uuid/callbacks/", headers=_auth(tenant)).status_code == 404
    assert client.get(f"{BASE}{tenant.config_id}/callbacks/").status_code == 401
    own = client.get(f"{BASE}{tenant.config_id}/callbacks/", headers=_auth(tenant))
    assert own.status_code == 200 and own.get_json()["results"] == []
