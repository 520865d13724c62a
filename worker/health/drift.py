"""The drift rule: has a provider stopped sending a path it used to send, or started failing?

A pure function over counts, so the rule is one place that tests read directly. The counts come
from ``worker.health.presence``: the baseline window (by default the last 24 hours) and the last
N events processed with the config's current mapping.

A source is a mapped field's ``from`` (one path, or alternatives read as one:
``contact.phone or contact.mobile``): an alternative that takes over is not drift. A source
drifts when it was present in most baseline payloads (more than ``baseline_share``, over at
least ``min_baseline_events``) and is missing from more than ``missing_share`` of the last N.
The config's events drift when more than ``failure_share`` of the last N failed. Shares of the
last N count against N even while fewer events have been seen, so a new window never fires on
its first two or three events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

# What a config may set for itself (its drift_limits), with the range each must be in.
LIMIT_RANGES: dict[str, tuple[type, float, float]] = {
    "recent_events": (int, 1, 1000),
    "missing_share": (float, 0.0, 0.99),
    "failure_share": (float, 0.0, 0.99),
    "baseline_share": (float, 0.0, 0.99),
    "min_baseline_events": (int, 1, 1_000_000),
}

MISSING_PATH = "missing_path"
FAILURE_RATE = "failure_rate"
REASONS = (MISSING_PATH, FAILURE_RATE)


@dataclass(frozen=True)
class DriftLimits:
    """Where the rule draws its lines (settings LEADGATE_DRIFT_*)."""

    recent_events: int = 50
    missing_share: float = 0.2
    failure_share: float = 0.2
    baseline_share: float = 0.5
    min_baseline_events: int = 20


def with_overrides(limits: DriftLimits, overrides: Mapping[str, Any] | None) -> DriftLimits:
    """The service's limits with the config's own in their place (checked when it was saved)."""
    if not overrides:
        return limits
    known = {name: value for name, value in overrides.items() if name in LIMIT_RANGES}
    return replace(limits, **known)


@dataclass(frozen=True)
class Counts:
    """Events seen, how many each source was present in (or missing from), and how many failed."""

    events: int = 0
    by_source: Mapping[str, int] = field(default_factory=dict)
    failed: int = 0


@dataclass(frozen=True)
class PathDrift:
    """A source that went missing, with the shares that tripped the rule."""

    path: str
    baseline_share: float
    recent_missing_share: float


@dataclass(frozen=True)
class DriftFinding:
    """What the rule found; ``reasons`` is empty when nothing drifts."""

    reasons: tuple[str, ...]
    paths: tuple[PathDrift, ...] = ()
    failure_share: float = 0.0
    recent_events: int = 0
    baseline_events: int = 0

    @property
    def fired(self) -> bool:
        """True when the alarm should be up."""
        return bool(self.reasons)

    def as_record(self) -> dict[str, Any]:
        """The alarm as stored on the config and shown by the API."""
        return {
            "reasons": list(self.reasons),
            "paths": [
                {
                    "path": drift.path,
                    "baseline_share": round(drift.baseline_share, 4),
                    "recent_missing_share": round(drift.recent_missing_share, 4),
                }
                for drift in self.paths
            ],
            "failure_share": round(self.failure_share, 4),
            "recent_events": self.recent_events,
            "baseline_events": self.baseline_events,
        }


def suspicious_sources(sources: Sequence[str], recent: Counts, limits: DriftLimits) -> list[str]:
    """Sources missing from too many recent events; only these need the baseline."""
    allowed = limits.missing_share * limits.recent_events
    return [source for source in sources if recent.by_source.get(source, 0) > allowed]


def judge_drift(
    sources: Sequence[str],
    baseline: Counts,
    recent: Counts,
    limits: DriftLimits,
) -> DriftFinding:
    """Judge the config: ``baseline.by_source`` counts presence, ``recent.by_source`` absence."""
    window = limits.recent_events
    reasons: list[str] = []
    paths: list[PathDrift] = []
    if baseline.events >= limits.min_baseline_events:
        for source in suspicious_sources(sources, recent, limits):
            usual = baseline.by_source.get(source, 0) / baseline.events
            if usual > limits.baseline_share:
                paths.append(PathDrift(source, usual, recent.by_source[source] / window))
    if paths:
        reasons.append(MISSING_PATH)
    if recent.failed > limits.failure_share * window:
        reasons.append(FAILURE_RATE)
    return DriftFinding(
        reasons=tuple(reasons),
        paths=tuple(paths),
        failure_share=recent.failed / window,
        recent_events=recent.events,
        baseline_events=baseline.events,
    )
