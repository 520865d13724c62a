"""One log line per state change, masked; replays timed apart from fresh events."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from types import SimpleNamespace
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY

from common.logs import JsonFormatter, MaskingFilter
from models.base import utcnow
from models.enums import Endpoint, EventAction, EventStatus
from worker.ingest.claims import Claim
from worker.ingest.pipeline import Outcome
from worker.observe import event_finished, event_replayed

PHONE = "+12025550143"


def _claim(received: dt.datetime | None = None, replayed: dt.datetime | None = None) -> Claim:
    return Claim(
        event_id=uuid.uuid4(),
        attempt=1,
        seq=1,
        endpoint=Endpoint.upsert,
        organization_id=1,
        received_time=received or utcnow(),
        config=cast(Any, SimpleNamespace(id=uuid.uuid4())),
        replayed_time=replayed,
    )


def _rendered(record: logging.LogRecord) -> str:
    MaskingFilter().filter(record)
    return JsonFormatter().format(record)


def test_a_failed_event_is_a_warning_naming_its_first_error_masked(
    services: Any, caplog: pytest.LogCaptureFixture
) -> None:
    claim = _claim()
    errors = [
        {"field": "phone_number", "message": f"{PHONE} is not a valid US number"},
        {"field": "email", "message": "jane@example.com is not an email"},
    ]
    with caplog.at_level(logging.INFO, logger="worker.events"):
        event_finished([(claim, Outcome(EventStatus.failed, errors=errors))])
    (record,) = caplog.records
    fields = vars(record)
    assert record.levelno == logging.WARNING
    assert (fields["change"], fields["status"], fields["error_field"]) == ("failed",) * 2 + (
        "phone_number",
    )
    assert fields["event_id"] == str(claim.event_id) and fields["attempt"] == 1
    line = _rendered(record)
    assert "none" not in record.getMessage()
    assert "is not a valid US number" in line
    assert PHONE not in line and "2025550143" not in line and "jane@" not in line


def test_a_done_event_logs_its_lead_and_action(
    services: Any, caplog: pytest.LogCaptureFixture
) -> None:
    claim = _claim()
    outcome = Outcome(EventStatus.done, EventAction.updated, lead_id=42, matched_by="email")
    with caplog.at_level(logging.INFO, logger="worker.events"):
        event_finished([(claim, outcome)])
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    names = ("change", "status", "action", "lead_id", "config")
    fields = tuple(vars(record)[name] for name in names)
    assert fields == ("done", "done", "updated", 42, str(claim.config.id))


def _count(name: str) -> float:
    value = REGISTRY.get_sample_value(f"{name}_count")
    assert value is not None
    return value


def _bucket(name: str, upper: str) -> float:
    value = REGISTRY.get_sample_value(f"{name}_bucket", {"le": upper})
    assert value is not None
    return value


FRESH = "leadgate_event_received_to_done_seconds"
REPLAYS = "leadgate_event_replayed_to_done_seconds"


def test_a_replay_is_timed_from_its_replay_not_its_week_old_receipt(services: Any) -> None:
    week_old = utcnow() - dt.timedelta(days=7)
    claim = _claim(received=week_old, replayed=utcnow() - dt.timedelta(seconds=3))
    fresh, replays, replays_within_10s = _count(FRESH), _count(REPLAYS), _bucket(REPLAYS, "10.0")

    event_finished([(claim, Outcome(EventStatus.done, EventAction.created, lead_id=1))])

    assert _count(FRESH) == fresh, "a replay must not be counted with first deliveries"
    assert _count(REPLAYS) == replays + 1
    # About 3 s from the replay; timed from the receipt it would be a week, past every bucket.
    assert _bucket(REPLAYS, "10.0") == replays_within_10s + 1


def test_a_first_delivery_is_timed_from_its_receipt(services: Any) -> None:
    claim = _claim(received=utcnow() - dt.timedelta(seconds=3))
    fresh, fresh_within_10s, replays = _count(FRESH), _bucket(FRESH, "10.0"), _count(REPLAYS)

    event_finished([(claim, Outcome(EventStatus.done, EventAction.created, lead_id=1))])

    assert (_count(FRESH), _bucket(FRESH, "10.0")) == (fresh + 1, fresh_within_10s + 1)
    assert _count(REPLAYS) == replays


def test_a_replay_logs_one_line_per_event(caplog: pytest.LogCaptureFixture) -> None:
    ids = [uuid.uuid4(), uuid.uuid4()]
    with caplog.at_level(logging.INFO, logger="worker.events"):
        event_replayed(ids)
    fields = [(vars(r)["event_id"], vars(r)["change"], vars(r)["status"]) for r in caplog.records]
    assert fields == [(str(event_id), "replayed", "queued") for event_id in ids]
