"""Which mapped source paths each payload carried, and whether it failed: counters in Redis.

Two structures per config, written together in one pipeline per batch:

- time buckets (a hash per ``BUCKET_SECONDS``: ``n`` events, ``p:<source>`` present), kept for
  ``RETENTION_SECONDS``: the drift baseline and the stats' path shares are sums over them;
- the last N events (a capped list; each entry the mapping version, failed or not, and the
  sources it lacked): the drift rule's recent window. Entries of an older mapping version are
  not counted, so a fixed mapping starts a fresh window.

Nothing here holds a payload value: only the mapping's own expressions and counts.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.redis_client import RedisClient
from worker.health.drift import Counts
from worker.ingest.mapping import CompiledMapping
from worker.ingest.prepare import decode_payload
from worker.ingest.types import PreparedLead

BUCKET_SECONDS = 600
# The longest stats window (7 days), and one bucket more for the partial one.
RETENTION_SECONDS = 7 * 86400 + BUCKET_SECONDS
_PREFIX = "leadgate:health"


@dataclass(frozen=True)
class Observation:
    """One processed event of a config: the sources it carried and whether it failed."""

    config_id: uuid.UUID
    mapping_version: int
    sources: tuple[str, ...]
    present: frozenset[str]
    failed: bool


def mapped_sources(mapping: CompiledMapping) -> tuple[str, ...]:
    """The mapping's sources: each ``from`` rule, its alternatives named together."""
    return tuple(rule.source for rule in mapping.rules if rule.paths and rule.template is None)


def present_sources(mapping: CompiledMapping, payload: dict[str, Any]) -> frozenset[str]:
    """The sources that give a non-blank value on this payload, read as the worker reads it."""
    decoded = decode_payload(PreparedLead(), mapping, payload)
    return frozenset(
        rule.source
        for rule in mapping.rules
        if rule.paths and rule.template is None and rule.found_value(decoded) is not None
    )


def bucket_key(config_id: uuid.UUID, bucket: int) -> str:
    """The hash of one time bucket (its start, in whole buckets since the epoch)."""
    return f"{_PREFIX}:{config_id}:b:{bucket}"


def recent_key(config_id: uuid.UUID) -> str:
    """The list of the config's last N events."""
    return f"{_PREFIX}:{config_id}:recent"


def bucket_of(epoch_seconds: float) -> int:
    """The bucket a moment falls in."""
    return int(epoch_seconds // BUCKET_SECONDS)


def record(
    client: RedisClient,
    observations: Sequence[Observation],
    now: float,
    recent_events: int | Mapping[uuid.UUID, int],
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Count the observations and read back each config's recent window, in one round trip.

    The answer maps each config to its last ``recent_events`` entries (one number for all, or
    one per config), newest first.
    """
    by_config: dict[uuid.UUID, list[Observation]] = {}
    for observation in observations:
        by_config.setdefault(observation.config_id, []).append(observation)
    pipe = client.pipeline(transaction=False)
    bucket = bucket_of(now)
    window_at: dict[uuid.UUID, int] = {}
    for config_id, seen in by_config.items():
        keep = recent_events if isinstance(recent_events, int) else recent_events[config_id]
        key = bucket_key(config_id, bucket)
        present = Counter(source for obs in seen for source in obs.present)
        pipe.hincrby(key, "n", len(seen))
        for source, count in present.items():
            pipe.hincrby(key, f"p:{source}", count)
        pipe.expire(key, RETENTION_SECONDS)
        entries = [
            json.dumps(
                {
                    "v": obs.mapping_version,
                    "f": int(obs.failed),
                    "m": sorted(set(obs.sources) - obs.present),
                },
                separators=(",", ":"),
            )
            for obs in seen
        ]
        pipe.lpush(recent_key(config_id), *entries)
        pipe.ltrim(recent_key(config_id), 0, keep - 1)
        pipe.expire(recent_key(config_id), RETENTION_SECONDS)
        window_at[config_id] = len(pipe)
        pipe.lrange(recent_key(config_id), 0, keep - 1)
    answers = pipe.execute()
    return {
        config_id: [json.loads(raw) for raw in answers[at]] for config_id, at in window_at.items()
    }


def recent_counts(entries: Iterable[dict[str, Any]], mapping_version: int) -> Counts:
    """The recent window of the current mapping version: events, misses by source, failures."""
    current = [entry for entry in entries if entry.get("v") == mapping_version]
    missing = Counter(source for entry in current for source in entry.get("m", ()))
    return Counts(
        events=len(current), by_source=dict(missing), failed=sum(e.get("f", 0) for e in current)
    )


def window_counts(client: RedisClient, config_id: uuid.UUID, now: float, seconds: float) -> Counts:
    """Events and presence by source over at least the last ``seconds``, in whole buckets."""
    pipe = client.pipeline(transaction=False)
    for bucket in range(bucket_of(now - seconds), bucket_of(now) + 1):
        pipe.hgetall(bucket_key(config_id, bucket))
    events = 0
    present: Counter[str] = Counter()
    for found in pipe.execute():
        for raw_name, raw_count in found.items():
            name, count = raw_name.decode(), int(raw_count)
            if name == "n":
                events += count
            elif name.startswith("p:"):
                present[name[2:]] += count
    return Counts(events=events, by_source=dict(present))


def forget_recent(client: RedisClient, config_id: uuid.UUID) -> None:
    """Start the config's recent window afresh (on release: the operator has looked)."""
    client.delete(recent_key(config_id))
