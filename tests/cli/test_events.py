"""``leadgate events list``: the inbox, newest first, filtered."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

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
    assert listing[0].split()[:4] == ["ID", "RECEIVED", "ENDPOINT", "STATUS"]
    assert [line.split()[0] for line in listing[1:]] == [failed, done]  # newest first
    assert "phone_number" in listing[1]

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
