"""After each batch: count what its events carried, judge drift, raise or clear the alarm.

Best effort by design: the batch has committed by then, and a Redis or database hiccup here
must not make a processed event look failed. One pipeline round trip per batch writes the
counters and reads the recent window back; the baseline is read only when a source is missing
from enough recent events to matter. Replays are not counted: their payloads were counted when
they first arrived; nor are test events, which the config's stats leave out by default.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence

from common.redis_client import redis_for
from common.settings import Settings, get_settings
from models import IngestionConfig
from models.enums import EventStatus
from worker.database import task_session
from worker.health.alarms import clear_alarm, raise_alarm
from worker.health.drift import (
    Counts,
    DriftFinding,
    DriftLimits,
    judge_drift,
    suspicious_sources,
    with_overrides,
)
from worker.health.presence import (
    Observation,
    mapped_sources,
    present_sources,
    recent_counts,
    record,
    window_counts,
)
from worker.ingest.claims import Claim
from worker.ingest.mapping import compiled_mapping_for
from worker.ingest.outcomes import Outcome
from worker.retry import describe

log = logging.getLogger("worker.health")


def drift_limits(settings: Settings) -> DriftLimits:
    """The rule's lines, from the settings."""
    return DriftLimits(
        recent_events=settings.drift_recent_events,
        missing_share=settings.drift_missing_share,
        failure_share=settings.drift_failure_share,
        baseline_share=settings.drift_baseline_share,
        min_baseline_events=settings.drift_min_baseline_events,
    )


def observe(claim: Claim, outcome: Outcome) -> Observation:
    """What the event tells about its config: the sources it carried, whether it failed."""
    config = claim.config
    mapping = compiled_mapping_for(config.id, config.version, config.mapping)
    present = frozenset() if claim.payload_error else present_sources(mapping, claim.payload)
    return Observation(
        config_id=config.id,
        mapping_version=config.mapping_version,
        sources=mapped_sources(mapping),
        present=present,
        failed=outcome.status == EventStatus.failed,
    )


def observe_batch(finished: Sequence[tuple[Claim, Outcome | None]]) -> None:
    """Record the batch's events for their configs' health and judge each config's drift."""
    try:
        _observe_batch(finished)
    except Exception as error:  # the batch has committed; its health is not worth failing it
        log.warning("config health not recorded for a batch: %s", describe(error))


def _observe_batch(finished: Sequence[tuple[Claim, Outcome | None]]) -> None:
    settings = get_settings()
    limits = drift_limits(settings)
    observations: list[Observation] = []
    configs: dict[uuid.UUID, tuple[IngestionConfig, tuple[str, ...]]] = {}
    own_limits: dict[uuid.UUID, DriftLimits] = {}
    for claim, outcome in finished:
        if outcome is None or claim.replayed_time is not None or claim.is_test:
            # Test events are left out too: a provider's trial run must not move the baseline.
            continue
        observation = observe(claim, outcome)
        observations.append(observation)
        configs[claim.config.id] = (claim.config, observation.sources)
        own_limits[claim.config.id] = with_overrides(limits, claim.config.drift_limits)
    if not observations:
        return
    client = redis_for(settings.locks_redis_url)
    now = time.time()
    keep = {config_id: mine.recent_events for config_id, mine in own_limits.items()}
    windows = record(client, observations, now, keep)
    baseline_seconds = settings.drift_baseline_hours * 3600
    for config_id, entries in windows.items():
        config, sources = configs[config_id]
        mine = own_limits[config_id]
        recent = recent_counts(entries, config.mapping_version)
        baseline = Counts()
        if suspicious_sources(sources, recent, mine):
            baseline = window_counts(client, config_id, now, baseline_seconds)
        settle_alarm(config, judge_drift(sources, baseline, recent, mine))


def settle_alarm(config: IngestionConfig, finding: DriftFinding) -> None:
    """Raise or clear the config's alarm where the finding differs from what the config shows."""
    if finding.fired == (config.drift_alarm is not None):
        return
    with task_session() as session:
        if finding.fired:
            raise_alarm(session, config.id, finding)
        else:
            clear_alarm(session, config.id)
