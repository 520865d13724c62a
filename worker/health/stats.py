"""A config's health over a window: what its events became, how fast, and which paths came.

One service for the HTTP API and the CLI. The outcome counts and the latency come from the inbox
(three queries, each through the config's receive-time index); the share of payloads that
carried each mapped source comes from the presence counters (``worker.health.presence``), at
their 10-minute granularity: the window is rounded out to whole buckets.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from common.redis_client import RedisClient
from models import IngestionConfig
from models.base import utcnow
from models.enums import EventAction, EventStatus
from worker.health.presence import mapped_sources, window_counts
from worker.health.quarantine import quarantine_summary
from worker.ingest.fan_in import QUARANTINE_WARNING_REGEX
from worker.ingest.mapping import compiled_mapping_for

WINDOWS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
DEFAULT_WINDOW = "24h"

# The quarantine warnings are counted in the same scan: the window's rows are read anyway.
# Test events count only when asked for (``:with_test``): a provider's trial run is not the
# config's health.
_OUTCOMES = text(
    "SELECT status, action, count(*) AS n, count(*) FILTER (WHERE warnings <> '[]' AND "
    "jsonb_path_exists(warnings, CAST(:quarantine_warning AS jsonpath))) AS quarantine_warned "
    "FROM ingestion_events "
    "WHERE config_id = :config_id AND received_time >= :since "
    "AND (:with_test OR NOT is_test) GROUP BY status, action"
)
_QUARANTINE_WARNING = f'$[*].reason ? (@ like_regex "{QUARANTINE_WARNING_REGEX}")'
_FAILED_FIELDS = text(
    "SELECT error ->> 'field' AS field, count(DISTINCT id) AS n "
    "FROM ingestion_events, jsonb_array_elements(errors) AS error "
    "WHERE config_id = :config_id AND received_time >= :since AND status = 'failed' "
    "AND (:with_test OR NOT is_test) GROUP BY 1 ORDER BY 2 DESC, 1"
)
# Replays are left out: timed from receipt, a week-old replay would be a week's latency.
_LATENCY = text(
    "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP "
    "(ORDER BY extract(epoch FROM processed_time - received_time)) "
    "FROM ingestion_events WHERE config_id = :config_id AND received_time >= :since "
    "AND status IN ('done', 'failed', 'dead') AND processed_time IS NOT NULL "
    "AND replayed_time IS NULL AND (:with_test OR NOT is_test)"
)
_PENDING = (EventStatus.queued, EventStatus.processing, EventStatus.retrying)


class UnknownWindow(ValueError):
    """A window that is not one of ``WINDOWS``."""


def window_seconds(window: str) -> int:
    """The window's length; UnknownWindow names the ones there are."""
    try:
        return WINDOWS[window]
    except KeyError:
        raise UnknownWindow(f"window must be one of {', '.join(WINDOWS)}; got {window!r}") from None


def _outcome_counts(session: Session, values: dict[str, Any]) -> dict[str, int]:
    """The window's events by outcome, and (as ``quarantine_warned``) those warned of quarantine."""
    counts = {"accepted": 0, **{action.value: 0 for action in EventAction}}
    counts |= {status.value: 0 for status in EventStatus if status != EventStatus.done}
    counts["quarantine_warned"] = 0
    values = {**values, "quarantine_warning": _QUARANTINE_WARNING}
    for status, action, number, warned in session.execute(_OUTCOMES, values):
        counts["accepted"] += number
        counts["quarantine_warned"] += warned
        if status == EventStatus.done.value and action is not None:
            counts[action] += number
        elif status != EventStatus.done.value:
            counts[status] += number
    counts["pending"] = sum(counts.pop(status.value) for status in _PENDING)
    return counts


def config_stats(
    session: Session,
    client: RedisClient | None,
    config: IngestionConfig,
    window: str,
    reveal_values: bool = False,
    include_test: bool = False,
) -> dict[str, Any]:
    """The config's health over the window (1h, 24h or 7d), as JSON-ready values.

    Without Redis (``client`` None, or unreachable) the path shares are left out. The
    ``quarantine`` block shows identifiers masked; ``reveal_values`` adds the full values, for
    the organization's own API callers only. Test events count only with ``include_test``; the
    path shares never count them (the worker does not record them, see worker.health.monitor).
    """
    seconds = window_seconds(window)
    since = utcnow() - dt.timedelta(seconds=seconds)
    values = {"config_id": config.id, "since": since, "with_test": include_test}
    failed_fields = {row.field: row.n for row in session.execute(_FAILED_FIELDS, values)}
    p50, p99 = session.execute(_LATENCY, values).scalar_one() or (None, None)
    mapping = compiled_mapping_for(config.id, config.version, config.mapping)
    presence = None
    try:
        if client is not None:
            presence = window_counts(client, config.id, time.time(), seconds)
    except redis.RedisError:
        pass  # the inbox's counts stand on their own; the path shares wait for Redis

    paths = (
        []
        if presence is None
        else [
            {
                "path": source,
                "present": presence.by_source.get(source, 0),
                "share": (
                    round(presence.by_source.get(source, 0) / presence.events, 4)
                    if presence.events
                    else None
                ),
            }
            for source in mapped_sources(mapping)
        ]
    )
    counts = _outcome_counts(session, values)
    quarantine = quarantine_summary(session, config.organization_id, reveal_values)
    quarantine["warned_events"] = counts.pop("quarantine_warned")
    return {
        "config": str(config.id),
        "window": window,
        "since": since.isoformat(),
        "include_test": include_test,
        **counts,
        "failed_by_field": failed_fields,
        "paths": paths,
        "path_events": None if presence is None else presence.events,
        "received_to_done_seconds": {
            "p50": None if p50 is None else round(p50, 3),
            "p99": None if p99 is None else round(p99, 3),
        },
        "held_config": config.held,
        "drift_alarm": config.drift_alarm,
        "quarantine": quarantine,
    }
