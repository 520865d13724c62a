"""The provider renames contact.phone to contact.mobile on a config with hold_on_drift.

Through HTTP with a real worker: the drift alarm fires within the window (the 11th event without
the path, more than 20% of the last 50), later events wait as held while the provider keeps
getting 202s, the operator reads their raw payloads, saves a fixed mapping whose impact report
says the held events would now create leads, releases, and every held event ends done once.
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionEvent
from tests.support.api import post_payload, wait_for_event, wait_for_replay_job
from tests.support.factories import Tenant, make_tenant
from tests.support.invariants import Person, SentRequest, check_invariants
from tests.support.processes import ServiceProcess
from tests.support.services import ServiceUrls
from tests.webhook.test_config_health_api import wait_for_status

MAPPING = {"fields": {"phone_number": "contact.phone", "email": "contact.email"}}
FIXED = {
    "fields": {
        "phone_number": {"from": ["contact.phone", "contact.mobile"]},
        "email": "contact.email",
    }
}
BASELINE_EVENTS = 25
# Defaults: more than 20% of the last 50 events lack the path; the 11th trips the alarm.
EVENTS_TO_ALARM = 11
HELD_EVENTS = 5


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _config(client: FlaskClient, tenant: Tenant) -> dict[str, Any]:
    answer = client.get(f"/api/ingestion-configs/{tenant.config_id}/", headers=_auth(tenant))
    config: dict[str, Any] = answer.get_json()
    return config


def _send(
    client: FlaskClient,
    tenant: Tenant,
    number: int,
    path: str,
    expect: str,
    sent: list[SentRequest],
    persons: list[Person],
) -> SentRequest:
    phone = f"20245{61000 + number}"
    email = f"person{number}@example.com"
    body = {"contact": {path: phone, "email": email}}
    answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token)
    assert answer.status_code == 202, answer.get_json()
    request = SentRequest(
        person=f"p{number}", endpoint="upsert", body=body, expect=(expect,),
        status_code=answer.status_code, event_id=answer.get_json()["id"],
    )  # fmt: skip
    sent.append(request)
    identifiers = {"phone_number": f"+1{phone}", "email": email}
    persons.append(Person(f"p{number}", identifiers, has_lead=expect == "done"))
    return request


def _wait_for_alarm(client: FlaskClient, tenant: Tenant, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (config := _config(client, tenant))["drift_alarm"] is None:
        assert time.monotonic() < deadline, f"no drift alarm: {config}"
        time.sleep(0.05)
    return config


def test_a_renamed_path_raises_the_alarm_holds_and_a_release_finishes_every_event(
    client: FlaskClient,
    committed_session: Session,
    celery_worker: ServiceProcess,
    services: ServiceUrls,
) -> None:
    tenant = make_tenant(committed_session, MAPPING, hold_on_drift=True)
    committed_session.commit()
    sent: list[SentRequest] = []
    persons: list[Person] = []

    baseline = [
        _send(client, tenant, number, "phone", "done", sent, persons)
        for number in range(BASELINE_EVENTS)
    ]
    for request in baseline:
        assert wait_for_event(client, tenant.token, str(request.event_id))["status"] == "done"

    # The provider renames the path. Each event fails (no phone to create a lead with) until
    # the 11th of the last 50 lacks it: the alarm is up then, not before.
    for step in range(1, EVENTS_TO_ALARM + 1):
        request = _send(client, tenant, 100 + step, "mobile", "failed", sent, persons)
        event = wait_for_event(client, tenant.token, str(request.event_id))
        assert (event["status"], event["errors"][0]["field"]) == ("failed", "phone_number")
        if step < EVENTS_TO_ALARM:
            assert _config(client, tenant)["drift_alarm"] is None, step
    config = _wait_for_alarm(client, tenant)
    alarm = config["drift_alarm"]
    assert alarm["reasons"] == ["missing_path", "failure_rate"]
    assert [path["path"] for path in alarm["paths"]] == ["contact.phone"]
    assert alarm["paths"][0]["recent_missing_share"] == EVENTS_TO_ALARM / 50
    assert alarm["paths"][0]["baseline_share"] > 0.5
    assert alarm["failure_share"] == EVENTS_TO_ALARM / 50
    assert (config["held"], config["held_reason"]) == (True, "drift")

    scraped = client.get("/metrics").get_data(as_text=True)
    for reason in ("missing_path", "failure_rate"):
        assert f'leadgate_config_drift{{config="{tenant.config_id}",reason="{reason}"}} 1.0' in (
            scraped
        )
    alarm_lines = [
        line
        for line in celery_worker.log().splitlines()
        if "drift alarm" in line and str(tenant.config_id) in line
    ]
    assert alarm_lines, "the alarm was not logged"
    assert not any("20245" in line or "example.com" in line for line in alarm_lines)

    # Later events are accepted as ever, and wait.
    held = [
        _send(client, tenant, 200 + number, "mobile", "done", sent, persons)
        for number in range(HELD_EVENTS)
    ]
    for request in held:
        wait_for_status(client, tenant, str(request.event_id), "held")
    stats = client.get(
        f"/api/ingestion-configs/{tenant.config_id}/stats/?window=1h", headers=_auth(tenant)
    ).get_json()
    assert (stats["held"], stats["failed"], stats["created"]) == (
        HELD_EVENTS, EVENTS_TO_ALARM, BASELINE_EVENTS,
    )  # fmt: skip
    assert stats["failed_by_field"] == {"phone_number": EVENTS_TO_ALARM}
    shares = {path["path"]: path["share"] for path in stats["paths"]}
    assert shares["contact.phone"] == round(BASELINE_EVENTS / (BASELINE_EVENTS + 11), 4)

    # The operator reads a held payload as the provider sent it.
    raw = client.get(f"/api/ingestion-events/{held[0].event_id}/payload/", headers=_auth(tenant))
    assert json.loads(raw.data) == held[0].body

    # The fixed mapping's report: the failed events would now succeed, the held ones create.
    saved = client.patch(
        f"/api/ingestion-configs/{tenant.config_id}/", json={"mapping": FIXED},
        headers=_auth(tenant),
    )  # fmt: skip
    assert saved.status_code == 200, saved.get_json()
    impact = saved.get_json()["impact"]
    assert impact["held"] == {"create": HELD_EVENTS}
    assert (impact["new_failures"], impact["fixed"]) == (0, EVENTS_TO_ALARM)
    assert f"{HELD_EVENTS} held events would: {HELD_EVENTS} create" in impact["summary"]

    released = client.post(
        f"/api/ingestion-configs/{tenant.config_id}/release/", headers=_auth(tenant)
    )
    assert released.status_code == 202, released.get_json()
    assert released.get_json()["total"] == HELD_EVENTS
    assert _config(client, tenant)["drift_alarm"] is None
    job = wait_for_replay_job(client, tenant.token, released.get_json()["id"], timeout=120)
    assert (job["status"], job["done"], job["by_action"]) == (
        "done", HELD_EVENTS, {"create": HELD_EVENTS},
    )  # fmt: skip
    for request in held:
        event = wait_for_event(client, tenant.token, str(request.event_id))
        assert (event["status"], event["action"], event["mapping_version"]) == (
            "done", "created", 2,
        )  # fmt: skip
    config = _config(client, tenant)
    assert (config["held"], config["drift_alarm"]) == (False, None)

    verdict = check_invariants(services.database_url, tenant.organization_id, sent, persons)
    verdict.assert_ok()
    committed_session.expire_all()
    attempts = committed_session.scalars(
        select(IngestionEvent.attempts).where(
            IngestionEvent.id.in_([request.event_id for request in held])
        )
    ).all()
    assert attempts == [1] * HELD_EVENTS  # processed once; waiting cost no attempt
