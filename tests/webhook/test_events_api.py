"""The events list's filters and cursor pages, and each event's raw payload."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy import event as sql_events
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


MADE = 7  # the events fixture's events


@dataclass
class Sizing:
    """The count and plan statements the list ran, on a clock the test moves."""

    now: float = 0.0
    ran: list[str] = field(default_factory=list)

    def explained(self) -> int:
        return sum(statement.startswith("EXPLAIN") for statement in self.ran)

    def counted(self) -> int:
        return sum(statement.startswith("SELECT count(*)") for statement in self.ran)


@pytest.fixture
def sizing(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sizing]:
    """Fresh kept estimates on the test's clock, and every count and plan statement recorded."""
    seen = Sizing()
    for name in ("_estimates", "_past_limit"):
        kept = TtlCache[Hashable, object](keyset.ESTIMATE_TTL_SECONDS, clock=lambda: seen.now)
        monkeypatch.setattr(keyset, name, kept)

    def record(*args: Any) -> None:
        seen.ran.append(args[2])

    sql_events.listen(Engine, "before_cursor_execute", record)
    yield seen
    sql_events.remove(Engine, "before_cursor_execute", record)


def _counted(client: FlaskClient, who: Tenant, query: str) -> tuple[int, bool]:
    answer = client.get(f"{BASE}?{query}", headers=_auth(who))
    assert answer.status_code == 200, answer.get_json()
    return int(answer.get_json()["count"]), answer.headers.get("Count-Is-Estimate") == "true"


def test_a_first_page_that_holds_every_match_is_its_own_count(
    client: FlaskClient, tenant: Tenant, events: dict[str, Any], sizing: Sizing
) -> None:
    assert _counted(client, tenant, "") == (MADE, False)
    assert _counted(client, tenant, "status=failed") == (1, False)
    assert sizing.explained() == sizing.counted() == 0
    # A full page cannot say what follows it: the list is planned and counted.
    assert _counted(client, tenant, "page_size=2") == (MADE, False)
    assert sizing.explained() == sizing.counted() == 1


def test_past_the_threshold_the_count_is_an_estimate_and_says_so(
    client: FlaskClient,
    tenant: Tenant,
    events: dict[str, Any],
    sizing: Sizing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _counted(client, tenant, "page_size=2")[1] is False
    monkeypatch.setattr(keyset, "EXACT_COUNT_LIMIT", 3)
    sizing.now += keyset.ESTIMATE_TTL_SECONDS + 1
    count, estimated = _counted(client, tenant, "page_size=2")
    assert estimated and count >= 4


def test_a_count_the_planner_expects_far_past_the_threshold_is_not_counted_first(
    client: FlaskClient,
    tenant: Tenant,
    events: dict[str, Any],
    sizing: Sizing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keyset, "SURE_ESTIMATE", -1)
    # Few events, yet the estimate is taken as it is: nothing was counted.
    assert _counted(client, tenant, "page_size=2")[1] is True
    assert sizing.explained() == 1 and sizing.counted() == 0


def test_a_lists_estimate_is_planned_once_a_minute_and_never_stands_for_a_count(
    client: FlaskClient,
    tenant: Tenant,
    events: dict[str, Any],
    committed_session: Session,
    sizing: Sizing,
) -> None:
    first, _ = _counted(client, tenant, "page_size=1")
    assert sizing.explained() == 1
    make_event(committed_session, tenant)
    committed_session.commit()
    # The kept estimate only decides whether to count: the count itself is fresh.
    assert _counted(client, tenant, "page_size=1") == (first + 1, False)
    assert sizing.explained() == 1 and sizing.counted() == 2
    # Another filter, another organization: estimates of their own.
    assert _counted(client, tenant, "page_size=1&status=failed,dead") == (2, False)
    assert sizing.explained() == 2
    other = make_tenant(committed_session)
    for _ in range(2):
        make_event(committed_session, other)
    committed_session.commit()
    assert _counted(client, other, "page_size=1") == (2, False)
    assert sizing.explained() == 3
    sizing.now += keyset.ESTIMATE_TTL_SECONDS + 1
    assert _counted(client, tenant, "page_size=1") == (first + 1, False)
    assert sizing.explained() == 4


def test_a_list_found_past_the_limit_is_not_counted_again_within_a_minute(
    client: FlaskClient,
    tenant: Tenant,
    events: dict[str, Any],
    sizing: Sizing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keyset, "EXACT_COUNT_LIMIT", 3)
    assert _counted(client, tenant, "page_size=2")[1] is True
    assert _counted(client, tenant, "page_size=2")[1] is True
    assert sizing.counted() == 1
    # Under the limit, nothing is kept: the next request counts again.
    assert _counted(client, tenant, "page_size=1&status=failed,dead") == (2, False)
    assert _counted(client, tenant, "page_size=1&status=failed,dead") == (2, False)
    assert sizing.counted() == 3
    sizing.now += keyset.ESTIMATE_TTL_SECONDS + 1
    monkeypatch.setattr(keyset, "EXACT_COUNT_LIMIT", 100)
    assert _counted(client, tenant, "page_size=2") == (MADE, False)
    assert sizing.counted() == 4


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
