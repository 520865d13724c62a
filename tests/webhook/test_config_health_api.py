"""A config's health over HTTP: stats, hold and release; the token's organization only."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent
from models.enums import EventAction, EventStatus
from tests.support.api import post_payload, wait_for_event, wait_for_replay_job
from tests.support.factories import Tenant, make_event, make_tenant
from tests.support.processes import ServiceProcess

BASE = "/api/ingestion-configs/"
PHONE = {"fields": {"phone_number": "contact.phone", "email": "contact.email"}}


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def wait_for_status(
    client: FlaskClient, tenant: Tenant, event_id: str, status: str, timeout: float = 30.0
) -> dict[str, Any]:
    """Poll an event until it has ``status``; fail the test if it does not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        event: dict[str, Any] = client.get(
            f"/api/ingestion-events/{event_id}/", headers=_auth(tenant)
        ).get_json()
        if event["status"] == status:
            return event
        assert time.monotonic() < deadline, f"event {event_id} is not {status}: {event}"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", "stats/"), ("post", "hold/"), ("post", "release/")]
)
def test_another_organizations_config_is_not_found(
    client: FlaskClient, tenant: Tenant, committed_session: Session, method: str, suffix: str
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    for config_id in (other.config_id, "not-a-uuid"):
        answer = getattr(client, method)(f"{BASE}{config_id}/{suffix}", headers=_auth(tenant))
        assert answer.status_code == 404, answer.get_json()
        assert answer.get_json() == {"detail": "No such ingestion config."}
    assert getattr(client, method)(f"{BASE}{tenant.config_id}/{suffix}").status_code == 401
    committed_session.expire_all()
    assert committed_session.get(IngestionConfig, other.config_id).held is False  # type: ignore[union-attr]


def test_stats_refuses_an_unknown_window(client: FlaskClient, tenant: Tenant) -> None:
    answer = client.get(f"{BASE}{tenant.config_id}/stats/?window=2h", headers=_auth(tenant))
    assert answer.status_code == 400
    assert answer.get_json()["errors"] == {
        "window": ["window must be one of 1h, 24h, 7d; got '2h'"]
    }


def test_hold_on_drift_is_a_boolean_the_config_shows(client: FlaskClient, tenant: Tenant) -> None:
    url = f"{BASE}{tenant.config_id}/"
    refused = client.patch(url, json={"hold_on_drift": "yes"}, headers=_auth(tenant))
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {"hold_on_drift": ["expected boolean, got string"]}
    saved = client.patch(url, json={"hold_on_drift": True}, headers=_auth(tenant)).get_json()
    assert (saved["hold_on_drift"], saved["held"], saved["drift_alarm"]) == (True, False, None)


def test_stats_count_what_the_events_became(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    now = dt.datetime.now(dt.UTC)
    done: dict[str, Any] = {"status": EventStatus.done, "processed_time": now}
    for action, seconds in ((EventAction.created, 1.0), (EventAction.updated, 3.0)):
        make_event(
            committed_session, tenant, **done, action=action,
            received_time=now - dt.timedelta(seconds=seconds),
        )  # fmt: skip
    errors = [{"field": "phone_number", "message": "required"}]
    make_event(committed_session, tenant, status=EventStatus.failed, errors=errors)
    make_event(committed_session, tenant, status=EventStatus.failed, errors=errors)
    make_event(committed_session, tenant, status=EventStatus.dead)
    make_event(committed_session, tenant, status=EventStatus.held)
    make_event(committed_session, tenant, status=EventStatus.queued)
    # Outside the hour, inside the day.
    make_event(
        committed_session, tenant, **done, action=EventAction.duplicate,
        received_time=now - dt.timedelta(hours=3),
    )  # fmt: skip
    committed_session.commit()

    hour = client.get(f"{BASE}{tenant.config_id}/stats/?window=1h", headers=_auth(tenant))
    assert hour.status_code == 200, hour.get_json()
    stats = hour.get_json()
    assert {name: stats[name] for name in ("accepted", "created", "updated", "duplicate")} == {
        "accepted": 7, "created": 1, "updated": 1, "duplicate": 0,
    }  # fmt: skip
    assert (stats["failed"], stats["dead"], stats["held"], stats["pending"]) == (2, 1, 1, 1)
    assert stats["failed_by_field"] == {"phone_number": 2}
    assert stats["received_to_done_seconds"]["p50"] == pytest.approx(2.0, abs=0.01)
    assert stats["received_to_done_seconds"]["p99"] == pytest.approx(2.98, abs=0.01)
    day = client.get(f"{BASE}{tenant.config_id}/stats/", headers=_auth(tenant)).get_json()
    assert (day["window"], day["accepted"], day["duplicate"]) == ("24h", 8, 1)


def test_a_held_config_accepts_payloads_and_release_processes_them_in_order(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session, PHONE)
    committed_session.commit()
    held = client.post(f"{BASE}{tenant.config_id}/hold/", headers=_auth(tenant)).get_json()
    assert (held["held"], held["held_reason"]) == (True, "manual")

    ids = []
    for number in range(3):
        # The same person three times: the order decides the lead's final email.
        body = {"contact": {"phone": "2024561111", "email": f"v{number}@example.com"}}
        answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token)
        assert answer.status_code == 202, answer.get_json()
        ids.append(answer.get_json()["id"])
    for event_id in ids:
        assert wait_for_status(client, tenant, event_id, "held")["attempts"] == 0
    listed = client.get(
        f"/api/ingestion-events/?config={tenant.config_id}&status=held", headers=_auth(tenant)
    ).get_json()
    assert {event["id"] for event in listed["results"]} == set(ids)

    released = client.post(f"{BASE}{tenant.config_id}/release/", headers=_auth(tenant))
    assert released.status_code == 202, released.get_json()
    job = released.get_json()
    assert (job["status"], job["total"]) == ("running", 3)
    assert job["filter"] == {"config": str(tenant.config_id), "status": ["held"]}
    assert released.headers["Location"].endswith(f"/api/replays/{job['id']}/")
    finished = wait_for_replay_job(client, tenant.token, job["id"])
    assert (finished["status"], finished["done"]) == ("done", 3)
    assert finished["by_action"] == {"update": 2, "create": 1}
    events = [wait_for_event(client, tenant.token, event_id) for event_id in ids]
    # One at a time in receive order, even with two worker children: none ends stale.
    assert [(event["status"], event["action"]) for event in events] == [
        ("done", "created"), ("done", "updated"), ("done", "updated"),
    ]  # fmt: skip
    assert {event["lead_id"] for event in events} == {events[0]["lead_id"]}
    lead = client.get(f"/api/leads/{events[0]['lead_id']}/", headers=_auth(tenant)).get_json()
    assert lead["email"] == "v2@example.com"
    config = client.get(f"{BASE}{tenant.config_id}/", headers=_auth(tenant)).get_json()
    assert (config["held"], config["held_reason"]) == (False, None)
    # The hold is lifted: the next payload is processed at once.
    body = {"contact": {"phone": "2024561111", "email": "v3@example.com"}}
    later = post_payload(client, tenant.config_id, "upsert", body, tenant.token).get_json()
    assert wait_for_event(client, tenant.token, later["id"])["action"] == "updated"
    # A release of a config with nothing held is harmless: a job with nothing to do.
    again = client.post(f"{BASE}{tenant.config_id}/release/", headers=_auth(tenant)).get_json()
    assert again["total"] == 0
    assert wait_for_replay_job(client, tenant.token, again["id"])["status"] == "done"
    committed_session.expire_all()
    stored = committed_session.get(IngestionEvent, events[0]["id"])
    assert stored is not None and stored.attempts == 1


def test_replaying_a_held_event_says_to_release_its_config(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, PHONE, held=True, held_reason="manual")
    event = make_event(committed_session, tenant, status=EventStatus.held)
    committed_session.commit()
    answer = client.post(f"/api/ingestion-events/{event.id}/replay/", headers=_auth(tenant))
    assert answer.status_code == 409
    assert answer.get_json() == {
        "detail": "This event is held with its config; release the config to process it."
    }


def test_drift_limits_are_checked_shown_and_cleared(client: FlaskClient, tenant: Tenant) -> None:
    url = f"{BASE}{tenant.config_id}/"
    refused = client.patch(url, json={"drift_limits": {"recent_events": 0}}, headers=_auth(tenant))
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {
        "drift_limits": ["drift_limits: recent_events must be a whole number from 1 to 1000"]
    }
    mine = {"recent_events": 20, "failure_share": 0.5}
    saved = client.patch(url, json={"drift_limits": mine}, headers=_auth(tenant)).get_json()
    assert saved["drift_limits"] == mine
    cleared = client.patch(url, json={"drift_limits": None}, headers=_auth(tenant)).get_json()
    assert cleared["drift_limits"] is None


def test_the_worker_judges_a_config_by_its_own_limits(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    """Over the last 5 events, from 3 baseline events on: the second payload without the path
    trips the alarm (more than 20% of 5); the config has no hold_on_drift, so nothing waits."""
    limits = {"recent_events": 5, "min_baseline_events": 3}
    tenant = make_tenant(committed_session, PHONE, drift_limits=limits)
    committed_session.commit()
    for number in range(4):
        body = {"contact": {"phone": f"202456{1100 + number}", "email": f"a{number}@b.co"}}
        answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token)
        assert wait_for_event(client, tenant.token, answer.get_json()["id"])["status"] == "done"
    url = f"{BASE}{tenant.config_id}/"
    for number in range(2):
        assert client.get(url, headers=_auth(tenant)).get_json()["drift_alarm"] is None
        body = {"contact": {"mobile": f"202456{1200 + number}", "email": f"m{number}@b.co"}}
        answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token)
        assert wait_for_event(client, tenant.token, answer.get_json()["id"])["status"] == "failed"
    deadline = time.monotonic() + 15
    while (config := client.get(url, headers=_auth(tenant)).get_json())["drift_alarm"] is None:
        assert time.monotonic() < deadline, config
        time.sleep(0.05)
    assert config["drift_alarm"]["reasons"] == ["missing_path", "failure_rate"]
    assert config["drift_alarm"]["paths"][0]["recent_missing_share"] == 0.4
    assert config["held"] is False
