"""Holding and releasing a config in the console, its stats window, and the overview's alarms."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, QuarantinedIdentifier
from models.enums import EventStatus
from tests.console.conftest import csrf_token, sign_in
from tests.support.api import post_payload, wait_for_event, wait_for_replay_job
from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

GOOD = {"phone": "(415) 555-2671", "email": "jane.doe@example.com"}
ALARM = {"reasons": ["missing_path"], "raised_time": "2026-01-15T10:00:00+00:00", "paths": []}


def _text(client: FlaskClient, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, answer.get_data(as_text=True)[:2000]
    return answer.get_data(as_text=True)


def _status(session: Session, event_id: str) -> EventStatus:
    session.expire_all()
    event = session.get(IngestionEvent, uuid.UUID(event_id))
    assert event is not None
    return event.status


def _wait_for(session: Session, event_id: str, status: EventStatus) -> None:
    deadline = time.monotonic() + 30
    while _status(session, event_id) != status:
        assert time.monotonic() < deadline, f"event {event_id} never became {status}"
        time.sleep(0.1)


def test_hold_then_release_sends_the_held_event_on(
    console: FlaskClient,
    tenant: Tenant,
    committed_session: Session,
    celery_worker: ServiceProcess,
) -> None:
    sign_in(console, tenant.token)
    config_url = f"/console/configs/{tenant.config_id}/"
    page = _text(console, config_url)
    assert "Not held" in page and "Hold this config" in page
    held = console.post(f"{config_url[:-1]}/hold", data={"csrf_token": csrf_token(page)})
    assert held.status_code == 303 and held.headers["Location"] == config_url

    answer = post_payload(console, tenant.config_id, "upsert", GOOD, tenant.token)
    assert answer.status_code == 202
    event_id = answer.get_json()["id"]
    _wait_for(committed_session, event_id, EventStatus.held)

    overview = _text(console, "/console/")
    assert "console config</a>:" in overview and "badge-held" in overview
    assert "1 event waiting</a>" in overview
    assert 'status=held">1</a>' in overview.replace("&amp;", "&")  # held in the last hour
    page = _text(console, config_url)
    assert "Release this config" in page and "(manual)" in page
    released = console.post(f"{config_url[:-1]}/release", data={"csrf_token": csrf_token(page)})
    # A release is a job over the held events, in receive order: the answer is its page.
    assert released.status_code == 303
    assert released.headers["Location"].startswith("/console/replays/")
    assert "Release started" in _text(console, released.headers["Location"])
    event: dict[str, Any] = wait_for_event(console, tenant.token, event_id)
    assert event["status"] == "done"
    job = wait_for_replay_job(console, tenant.token, released.headers["Location"].split("/")[-2])
    assert job["status"] == "done"
    config = committed_session.get(IngestionConfig, tenant.config_id)
    committed_session.refresh(config)
    assert config is not None and config.held is False


def test_hold_needs_its_csrf_token_and_another_organizations_config_is_404(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    sign_in(console, tenant.token)
    page = _text(console, f"/console/configs/{tenant.config_id}/")
    assert console.post(f"/console/configs/{tenant.config_id}/hold").status_code == 400
    foreign = console.post(
        f"/console/configs/{other.config_id}/hold", data={"csrf_token": csrf_token(page)}
    )
    assert foreign.status_code == 404
    for tenant_id in (tenant.config_id, other.config_id):
        config = committed_session.get(IngestionConfig, tenant_id)
        assert config is not None
        committed_session.refresh(config)
        assert config.held is False


def test_the_config_page_shows_its_stats_window(
    console: FlaskClient, tenant: Tenant, celery_worker: ServiceProcess
) -> None:
    answer = post_payload(console, tenant.config_id, "upsert", GOOD, tenant.token)
    assert wait_for_event(console, tenant.token, answer.get_json()["id"])["status"] == "done"
    sign_in(console, tenant.token)
    page = _text(console, f"/console/configs/{tenant.config_id}/?window=1h")
    assert "Health over the last 1h" in page
    assert "<dt>accepted</dt><dd>1</dd>" in page and "<dt>created</dt><dd>1</dd>" in page
    refused = _text(console, f"/console/configs/{tenant.config_id}/?window=2y", status=400)
    assert "window must be one of 1h, 24h, 7d" in refused


def test_the_config_page_shows_the_quarantine_masked(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    committed_session.add(
        QuarantinedIdentifier(
            organization_id=tenant.organization_id, kind="email", value="desk@acme.io",
            claimants=7,
        )
    )  # fmt: skip
    committed_session.commit()
    sign_in(console, tenant.token)

    page = _text(console, f"/console/configs/{tenant.config_id}/?window=1h")

    assert "1 quarantined in the organization; 0 of these events" in page
    assert "d•••@acme.io" in page and "desk@acme.io" not in page


def test_the_overview_lists_drift_alarms(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    sign_in(console, tenant.token)
    assert "No config is held and no drift alarm is up." in _text(console, "/console/")
    config = committed_session.scalars(
        select(IngestionConfig).where(IngestionConfig.id == tenant.config_id)
    ).one()
    config.drift_alarm = ALARM
    committed_session.commit()
    overview = _text(console, "/console/")
    assert "drift alarm</span> missing_path since 2026-01-15 10:00:00 UTC" in overview
    page = _text(console, f"/console/configs/{tenant.config_id}/")
    assert 'id="drift-alarm"' in page and "missing_path" in page
