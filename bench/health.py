"""B9 health: what recording a batch's path presence and judging drift costs the worker.

In-process against the benchmarks' Redis: batches of B2's nested payloads through what the
worker runs after each batch (``worker.health``: presence of each mapped source, one pipeline
that counts and reads the recent window back, the drift rule), side by side with the floor of
any Redis work, one round trip (a PING), in alternating rounds so both see the same machine.
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis

from bench.payloads import NESTED_MAPPING, person_payload
from bench.stack import Servers
from worker.health.drift import Counts, DriftLimits, judge_drift
from worker.health.presence import (
    Observation,
    mapped_sources,
    present_sources,
    recent_counts,
    record,
)
from worker.ingest.mapping import compile_mapping


@dataclass
class HealthPlan:
    """Batches per round, rounds, and the worker's batch size."""

    batches: int = 200
    rounds: int = 10
    batch_size: int = 32


def _health_batch(
    client: redis.Redis, mapping: Any, payloads: list[dict[str, Any]], config_id: uuid.UUID
) -> None:
    sources = mapped_sources(mapping)
    seen = [
        Observation(config_id, 1, sources, present_sources(mapping, payload), False)
        for payload in payloads
    ]
    limits = DriftLimits()
    windows = record(client, seen, time.time(), limits.recent_events)
    judge_drift(sources, Counts(), recent_counts(windows[config_id], 1), limits)


def run(servers: Servers, plan: HealthPlan) -> dict[str, Any]:
    """Seconds per batch of health recording and of one round trip; their ratio per event."""
    client = redis.Redis.from_url(servers.redis_url)
    mapping = compile_mapping(NESTED_MAPPING)
    payloads = [person_payload(f"p{n}", n, 0, "health") for n in range(plan.batch_size)]
    config_id = uuid.uuid4()
    health: list[float] = []
    floor: list[float] = []
    try:
        for _ in range(plan.rounds):
            started = time.perf_counter()
            for _ in range(plan.batches):
                _health_batch(client, mapping, payloads, config_id)
            health.append((time.perf_counter() - started) / plan.batches)
            started = time.perf_counter()
            for _ in range(plan.batches):
                client.ping()
            floor.append((time.perf_counter() - started) / plan.batches)
    finally:
        client.flushdb()
        client.close()
    per_batch, round_trip = statistics.median(health), statistics.median(floor)
    return {
        "batch_size": plan.batch_size,
        "batches": plan.batches * plan.rounds,
        "sources": len(mapped_sources(mapping)),
        "health_ms_per_batch": round(per_batch * 1000, 3),
        "health_us_per_event": round(per_batch / plan.batch_size * 1e6, 1),
        "round_trip_ms": round(round_trip * 1000, 3),
        "health_to_round_trip_ratio": round(per_batch / round_trip, 2),
    }
