"""The console's pages on real events: a real worker processed them, the pages read them back."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiToken, IngestionConfig
from tests.console.conftest import csrf_token, sign_in
from tests.support.api import post_payload, wait_for_event
from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

GOOD = {"phone": "(415) 555-2671", "email": "jane.doe@example.com"}
BAD = {"tel": "(415) 555-2672", "email": "bad.phone@example.com"}
FIXED_MAPPING = {"fields": {"phone_number": {"from": ["phone", "tel"]}, "email": "email"}}


def _posted(client: FlaskClient, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token)
    assert answer.status_code == 202, answer.get_data(as_text=True)
    return wait_for_event(client, tenant.token, answer.get_json()["id"])


@pytest.fixture
def traffic(
    console: FlaskClient, tenant: Tenant, celery_worker: ServiceProcess
) -> dict[str, dict[str, Any]]:
    """One event that created a lead and one that failed on phone_number, signed in."""
    done, failed = _posted(console, tenant, GOOD), _posted(console, tenant, BAD)
    assert done["status"] == "done" and failed["status"] == "failed"
    sign_in(console, tenant.token)
    return {"done": done, "failed": failed}


def _text(client: FlaskClient, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, answer.get_data(as_text=True)[:2000]
    return answer.get_data(as_text=True)


def test_events_filter_by_error_field_as_the_api_does(
    console: FlaskClient, traffic: dict[str, dict[str, Any]]
) -> None:
    page = _text(console, "/console/events/?error_field=phone_number")
    assert traffic["failed"]["id"] in page
    assert traffic["done"]["id"] not in page
    assert "1 event" in page
    every = _text(console, "/console/events/")
    assert traffic["done"]["id"] in every and traffic["failed"]["id"] in every


def test_a_bad_filter_names_the_field(console: FlaskClient, traffic: object) -> None:
    page = _text(console, "/console/events/?status=finished", status=400)
    assert "status" in page and "&#39;finished&#39; is not one of" in page


def test_events_page_by_cursor(console: FlaskClient, traffic: dict[str, dict[str, Any]]) -> None:
    first = _text(console, "/console/events/?page_size=1")
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None
    second = _text(console, older.group(1).replace("&amp;", "&"))
    assert traffic["done"]["id"] in second and traffic["failed"]["id"] not in second


def test_an_event_shows_payload_errors_and_dry_run(
    console: FlaskClient, traffic: dict[str, dict[str, Any]]
) -> None:
    page = _text(console, f"/console/events/{traffic['failed']['id']}/")
    assert "bad.phone@example.com" in page  # the payload, in full on the detail page
    assert "phone_number" in page
    assert "It would <strong>fail</strong>" in page
    assert "Replay this event" in page
    done = _text(console, f"/console/events/{traffic['done']['id']}/")
    assert f"/console/leads/{traffic['done']['lead_id']}/" in done
    assert "Replay this event" not in done


def test_lists_mask_contacts_and_the_lead_page_shows_them(
    console: FlaskClient, traffic: dict[str, dict[str, Any]]
) -> None:
    listing = _text(console, "/console/leads/")
    assert "+14155552671" not in listing and "jane.doe@example.com" not in listing
    assert "••71" in listing and "j•••@example.com" in listing
    lead = _text(console, f"/console/leads/{traffic['done']['lead_id']}/")
    assert "+14155552671" in lead and "jane.doe@example.com" in lead
    assert traffic["done"]["id"] in lead  # the event that touched it


def test_the_lead_list_leaves_test_leads_out_unless_asked(
    console: FlaskClient, tenant: Tenant, traffic: dict[str, dict[str, Any]]
) -> None:
    answer = post_payload(
        console, tenant.config_id, "upsert", {"phone": "(415) 555-2699"}, tenant.token,
        headers={"Leadgate-Test": "true"}, query="wait=20",
    )  # fmt: skip
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert "••99" not in _text(console, "/console/leads/")
    assert "••99" in _text(console, "/console/leads/?include_test=true")


def test_another_organizations_rows_are_404(
    console: FlaskClient, traffic: dict[str, dict[str, Any]], committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    console.post("/console/sign-out", data={"csrf_token": csrf_token(_text(console, "/console/"))})
    sign_in(console, other.token)
    _text(console, f"/console/events/{traffic['failed']['id']}/", status=404)
    _text(console, f"/console/leads/{traffic['done']['lead_id']}/", status=404)
    assert traffic["failed"]["id"] not in _text(console, "/console/events/")


def test_overview_counts_the_configs_events(
    console: FlaskClient, traffic: dict[str, dict[str, Any]]
) -> None:
    page = _text(console, "/console/")
    assert "console config" in page
    assert "<svg" in page and "1 done and 1 failed or dead" in page
    assert 'id="queue-depth">0<' in page


def _editor_post(
    console: FlaskClient, tenant: Tenant, action: str, mapping: dict[str, Any], **extra: str
) -> tuple[int, str]:
    url = f"/console/configs/{tenant.config_id}/mapping"
    form = {
        "csrf_token": csrf_token(_text(console, url)),
        "action": action,
        "mapping": json.dumps(mapping),
        "payload": json.dumps(BAD),
        **extra,
    }
    answer = console.post(url, data=form)
    return answer.status_code, answer.get_data(as_text=True)


def test_the_editor_dry_runs_reports_and_saves(
    console: FlaskClient,
    tenant: Tenant,
    traffic: dict[str, dict[str, Any]],
    committed_session: Session,
) -> None:
    status, page = _editor_post(console, tenant, "dry-run", FIXED_MAPPING)
    assert status == 200 and "It would <strong>create</strong>" in page
    status, page = _editor_post(console, tenant, "impact", FIXED_MAPPING)
    assert status == 200
    assert "v2 changes 1 of 2 outcomes: 1 that failed would now succeed" in page
    assert f"/console/events/{traffic['failed']['id']}/" in page
    status, page = _editor_post(console, tenant, "dry-run", {"fields": {"phone_number": 5}})
    assert status == 200 and "Mapping refused" not in page and "phone_number" in page
    status, _ = _editor_post(console, tenant, "save", FIXED_MAPPING, message="accept tel")
    assert status == 302
    config = committed_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    committed_session.refresh(config)
    assert config.mapping == FIXED_MAPPING and config.mapping_version == 2


def test_a_save_that_breaks_events_needs_a_confirmation(
    console: FlaskClient, tenant: Tenant, traffic: object, committed_session: Session
) -> None:
    breaking = {"fields": {"phone_number": "email", "email": "email"}}  # no phone in an email
    status, page = _editor_post(console, tenant, "save", breaking)
    assert status == 409 and "would newly fail" in page
    config = committed_session.get(IngestionConfig, tenant.config_id)
    assert config is not None and config.mapping_version == 1
    status, _ = _editor_post(console, tenant, "save", breaking, confirm="yes")
    assert status == 302


def test_the_live_dry_run_answers_json(
    console: FlaskClient, tenant: Tenant, traffic: object
) -> None:
    url = f"/console/configs/{tenant.config_id}/mapping"
    token = csrf_token(_text(console, url))
    body = {"mapping": json.dumps(FIXED_MAPPING), "payload": json.dumps(BAD)}
    answer = console.post(url + "/dry-run", json=body, headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    assert answer.get_json()["result"]["would"] == "create"
    refused = console.post(url + "/dry-run", json=body)
    assert refused.status_code == 400  # no CSRF header


def test_versions_diff_and_restore(
    console: FlaskClient, tenant: Tenant, traffic: object, committed_session: Session
) -> None:
    assert _editor_post(console, tenant, "save", FIXED_MAPPING)[0] == 302
    base = f"/console/configs/{tenant.config_id}/versions/"
    assert "v2" in _text(console, base) and "(in use)" in _text(console, base)
    diff = _text(console, base + "1/")
    assert "diff-changed" in diff or "diff-added" in diff or "diff-removed" in diff
    answer = console.post(base + "1/restore", data={"csrf_token": csrf_token(diff)})
    assert answer.status_code == 302
    config = committed_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    committed_session.refresh(config)
    assert config.mapping_version == 3
    assert config.mapping == {"fields": {"phone_number": "phone", "email": "email"}}


def test_tokens_are_shown_once_and_revoked(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    sign_in(console, tenant.token)
    page = _text(console, "/console/tokens/")
    created = console.post("/console/tokens/", data={"csrf_token": csrf_token(page), "name": "ci"})
    assert created.status_code == 201
    plain = re.search(r'id="new-token" readonly value="(lg_[^"]+)"', created.get_data(as_text=True))
    assert plain is not None
    assert plain.group(1) not in _text(console, "/console/tokens/")  # shown once
    row = committed_session.scalars(
        select(ApiToken).where(
            ApiToken.organization_id == tenant.organization_id, ApiToken.name == "ci"
        )
    ).one()
    answer = console.post(f"/console/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 302
    committed_session.refresh(row)
    assert row.revoked_time is not None


def test_another_organizations_token_cannot_be_revoked(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    other_token = committed_session.scalars(
        select(ApiToken).where(ApiToken.organization_id == other.organization_id)
    ).one()
    sign_in(console, tenant.token)
    page = _text(console, "/console/tokens/")
    answer = console.post(
        f"/console/tokens/{other_token.id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert answer.status_code == 404
    committed_session.refresh(other_token)
    assert other_token.revoked_time is None
