"""Which events a replay would run, and what each would do: the plan, told before anything runs.

Each matching failed or dead event is read again with its config's current mapping and put
through the decision function in its own place in receive order, so an event older than the
last one applied to its lead is predicted ``stale``, as the worker would record it. A lead an
earlier event of the replay would create is in play for the events after it. Nothing is written.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Lead
from worker.blocked_identifiers import load_hygiene
from worker.dry_run import WOULD, WOULD_FAIL, WOULD_VALUES, would_write
from worker.event_filter_parser import FilterError
from worker.event_search import EventFilter, event_conditions
from worker.ingest.decision import Decision
from worker.read_only_decisions import Pending, decide_read_only, pending_replay
from worker.replay import REPLAYABLE

# Events read and decided per round trip; the plan walks every matching event this way.
PLAN_CHUNK = 500
SAMPLE_SIZE = 20


def replay_filter(wanted: EventFilter) -> EventFilter:
    """The filter a replay runs: failed and dead events unless it names one of those."""
    if not wanted.statuses:
        return dataclasses.replace(wanted, statuses=REPLAYABLE)
    for status in wanted.statuses:
        if status not in REPLAYABLE:
            raise FilterError(
                "status",
                f"only failed and dead events are replayed, not {status.value} ones",
            )
    return wanted


def matching_events(
    session: Session, organization_id: int, wanted: EventFilter, after_seq: int, limit: int
) -> list[IngestionEvent]:
    """The next ``limit`` matching events after ``after_seq`` in receive order (a keyset page)."""
    return list(
        session.scalars(
            select(IngestionEvent)
            .where(
                IngestionEvent.organization_id == organization_id,
                IngestionEvent.seq > after_seq,
                *event_conditions(wanted),
            )
            .order_by(IngestionEvent.seq)
            .limit(limit)
        )
    )


def count_matching(session: Session, organization_id: int, wanted: EventFilter) -> int:
    """How many events of the organization the filter matches now."""
    statement = select(func.count()).where(
        IngestionEvent.organization_id == organization_id, *event_conditions(wanted)
    )
    return session.scalar(statement) or 0


def verb_of(decision: Decision) -> str:
    """The dry run's verb for a decision: create, update, ..., stale or fail."""
    return WOULD_FAIL if decision.action is None else WOULD[decision.action]


def _sample_entry(item: Pending, decision: Decision) -> dict[str, Any]:
    event = item.event
    return {
        "event": str(event.id),
        "config": str(event.config_id),
        "endpoint": event.endpoint.value,
        "status": event.status.value,
        "received_time": event.received_time.isoformat(),
        "would": verb_of(decision),
        "lead_id": decision.lead.id if decision.lead is not None else None,
        "matched_by": decision.matched_by,
        "fields": would_write(decision, item.prepared),
        "errors": [error.as_dict() for error in decision.errors],
        "warnings": decision.warnings,
    }


def plan_replay(session: Session, organization_id: int, wanted: EventFilter) -> dict[str, Any]:
    """The plan for replaying what ``wanted`` matches: counts by predicted action and a sample."""
    wanted = replay_filter(wanted)
    configs: dict[uuid.UUID, IngestionConfig] = {}
    by_action: Counter[str] = Counter()
    failed_fields: Counter[str] = Counter()
    sample: list[dict[str, Any]] = []
    created: list[Lead] = []
    hygiene = load_hygiene(session, [organization_id])[organization_id]
    count, after = 0, 0
    while chunk := matching_events(session, organization_id, wanted, after, PLAN_CHUNK):
        for event in chunk:
            if event.config_id not in configs:
                config = session.get(IngestionConfig, event.config_id)
                assert config is not None  # a foreign key guarantees it
                configs[event.config_id] = config
        pending = [pending_replay(event, configs[event.config_id], hygiene) for event in chunk]
        decisions = decide_read_only(session, organization_id, pending, created)
        for item, decision in zip(pending, decisions, strict=True):
            by_action[verb_of(decision)] += 1
            failed_fields.update({error.field for error in decision.errors})
            if len(sample) < SAMPLE_SIZE:
                sample.append(_sample_entry(item, decision))
        count += len(chunk)
        after = chunk[-1].seq
        # Reading thousands of events must not keep them all: the next chunk needs none of them.
        for event in chunk:
            session.expunge(event)
    return {
        "count": count,
        "by_action": {verb: by_action[verb] for verb in WOULD_VALUES},
        "failed_fields": dict(failed_fields.most_common()),
        "sample": sample,
    }
