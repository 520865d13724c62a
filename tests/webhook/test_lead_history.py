"""Field provenance over HTTP with a real worker: every change with its event, and the CLI."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from common.settings import get_settings
from leadgate.cli.main import cli
from models import LeadFieldChange
from tests.support.api import post_payload
from tests.support.factories import Tenant, make_tenant
from tests.support.services import ServiceUrls
from worker.lead_history import prune_history

pytestmark = pytest.mark.usefixtures("celery_worker")

MAPPING = {
    "fields": {
        "external_id": "id",
        "phone_number": "phone",
        "email": "email",
        "metadata.loan": {"from": "loan", "type": "integer"},
    }
}


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _upsert(client: FlaskClient, tenant: Tenant, body: dict[str, Any]) -> TestResponse:
    answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token, query="wait=20")
    assert answer.status_code in (200, 201), answer.get_json()
    return answer


@pytest.fixture
def history_tenant(committed_session: Session) -> Tenant:
    tenant = make_tenant(committed_session, MAPPING)
    committed_session.commit()
    return tenant


def test_the_history_lists_every_change_with_its_event(
    client: FlaskClient, history_tenant: Tenant
) -> None:
    tenant = history_tenant
    created = _upsert(client, tenant, {"id": "h-1", "phone": "(202) 456-1111", "loan": "100"})
    lead_id = created.get_json()["id"]
    first_event = created.headers["Ingestion-Event-Id"]
    updated = _upsert(
        client,
        tenant,
        {"id": "h-1", "phone": "(202) 456-1112", "email": "h@acme.io", "loan": 250},
    )
    second_event = updated.headers["Ingestion-Event-Id"]
    unchanged = _upsert(client, tenant, {"id": "h-1", "phone": "(202) 456-1112"})
    assert unchanged.headers["Lead-Action"] == "unchanged"

    url = f"/api/leads/{lead_id}/history/"
    page = client.get(url + "?page_size=500", headers=_auth(tenant)).get_json()
    changes = {(c["field"], c["event"]): (c["old_value"], c["new_value"]) for c in page["results"]}
    assert changes[("phone_number", first_event)] == (None, "+12024561111")
    assert changes[("external_id", first_event)] == (None, "h-1")
    assert changes[("metadata.loan", first_event)] == (None, 100)
    assert changes[("phone_number", second_event)] == ("+12024561111", "+12024561112")
    assert changes[("email", second_event)] == (None, "h@acme.io")
    assert changes[("metadata.loan", second_event)] == (100, 250)
    # An unchanged event changed nothing, so it left no history.
    assert {c["event"] for c in page["results"]} == {first_event, second_event}
    one = page["results"][0]
    assert one["event_url"] == f"/api/ingestion-events/{one['event']}/"
    assert client.get(one["payload_url"], headers=_auth(tenant)).status_code == 200
    assert one["mapping_version"] == 1

    phones = client.get(url + "?field=phone_number", headers=_auth(tenant)).get_json()
    assert [c["new_value"] for c in phones["results"]] == ["+12024561111", "+12024561112"]
    later = client.get(url + "?since=2999-01-01T00:00:00Z", headers=_auth(tenant)).get_json()
    assert later["count"] == 0
    bad = client.get(url + "?since=yesterday", headers=_auth(tenant))
    assert bad.status_code == 400


def test_the_history_is_the_organizations_only(
    client: FlaskClient, history_tenant: Tenant, committed_session: Session
) -> None:
    created = _upsert(client, history_tenant, {"id": "o-1", "phone": "(202) 456-1111"})
    other = make_tenant(committed_session)
    committed_session.commit()
    url = f"/api/leads/{created.get_json()['id']}/history/"
    assert client.get(url, headers=_auth(other)).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get("/api/leads/999999999/history/", headers=_auth(other)).status_code == 404


def test_the_owner_patch_is_in_the_history_too(client: FlaskClient, tenant: Tenant) -> None:
    created = _upsert(client, tenant, {"phone_number": "(202) 456-1111"})
    lead_id = created.get_json()["id"]
    patched = client.patch(
        f"/api/leads/{lead_id}/",
        json={"sms_dnc": True, "lead_source": "phone call"},
        headers=_auth(tenant),
    )
    assert patched.status_code == 200, patched.get_json()
    page = client.get(f"/api/leads/{lead_id}/history/", headers=_auth(tenant)).get_json()
    fields = {c["field"]: (c["old_value"], c["new_value"]) for c in page["results"]}
    assert fields["sms_dnc"] == (False, True)
    assert fields["lead_source"][1] == "phone call"


def test_the_cli_masks_personal_values(
    client: FlaskClient,
    history_tenant: Tenant,
    services: ServiceUrls,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = _upsert(
        client, history_tenant, {"id": "c-1", "phone": "(202) 456-1111", "email": "jo@acme.io"}
    )
    monkeypatch.setenv("LEADGATE_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(cli, ["lead", "history", str(created.get_json()["id"])])
    assert result.exit_code == 0, result.output
    assert "phone_number: - -> phone '+•••••••••11' (masked)" in result.stdout
    assert "jo@acme.io" not in result.stdout and "4561111" not in result.stdout
    assert "external_id: - -> c-1" in result.stdout
    missing = CliRunner().invoke(cli, ["lead", "history", "999999999"])
    assert missing.exit_code == 1 and "no lead with id 999999999" in missing.stderr


def test_the_sweeper_prunes_changes_past_the_retention(
    client: FlaskClient, history_tenant: Tenant, committed_session: Session
) -> None:
    created = _upsert(client, history_tenant, {"id": "r-1", "phone": "(202) 456-1111"})
    lead_id = created.get_json()["id"]
    url = f"/api/leads/{lead_id}/history/"
    kept = client.get(url, headers=_auth(history_tenant)).get_json()["count"]
    assert kept > 0
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    committed_session.execute(
        update(LeadFieldChange)
        .where(LeadFieldChange.lead_id == lead_id, LeadFieldChange.field == "external_id")
        .values(changed_time=old)
    )
    committed_session.commit()
    assert prune_history(committed_session, old + dt.timedelta(days=1)) == 1
    committed_session.commit()
    fields = [
        c["field"] for c in client.get(url, headers=_auth(history_tenant)).get_json()["results"]
    ]
    assert "external_id" not in fields and len(fields) == kept - 1
    # The sweep task itself applies the retention setting (a year by default).
    assert get_settings().history_retention_days == 365.0


def test_the_dnc_ledger_keeps_every_flag_change_with_its_door(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    created = _upsert(client, tenant, {"phone_number": "(202) 456-1111", "sms_dnc": "yes"})
    lead_id = created.get_json()["id"]
    created_event = created.headers["Ingestion-Event-Id"]
    # Ingestion never clears a flag: no change, no row.
    _upsert(client, tenant, {"phone_number": "(202) 456-1111", "sms_dnc": "no"})
    url = f"/api/leads/{lead_id}/"
    set_call = client.patch(url, json={"call_dnc": True}, headers=_auth(tenant))
    cleared = client.patch(url, json={"call_dnc": False}, headers=_auth(tenant))
    assert set_call.status_code == cleared.status_code == 200
    ledger = client.get(url + "dnc/", headers=_auth(tenant)).get_json()
    rows = [(r["channel"], r["old_value"], r["new_value"], r["door"]) for r in ledger["results"]]
    assert rows == [
        ("sms", None, True, "upsert"),
        ("call", False, True, "leads.patch"),
        ("call", True, False, "leads.patch"),
    ]
    assert ledger["results"][0]["event"] == created_event
    assert ledger["results"][2]["event"] == cleared.headers["Ingestion-Event-Id"]
    other = make_tenant(committed_session)
    committed_session.commit()
    assert client.get(url + "dnc/", headers=_auth(other)).status_code == 404
