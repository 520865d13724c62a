"""Event ids are UUIDv7: time-ordered, so the inbox's primary key grows at one edge."""

from __future__ import annotations

import uuid

from models.ingestion_event import new_event_id


def test_event_ids_are_version_7_and_ordered_by_creation() -> None:
    ids = [new_event_id() for _ in range(1_000)]
    assert all(type(event_id) is uuid.UUID and event_id.version == 7 for event_id in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
