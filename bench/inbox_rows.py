"""B8's inbox rows: months of events as the service leaves them, in receive order.

Each event is a dict of column values by column name; the loader copies the names the live
table has, so a column added or dropped by a later migration does not break the benchmark.
Events are spread over ``months`` (so a table partitioned by received month has several
partitions), mostly done, some failed or dead, and at the end, as the sweep and the claim
find them at the moment of the build: a small tail of unfinished work (retrying, processing
under a live or an expired lease, queued events whose message was lost) and a backlog of
fresh queued events (``fresh_share`` of all) received in the last minute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.payloads import person_payload
from common.settings import load_settings

# A share of the events sent with an Idempotency-Key header.
KEYED_SHARE = 0.2
# Among the events before the tail: what became of them.
FAILED_SHARE = 0.025
DEAD_SHARE = 0.005
# The tail's unfinished events sit in the hour before the build.
TAIL_SECONDS = 3600.0
# Live leases end this long after the build: the database is reused across runs, and a lease
# that ran out between two runs would turn a live worker's batch into a dead worker's.
LIVE_LEASE = dt.timedelta(days=365)
# A queued event's first check after its receipt: the service's default stuck-after time.
FIRST_CHECK_AFTER = load_settings({}).stuck_after
_FAILURE = [{"field": "phone_number", "message": "'555-0100' is not a valid phone number"}]


@dataclass(frozen=True)
class InboxShape:
    """How many events of each kind, and over how long."""

    events: int
    configs: int = 20
    months: int = 6
    fresh_share: float = 0.01

    @property
    def fresh(self) -> int:
        """Queued events never tried, received in the last minute: what a claim takes."""
        return max(1, round(self.events * self.fresh_share))

    @property
    def tail(self) -> dict[str, int]:
        """The unfinished events of the last hour, by kind; a few of each even at tiny sizes."""
        retrying = max(4, self.events // 500)
        return {
            "retrying": retrying,
            "retrying_overdue": max(1, min(50, retrying // 10)),
            "processing_live": max(1, min(64, self.events // 1000)),
            "processing_expired": max(1, min(32, self.events // 2000)),
            "queued_lost": max(1, min(100, self.events // 1000)),
        }


def uuid7_at(moment: dt.datetime, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 whose timestamp is ``moment``: ids in the order the events were received."""
    # models.ingestion_event.new_event_id stamps the current time; rows of past months need
    # their own, or the primary key's order would not follow received_time as in production.
    millis = int(moment.timestamp() * 1000)
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64)
    value |= (0b10 << 62) | rng.getrandbits(62)
    return uuid.UUID(int=value)


def _kinds(shape: InboxShape) -> list[str]:
    """The tail's kinds in a shuffled order, then the fresh backlog."""
    tail = [kind for kind, count in shape.tail.items() for _ in range(count)]
    random.Random(8).shuffle(tail)
    return tail + ["fresh"] * shape.fresh


def _settled(rng: random.Random) -> str:
    draw = rng.random()
    if draw < FAILED_SHARE:
        return "failed"
    if draw < FAILED_SHARE + DEAD_SHARE:
        return "dead"
    return "done"


def _state(kind: str, received: dt.datetime, built: dt.datetime) -> dict[str, Any]:
    """The columns that say where the event stands."""
    processed = received + dt.timedelta(milliseconds=40)
    empty: dict[str, Any] = {
        "attempts": 0, "next_attempt_time": None, "processed_time": None, "action": None,
        "matched_by": None, "errors": "[]", "warnings": "[]", "match_explanation": None,
        "last_error": None, "mapping_version": None, "payload": None,
    }  # fmt: skip
    if kind == "done":
        return {**empty, "status": "done", "attempts": 1, "processed_time": processed,
                "action": "created", "matched_by": None, "mapping_version": 1}  # fmt: skip
    if kind == "failed":
        return {**empty, "status": "failed", "attempts": 1, "processed_time": processed,
                "errors": json.dumps(_FAILURE), "mapping_version": 1}  # fmt: skip
    if kind == "dead":
        return {**empty, "status": "dead", "attempts": 8, "processed_time": processed,
                "last_error": "OperationalError: could not connect to server"}  # fmt: skip
    if kind == "retrying":
        due = built + dt.timedelta(seconds=60 + received.second * 10)
        return {**empty, "status": "retrying", "attempts": 2, "next_attempt_time": due,
                "last_error": "lock wait timeout"}  # fmt: skip
    if kind == "retrying_overdue":
        return {**empty, "status": "retrying", "attempts": 3,
                "next_attempt_time": built - dt.timedelta(minutes=30)}  # fmt: skip
    if kind == "processing_live":
        return {
            **empty,
            "status": "processing",
            "attempts": 1,
            "next_attempt_time": built + LIVE_LEASE,
        }
    if kind == "processing_expired":
        return {**empty, "status": "processing", "attempts": 1,
                "next_attempt_time": built - dt.timedelta(minutes=10)}  # fmt: skip
    # "fresh" and "queued_lost": queued, never tried; the lost ones are older than a sweep.
    # The inbox stores each with its first check, as the sweeper's index finds it.
    return {**empty, "status": "queued", "next_attempt_time": received + FIRST_CHECK_AFTER}


def _times(shape: InboxShape, built: dt.datetime, rng: random.Random) -> Iterator[dt.datetime]:
    """Receive times in order: the settled events over the months, then the tail, then fresh."""
    kinds = _kinds(shape)
    settled = shape.events - len(kinds)
    start = built - dt.timedelta(days=30.4 * shape.months)
    tail_start = built - dt.timedelta(seconds=TAIL_SECONDS)
    fresh_start = built - dt.timedelta(seconds=60)
    tail = len(kinds) - shape.fresh
    for index in range(settled):
        yield start + (tail_start - start) * ((index + rng.random()) / settled)
    for index in range(tail):
        yield tail_start + (fresh_start - dt.timedelta(seconds=120) - tail_start) * (index / tail)
    for index in range(shape.fresh):
        yield fresh_start + dt.timedelta(seconds=60) * (index / shape.fresh)


def inbox_rows(
    shape: InboxShape,
    organization_id: int,
    config_ids: list[uuid.UUID],
    built: dt.datetime,
    seed: int = 8,
) -> Iterator[dict[str, Any]]:
    """``shape.events`` events of one organization over ``config_ids``, oldest first."""
    rng = random.Random(seed)
    kinds = _kinds(shape)
    settled = shape.events - len(kinds)
    # A few busy configs and a long tail of quiet ones, as providers are.
    weights = [1 / (rank + 1) for rank in range(len(config_ids))]
    for index, received in enumerate(_times(shape, built, rng)):
        kind = _settled(rng) if index < settled else kinds[index - settled]
        config_id = rng.choices(config_ids, weights)[0]
        body = json.dumps(person_payload(f"p{index}", index % 6_000_000, index % 3 // 2, "b8"))
        raw = body.encode()
        state = _state(kind, received, built)
        if state["status"] in ("done", "failed"):
            state["payload"] = body
        keyed = rng.random() < KEYED_SHARE
        yield {
            "id": uuid7_at(received, rng),
            "config_id": config_id,
            "organization_id": organization_id,
            "endpoint": "upsert",
            "received_time": received,
            "content_type": "application/json",
            "raw_body": raw,
            "query_string": "",
            "body_sha256": hashlib.sha256(raw).hexdigest(),
            "idempotency_key": f"order-{index}" if keyed else None,
            "lead_id": None,
            "replayed_time": None,
            "target_lead_id": None,
            "is_test": False,
            **state,
        }
