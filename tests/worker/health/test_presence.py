"""Path presence in Redis: which sources a payload carried, counted in buckets and a window."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.support.services import ServiceUrls
from worker.health.presence import (
    BUCKET_SECONDS,
    Observation,
    bucket_key,
    bucket_of,
    forget_recent,
    mapped_sources,
    present_sources,
    recent_counts,
    recent_key,
    record,
    window_counts,
)
from worker.ingest.mapping import compile_mapping

MAPPING = compile_mapping(
    {
        "fields": {
            "phone_number": {"from": ["contact.phone", "contact.mobile"]},
            "email": "contact.email",
            "lead_source": {"value": "Acme"},
            "metadata.full_name": {"template": "{contact.first} {contact.last}"},
            "metadata.utm": {"from": "field_data[?name=='utm'].values[0] | [0]"},
            "metadata.extra": "extra.value",
        },
        "decode": {"extra": "json"},
    }
)
NOW = 1_800_000_000.0


@pytest.fixture
def client(services: ServiceUrls) -> Iterator[redis.Redis]:
    """A client on the test Redis."""
    connection = redis.Redis.from_url(services.redis_url)
    yield connection
    connection.close()


def test_sources_are_the_from_rules_with_alternatives_together() -> None:
    assert mapped_sources(MAPPING) == (
        "contact.phone or contact.mobile",
        "contact.email",
        "field_data[?name=='utm'].values[0] | [0]",
        "extra.value",
    )


@pytest.mark.parametrize(
    ("payload", "present"),
    [
        ({"contact": {"phone": "2024561111", "email": "a@b.co"}}, {"or", "contact.email"}),
        # The alternative counts: the source is present.
        ({"contact": {"mobile": "2024561111"}}, {"or"}),
        # Blank is missing, as the mapping reads it.
        ({"contact": {"phone": "  ", "email": ""}}, set()),
        ({"field_data": [{"name": "utm", "values": ["fb"]}]}, {"utm"}),
        # A decoded key is read decoded.
        ({"extra": '{"value": 3}'}, {"extra.value"}),
        ({}, set()),
    ],
)
def test_presence_reads_the_payload_as_the_mapping_does(
    payload: dict[str, object], present: set[str]
) -> None:
    short = {
        "contact.phone or contact.mobile": "or",
        "field_data[?name=='utm'].values[0] | [0]": "utm",
    }
    found = {short.get(source, source) for source in present_sources(MAPPING, payload)}
    assert found == present


def _seen(config_id: uuid.UUID, version: int, present: set[str], failed: bool) -> Observation:
    sources = ("contact.phone", "contact.email")
    return Observation(config_id, version, sources, frozenset(present), failed)


def test_record_counts_buckets_and_answers_the_recent_window(client: redis.Redis) -> None:
    config_id = uuid.uuid4()
    batch = [
        _seen(config_id, 1, {"contact.phone", "contact.email"}, False),
        _seen(config_id, 1, {"contact.email"}, True),
        _seen(config_id, 1, {"contact.email"}, True),
    ]
    windows = record(client, batch, NOW, recent_events=2)
    # Newest first, and capped at N.
    assert len(windows[config_id]) == 2
    assert client.llen(recent_key(config_id)) == 2
    recent = recent_counts(windows[config_id], mapping_version=1)
    assert (recent.events, dict(recent.by_source), recent.failed) == (2, {"contact.phone": 2}, 2)
    # Entries of another mapping version are not counted.
    assert recent_counts(windows[config_id], mapping_version=2).events == 0

    key = bucket_key(config_id, bucket_of(NOW))
    assert client.hgetall(key) == {b"n": b"3", b"p:contact.phone": b"1", b"p:contact.email": b"3"}
    assert 0 < client.ttl(key) <= 7 * 86400 + BUCKET_SECONDS
    forget_recent(client, config_id)
    assert client.llen(recent_key(config_id)) == 0


def test_a_window_sums_whole_buckets_back_far_enough(client: redis.Redis) -> None:
    config_id = uuid.uuid4()
    hour_ago, two_days_ago = NOW - 3000, NOW - 2 * 86400
    for moment, present in ((NOW, {"contact.email"}), (hour_ago, {"contact.phone"})):
        record(client, [_seen(config_id, 1, present, False)], moment, recent_events=50)
    record(client, [_seen(config_id, 1, {"contact.phone"}, False)], two_days_ago, 50)

    hour = window_counts(client, config_id, NOW, 3600)
    assert (hour.events, dict(hour.by_source)) == (2, {"contact.email": 1, "contact.phone": 1})
    week = window_counts(client, config_id, NOW, 7 * 86400)
    assert (week.events, week.by_source["contact.phone"]) == (3, 2)
    assert window_counts(client, uuid.uuid4(), NOW, 3600).events == 0
