"""The events list's filters read from text and from JSON: one parser for every reader."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from models.enums import Endpoint, EventAction, EventStatus
from worker.event_filter_parser import (
    FilterError,
    filter_as_json,
    parse_event_filter,
    texts_from_json,
)
from worker.event_search import EventFilter

CONFIG = uuid.UUID("2b7c0b4e-8d0a-4d7e-9a55-0d9e5d1f6a10")


def test_every_filter_is_read_from_text() -> None:
    wanted = parse_event_filter(
        {
            "config": [str(CONFIG)],
            "status": ["failed,DEAD", "failed"],
            "action": ["created"],
            "endpoint": ["upsert"],
            "error_field": ["phone_number"],
            "lead": ["2e1"],
            "since": ["2026-11-27T09:00:00"],
            "until": ["2026-11-28T09:00:00+02:00"],
            "idempotency_key": ["k-1"],
            "payload_contains": ['{"contact": {"email": "x@y.z"}}'],
        }
    )
    assert wanted == EventFilter(
        config=CONFIG,
        statuses=(EventStatus.failed, EventStatus.dead),
        actions=(EventAction.created,),
        endpoint=Endpoint.upsert,
        error_field="phone_number",
        lead=20,
        since=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC),
        until=dt.datetime(2026, 11, 28, 9, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        idempotency_key="k-1",
        payload_contains={"contact": {"email": "x@y.z"}},
    )


def test_empty_text_is_no_filter() -> None:
    assert parse_event_filter({"config": [""], "status": [""], "lead": []}) == EventFilter()


@pytest.mark.parametrize(
    ("texts", "field", "reason"),
    [
        ({"config": ["x"]}, "config", "not a UUID"),
        ({"status": ["asleep"]}, "status", "'asleep' is not one of"),
        ({"lead": ["2.5"]}, "lead", "not an integer"),
        ({"lead": ["0"]}, "lead", "must be between 1 and 2147483647"),
        ({"since": ["soon"]}, "since", "not a datetime"),
        ({"error_field": ["a\x00b"]}, "error_field", "contains a NUL character"),
        ({"payload_contains": ["{"]}, "payload_contains", "not valid JSON"),
        ({"payload_contains": ["[]"]}, "payload_contains", "must be a JSON object"),
        ({"payload_contains": ['{"a": NaN}']}, "payload_contains", "not valid JSON"),
    ],
)
def test_a_bad_text_names_its_filter(texts: dict[str, list[str]], field: str, reason: str) -> None:
    with pytest.raises(FilterError) as refused:
        parse_event_filter(texts)
    assert refused.value.field == field
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"lead": "12"}, "lead", "must be an integer, not a string"),
        ({"lead": True}, "lead", "must be an integer, not a boolean"),
        ({"config": 3}, "config", "must be a string, not a number"),
        ({"config": ""}, "config", "empty"),
        ({"since": ["2026-01-01"]}, "since", "takes one value"),
        ({"status": [None]}, "status", "must be a string, not null"),
        ({"payload_contains": "{}"}, "payload_contains", "must be a JSON object"),
        ({"colour": "red"}, "colour", "not a filter"),
        (["failed"], "filter", "must be a JSON object"),
    ],
)
def test_a_bad_json_filter_names_it(body: Any, field: str, reason: str) -> None:
    with pytest.raises(FilterError) as refused:
        texts_from_json(body)
    assert refused.value.field == field
    assert reason in refused.value.reason


def test_a_filter_goes_to_json_and_back_unchanged() -> None:
    wanted = EventFilter(
        config=CONFIG,
        statuses=(EventStatus.dead,),
        lead=7,
        since=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC),
        payload_contains={"a": [1, {"b": None}]},
    )
    assert parse_event_filter(texts_from_json(filter_as_json(wanted))) == wanted
    assert texts_from_json({"lead": 7.0, "status": "dead", "until": None}) == {
        "lead": ["7"],
        "status": ["dead"],
    }
