"""The events list's filters and cursor pages, and each event's raw payload."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.enums import Endpoint, EventAction, EventStatus
from tests.support.api import post_payload
from tests.support.factories import Tenant, make_config, make_event, make_tenant
from tests.support.leads import make_lead
from tests.support.processes import ServiceProcess
from webhook import keyset
from webhook.cache import TtlCache

BASE = "/api/ingestion-events/"


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _ids(client: FlaskClient, tenant: Tenant, query: str) -> list[str]:
    answer = client.get(f"{BASE}?{query}", headers=_auth(tenant))
    assert answer.status_code == 200, answer.get_json()
    return [event["id"] for event in answer.get_json()["results"]]


def test_the_payload_comes_back_as_it_was_sent(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    body = "phone=2024561111&name=Jos\xe9".encode("latin-1")
    event = make_event(
        committed_session,
        tenant,
        body,
        content_type="application/x-www-form-urlencoded; charset=iso8859-1",
        query_string="lead_source=fb&note=caf%C3%A9",
    )
    committed_session.commit()
    answer = client.get(f"{BASE}{event.id}/payload/", headers=_auth(tenant))
    assert answer.status_code == 200
    assert answer.data == body
    assert answer.headers["Content-Type"] == "application/x-www-form-urlencoded; charset=iso8859-1"
    assert answer.headers["X-Query-String"] == "lead_source=fb&note=caf%C3%A9"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_another_organizations_payload_is_not_found(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    theirs = make_event(committed_session, other, {"secret": "x"})
    committed_session.commit()
    answer = client.get(f"{BASE}{theirs.id}/payload/", headers=_auth(tenant))
    assert answer.status_code == 404
    assert b"secret" not in answer.data


@pytest.fixture
def events(committed_session: Session, tenant: Tenant) -> dict[str, Any]:
    """Events that differ in one filtered column each, oldest first."""
    lead = make_lead(committed_session, tenant)
    other_config = make_config(committed_session, tenant.organization_id, tenant.campaign_id)
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    made = {
        "old": make_event(committed_session, tenant, received_time=long_ago),
        "failed_phone": make_event(
            committed_session, tenant, status=EventStatus.failed,
            errors=[{"field": "phone_number", "message": "not a valid number"}],
        ),
        "dead": make_event(committed_session, tenant, status=EventStatus.dead),
        "created": make_event(
            committed_session, tenant, status=EventStatus.done, action=EventAction.created,
            lead_id=lead.id, endpoint=Endpoint.create,
        ),
        "other_config": make_event(committed_session, tenant, config_id=other_config.id),
        "keyed": make_event(committed_session, tenant, idempotency_key="order-77"),
        "with_email": make_event(
            committed_session, tenant, status=EventStatus.done,
            payload={"contact": {"email": "x@y.z", "phone": "1"}, "n": 2},
        ),
    }  # fmt: skip
    committed_session.commit()
    return {name: str(event.id) for name, event in made.items()} | {
        "config": str(other_config.id),
        "lead": lead.id,
    }


def test_each_filter(client: FlaskClient, tenant: Tenant, events: dict[str, Any]) -> None:
    contains = quote('{"contact": {"email": "x@y.z"}}')
    cases = {
        "status=failed&status=dead": ["dead", "failed_phone"],
        "status=failed,dead": ["dead", "failed_phone"],
        "action=created": ["created"],
        "endpoint=create": ["created"],
        "error_field=phone_number": ["failed_phone"],
        f"lead={events['lead']}": ["created"],
        f"config={events['config']}": ["other_config"],
        "until=2021-01-01T00:00:00Z": ["old"],
        "idempotency_key=order-77": ["keyed"],
        f"payload_contains={contains}": ["with_email"],
        "payload_contains=%7B%22n%22%3A%203%7D": [],
    }
    for query, names in cases.items():
        assert _ids(client, tenant, query) == [events[name] for name in names], query
    since = _ids(client, tenant, "since=2021-01-01T00:00:00Z")
    assert events["old"] not in since and len(since) == 6


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=finished", "status"),
        ("payload_contains=[1]", "payload_contains"),
        ("payload_contains={nope", "payload_contains"),
        ("payload_contains=%7B%22a%22%3A%201e999%7D", "payload_contains"),
        ("payload_contains=%7B%22a%22%3A%20%22%5Cu0000%22%7D", "payload_contains"),
        ("lead=0", "lead"),
        ("cursor=bm90LWEta2V5", "cursor"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(
    client: FlaskClient, tenant: Tenant, query: str, field: str
) -> None:
    answer = client.get(f"{BASE}?{query}", headers=_auth(tenant))
    assert answer.status_code == 400, answer.get_json()
    assert field in answer.get_json()["errors"]


def test_cursor_pages_walk_forward_and_back(
    client: FlaskClient, tenant: Tenant, events: dict[str, Any]
) -> None:
    everything = _ids(client, tenant, "page_size=100")
    assert len(everything) == 7
    first = client.get(f"{BASE}?page_size=3", headers=_auth(tenant)).get_json()
    assert first["count"] == 7 and first["previous"] is None
    assert [e["id"] for e in first["results"]] == everything[:3]
    second = client.get(first["next"], headers=_auth(tenant)).get_json()
    assert [e["id"] for e in second["results"]] == everything[3:6]
    third = client.get(second["next"], headers=_auth(tenant)).get_json()
    assert [e["id"] for e in third["results"]] == everything[6:] and third["next"] is None
    back = client.get(third["previous"], headers=_auth(tenant)).get_json()
    assert [e["id"] for e in back["results"]] == everything[3:6]
    start = client.get(back["previous"], headers=_auth(tenant)).get_json()
    assert [e["id"] for e in start["results"]] == everything[:3] and start["previous"] is None


def test_past_the_threshold_the_count_is_an_estimate_and_says_so(
    client: FlaskClient,
    tenant: Tenant,
    events: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exact = client.get(BASE, headers=_auth(tenant))
    assert "Count-Is-Estimate" not in exact.headers
    monkeypatch.setattr(keyset, "EXACT_COUNT_LIMIT", 3)
    answer = client.get(BASE, headers=_auth(tenant))
    assert answer.headers["Count-Is-Estimate"] == "true"
    assert answer.get_json()["count"] >= 4


def test_a_count_the_planner_expects_far_past_the_threshold_is_not_counted_first(
    client: FlaskClient,
    tenant: Tenant,
    events: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counted: list[object] = []
    monkeypatch.setattr(keyset, "SURE_ESTIMATE", -1)
    monkeypatch.setattr(
        keyset, "func", type("CountingFunc", (), {"count": lambda: counted.append(1)})
    )
    answer = client.get(BASE, headers=_auth(tenant))
    assert answer.status_code == 200
    # Few events, yet the estimate is taken as it is: nothing was counted.
    assert answer.headers["Count-Is-Estimate"] == "true"
    assert counted == [] and isinstance(answer.get_json()["count"], int)


def test_a_lists_estimate_is_planned_once_a_minute_and_never_stands_for_a_count(
    client: FlaskClient,
    tenant: Tenant,
    events: dict[str, Any],
    committed_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(
        keyset, "_estimates", TtlCache(keyset.ESTIMATE_TTL_SECONDS, clock=lambda: now[0])
    )
    planned: list[str] = []
    explain = keyset._Explain

    def counting_explain(statement: Any) -> Any:
        planned.append(str(statement.whereclause))
        return explain(statement)

    monkeypatch.setattr(keyset, "_Explain", counting_explain)

    def count(query: str = "", who: Tenant = tenant) -> int:
        answer = client.get(f"{BASE}?{query}", headers=_auth(who))
        assert answer.status_code == 200 and "Count-Is-Estimate" not in answer.headers
        return int(answer.get_json()["count"])

    first = count()
    assert len(planned) == 1
    make_event(committed_session, tenant)
    committed_session.commit()
    # The kept estimate only decides whether to count: the count itself is fresh.
    assert count() == first + 1 and len(planned) == 1
    # Another filter, another organization: estimates of their own.
    assert count("status=failed") == 1 and len(planned) == 2
    other = make_tenant(committed_session)
    committed_session.commit()
    assert count(who=other) == 0 and len(planned) == 3
    now[0] += keyset.ESTIMATE_TTL_SECONDS + 1
    assert count() == first + 1 and len(planned) == 4


def _wait_done(client: FlaskClient, tenant: Tenant, event_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        event = client.get(f"{BASE}{event_id}/", headers=_auth(tenant)).get_json()
        if event["status"] in ("done", "failed", "dead"):
            return event
        time.sleep(0.1)
    raise AssertionError(f"event {event_id} did not finish: {event}")


def test_the_fix_loop_through_http_with_a_real_worker(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    """A provider moved the phone: find the failed event by its payload, read it, save a fixed
    mapping (its report says the event would now succeed), replay, and see it done with v2."""
    tenant = make_tenant(committed_session, {"fields": {"phone_number": "contact.phone"}})
    committed_session.commit()
    body = {"contact": {"mobile": "2024561111", "email": "moved@example.com"}}
    failed = post_payload(client, tenant.config_id, "upsert", body, tenant.token, query="wait=20")
    assert failed.status_code == 422, failed.get_json()

    found = client.get(
        f"{BASE}?error_field=phone_number&payload_contains="
        + quote('{"contact": {"email": "moved@example.com"}}'),
        headers=_auth(tenant),
    ).get_json()["results"]
    assert [(e["status"], e["mapping_version"]) for e in found] == [("failed", 1)]
    event_id = found[0]["id"]
    raw = client.get(f"{BASE}{event_id}/payload/", headers=_auth(tenant))
    assert json.loads(raw.data) == body

    fixed = {"fields": {"phone_number": {"from": ["contact.phone", "contact.mobile"]}}}
    saved = client.patch(
        f"/api/ingestion-configs/{tenant.config_id}/", json={"mapping": fixed},
        headers=_auth(tenant),
    )  # fmt: skip
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["impact"]["fixed"] == 1

    assert client.post(f"{BASE}{event_id}/replay/", headers=_auth(tenant)).status_code == 202
    done = _wait_done(client, tenant, event_id)
    assert (done["status"], done["action"], done["mapping_version"]) == ("done", "created", 2)
