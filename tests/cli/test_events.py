"""``leadgate events list``: the inbox, newest first, filtered."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from models.base import utcnow
from models.enums import EventAction, EventStatus
from tests.cli.conftest import Invoke
from tests.support.factories import Tenant, make_event, make_tenant


def add_event(session: Session, tenant: Tenant, status: EventStatus, **values: Any) -> str:
    return str(make_event(session, tenant, status=status, **values).id)


def test_events_list_filters_by_config_and_status(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    other = make_tenant(committed_session)
    done = add_event(committed_session, tenant, EventStatus.done, action=EventAction.created)
    failed = add_event(
        committed_session, tenant, EventStatus.failed,
        errors=[{"field": "phone_number", "message": "not a valid number"}],
    )  # fmt: skip
    elsewhere = add_event(committed_session, other, EventStatus.failed)
    committed_session.commit()

    listing = invoke("events", "list", "--config", str(tenant.config_id)).stdout.splitlines()
    assert listing[0].split()[:5] == ["ID", "RECEIVED", "CONFIG", "ENDPOINT", "STATUS"]
    assert [line.split()[0] for line in listing[1:]] == [failed, done]  # newest first
    assert listing[1].split()[2] == str(tenant.config_id)
    assert "phone_number: not a valid number" in listing[1]

    only_failed = invoke(
        "events", "list", "--config", str(tenant.config_id), "--status", "failed"
    ).stdout
    assert failed in only_failed
    assert done not in only_failed
    assert elsewhere not in only_failed


def test_events_list_as_json_with_a_limit(invoke: Invoke, committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    for _ in range(3):
        add_event(committed_session, tenant, EventStatus.queued)
    committed_session.commit()

    events = json.loads(
        invoke("events", "list", "--config", str(tenant.config_id), "--limit", "2", "--json").stdout
    )

    assert len(events) == 2
    assert {event["status"] for event in events} == {"queued"}
    assert events[0]["config"] == str(tenant.config_id)


def test_events_list_errors(invoke: Invoke) -> None:
    unknown = str(uuid.uuid4())
    assert f"no ingestion config with id {unknown}" in (
        invoke("events", "list", "--config", unknown, exit_code=1).stderr
    )
    assert "lost" in invoke("events", "list", "--status", "lost", exit_code=2).stderr


def test_events_list_shows_the_first_error_and_the_last_error(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    dead = add_event(
        committed_session, tenant, EventStatus.dead, attempts=8,
        last_error="OperationalError: could not connect\nto the server",
    )  # fmt: skip
    failed = add_event(
        committed_session, tenant, EventStatus.failed,
        errors=[
            {"field": "email", "message": "not an email address"},
            {"field": "us_state", "message": "not a US state"},
        ],
    )  # fmt: skip
    committed_session.commit()

    table = invoke("events", "list", "--config", str(tenant.config_id)).stdout.splitlines()
    assert "LAST ERROR" in table[0]
    rows = {line.split()[0]: line for line in table[1:]}
    assert rows[failed].rstrip().endswith("email: not an email address (+1 more)  -")
    assert rows[dead].rstrip().endswith("OperationalError: could not connect to the server")

    events = json.loads(
        invoke("events", "list", "--config", str(tenant.config_id), "--json").stdout
    )
    by_id = {event["id"]: event for event in events}
    assert by_id[dead]["last_error"] == "OperationalError: could not connect\nto the server"
    assert by_id[failed]["last_error"] is None
    assert [error["field"] for error in by_id[failed]["errors"]] == ["email", "us_state"]


@pytest.mark.parametrize("since", ["30m", "1h", "7d", "2026-01-01T00:00:00Z"])
def test_events_list_since_a_span_or_an_iso_time(
    invoke: Invoke, committed_session: Session, since: str
) -> None:
    tenant = make_tenant(committed_session)
    now = utcnow()
    recent = add_event(committed_session, tenant, EventStatus.done, received_time=now)
    old = add_event(
        committed_session, tenant, EventStatus.done, received_time=now - dt.timedelta(days=400)
    )
    committed_session.commit()

    listing = invoke("events", "list", "--config", str(tenant.config_id), "--since", since).stdout

    assert recent in listing
    assert old not in listing


def test_events_list_since_in_between(invoke: Invoke, committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    now = utcnow()
    ages = {"10m": dt.timedelta(minutes=10), "2h": dt.timedelta(hours=2)}
    ids = {
        name: add_event(committed_session, tenant, EventStatus.done, received_time=now - age)
        for name, age in ages.items()
    }
    committed_session.commit()

    listing = invoke("events", "list", "--config", str(tenant.config_id), "--since", "1h").stdout

    assert ids["10m"] in listing
    assert ids["2h"] not in listing


def test_events_list_refuses_a_bad_since(invoke: Invoke) -> None:
    refused = invoke("events", "list", "--since", "yesterday", exit_code=2)

    assert "--since" in refused.stderr
    assert "'yesterday' is not a span like 30m, 1h, 7d or an ISO 8601 time" in refused.stderr


def test_events_show_prints_the_event_or_its_raw_payload(
    invoke: Invoke, committed_session: Session, tmp_path: Any
) -> None:
    tenant = make_tenant(committed_session)
    body = b'{"contact": {"phone": "2024561111"}}'
    event_id = add_event(
        committed_session, tenant, EventStatus.failed, raw_body=body, query_string="src=fb"
    )
    committed_session.commit()

    whole = json.loads(invoke("events", "show", event_id).stdout)
    assert whole["id"] == event_id and whole["status"] == "failed"
    assert (whole["content_type"], whole["query_string"]) == ("application/json", "src=fb")
    assert json.loads(whole["body"]) == json.loads(body)

    raw = invoke("events", "show", event_id, "--payload")
    assert raw.stdout_bytes == body
    assert "query string src=fb" in raw.stderr
    # The natural fix loop: the payload file goes straight into `config test`.
    saved = tmp_path / "p.json"
    saved.write_bytes(raw.stdout_bytes)
    tested = invoke("config", "test", str(tenant.config_id), str(saved), exit_code=1)
    assert json.loads(tested.stdout)["would"] == "fail"


def test_events_show_an_unknown_event(invoke: Invoke) -> None:
    unknown = uuid.uuid4()
    result = invoke("events", "show", str(unknown), exit_code=1)
    assert f"no ingestion event with id {unknown}" in result.stderr


def test_events_list_takes_several_statuses(invoke: Invoke, committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    failed = add_event(committed_session, tenant, EventStatus.failed)
    dead = add_event(committed_session, tenant, EventStatus.dead)
    done = add_event(committed_session, tenant, EventStatus.done)
    committed_session.commit()
    listing = invoke(
        "events", "list", "--config", str(tenant.config_id), "--status", "failed",
        "--status", "dead",
    ).stdout  # fmt: skip
    assert failed in listing and dead in listing and done not in listing
