"""The API over the partitioned inbox: keys across a month's turn, reads, purged raw bodies."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from models.base import utcnow
from models.enums import EventStatus
from models.ingestion_event import new_event_id
from tests.support.api import post_payload
from tests.support.factories import Tenant, make_event
from webhook import inbox
from worker.inbox_partitions import ensure_partitions

pytestmark = pytest.mark.integration

BASE = "/api/ingestion-events/"
UTC = dt.UTC


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _partition_of(session: Session, event_id: str) -> str:
    return str(
        session.scalar(
            text("SELECT tableoid::regclass::text FROM ingestion_events WHERE id = :id"),
            {"id": uuid.UUID(event_id)},
        )
    )


def test_a_key_sent_on_a_months_last_day_answers_with_its_event_on_the_2nd_of_the_next(
    client: FlaskClient,
    tenant: Tenant,
    committed_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ensure_partitions(committed_session, dt.datetime(2031, 1, 20, tzinfo=UTC))
    committed_session.commit()
    body = {"phone_number": "+12024561111"}
    headers = {"Idempotency-Key": f"turn-{uuid.uuid4()}"}

    def send_at(moment: dt.datetime, payload: dict[str, str] = body) -> tuple[int, str]:
        monkeypatch.setattr(inbox, "utcnow", lambda: moment)
        answer = post_payload(
            client, tenant.config_id, "upsert", payload, tenant.token, headers=headers
        )
        return answer.status_code, answer.get_json().get("id") or answer.get_json()["detail"]

    status, first = send_at(dt.datetime(2031, 1, 31, 23, 59, 59, tzinfo=UTC))
    assert status == 202
    status, again = send_at(dt.datetime(2031, 2, 2, 9, 0, tzinfo=UTC))
    assert (status, again) == (202, first)
    status, _ = send_at(dt.datetime(2031, 2, 2, 9, 1, tzinfo=UTC), {"phone_number": "+12024561112"})
    assert status == 409
    # Past the 7-day window the key is free again; the new event lands in February's partition.
    status, later = send_at(dt.datetime(2031, 2, 8, 0, 0, 1, tzinfo=UTC))
    assert status == 202 and later != first
    assert _partition_of(committed_session, first) == "ingestion_events_y2031m01"
    assert _partition_of(committed_session, later) == "ingestion_events_y2031m02"


def test_the_list_and_one_events_read_work_across_partitions(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    now = utcnow()
    events = [
        make_event(committed_session, tenant, received_time=now - dt.timedelta(days=age))
        for age in (0, 35, 70)
    ]
    committed_session.commit()
    answer = client.get(f"{BASE}?config={tenant.config_id}", headers=_auth(tenant))
    assert answer.status_code == 200, answer.get_json()
    listed = [event["id"] for event in answer.get_json()["results"]]
    # Newest first by receive order (seq), whichever partition each lies in.
    assert listed == [str(event.id) for event in reversed(events)]
    for event in events:
        one = client.get(f"{BASE}{event.id}/", headers=_auth(tenant))
        assert one.status_code == 200
        assert one.get_json()["received_time"].startswith(event.received_time.date().isoformat())


def test_a_purged_event_says_so_and_is_not_replayed(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    purged_on = dt.datetime(2031, 5, 6, 7, 0, tzinfo=UTC)
    event = make_event(
        committed_session,
        tenant,
        b"",
        status=EventStatus.done,
        raw_body_purged_time=purged_on,
    )
    committed_session.commit()
    shown = client.get(f"{BASE}{event.id}/", headers=_auth(tenant)).get_json()
    assert shown["raw_body_purged_time"].startswith("2031-05-06")
    payload = client.get(f"{BASE}{event.id}/payload/", headers=_auth(tenant))
    assert payload.status_code == 410
    assert "raw body was purged on 2031-05-06" in payload.get_json()["detail"]
    replay = client.post(f"{BASE}{event.id}/replay/", headers=_auth(tenant))
    assert replay.status_code == 409
    assert "raw body was purged on 2031-05-06" in replay.get_json()["detail"]
    assert "nothing left to replay" in replay.get_json()["detail"]


def test_an_event_whose_id_and_receive_time_disagree_is_still_read(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    now = utcnow()
    odd = make_event(
        committed_session,
        tenant,
        id=new_event_id(now),
        received_time=now - dt.timedelta(days=40),
    )
    committed_session.commit()
    assert client.get(f"{BASE}{odd.id}/", headers=_auth(tenant)).status_code == 200
    assert client.get(f"{BASE}{new_event_id(now)}/", headers=_auth(tenant)).status_code == 404
