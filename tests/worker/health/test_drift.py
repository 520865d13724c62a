"""The drift rule over counts: when a usual path goes missing, or events start failing."""

from __future__ import annotations

import pytest

from worker.health.drift import (
    FAILURE_RATE,
    MISSING_PATH,
    Counts,
    DriftLimits,
    judge_drift,
    suspicious_sources,
    with_overrides,
)

LIMITS = DriftLimits()  # 20% of the last 50; present in more than half of at least 20
SOURCES = ("contact.phone", "contact.email")


def _baseline(events: int, phone: int, email: int | None = None) -> Counts:
    present = {"contact.phone": phone, "contact.email": events if email is None else email}
    return Counts(events=events, by_source=present)


def _recent(events: int, phone_missing: int, failed: int = 0) -> Counts:
    return Counts(events=events, by_source={"contact.phone": phone_missing}, failed=failed)


@pytest.mark.parametrize(
    ("baseline", "recent", "reasons"),
    [
        # The provider renamed contact.phone: 11 of the last 50 lack it (more than 20%).
        (_baseline(1000, 990), _recent(50, 11), (MISSING_PATH,)),
        # 10 of 50 is 20%: not more than the threshold.
        (_baseline(1000, 990), _recent(50, 10), ()),
        # Counted against N while fewer than N were seen: 11 of the first 11 is 11/50.
        (_baseline(1000, 990), _recent(11, 11), (MISSING_PATH,)),
        (_baseline(1000, 990), _recent(10, 10), ()),
        # A path that was never usual (present in 40%) is optional: its absence is no drift.
        (_baseline(1000, 400), _recent(50, 50), ()),
        # Exactly half is not most.
        (_baseline(1000, 500), _recent(50, 50), ()),
        (_baseline(1000, 501), _recent(50, 50), (MISSING_PATH,)),
        # Too little history to call anything usual.
        (_baseline(19, 19), _recent(19, 19), ()),
        (_baseline(20, 20), _recent(20, 11), (MISSING_PATH,)),
        # Failures on their own: 11 of the last 50 failed.
        (_baseline(1000, 990), _recent(50, 0, failed=11), (FAILURE_RATE,)),
        (_baseline(1000, 990), _recent(50, 0, failed=10), ()),
        # Both at once, each reason named.
        (_baseline(1000, 990), _recent(50, 30, failed=30), (MISSING_PATH, FAILURE_RATE)),
        # Failures need no baseline.
        (Counts(), _recent(50, 0, failed=11), (FAILURE_RATE,)),
    ],
)
def test_the_rule(baseline: Counts, recent: Counts, reasons: tuple[str, ...]) -> None:
    finding = judge_drift(SOURCES, baseline, recent, LIMITS)
    assert finding.reasons == reasons
    assert finding.fired == bool(reasons)


def test_the_finding_names_the_path_and_its_rates() -> None:
    finding = judge_drift(SOURCES, _baseline(400, 392), _recent(50, 15, failed=15), LIMITS)
    record = finding.as_record()
    assert record["reasons"] == [MISSING_PATH, FAILURE_RATE]
    assert record["paths"] == [
        {"path": "contact.phone", "baseline_share": 0.98, "recent_missing_share": 0.3}
    ]
    assert (record["failure_share"], record["recent_events"], record["baseline_events"]) == (
        0.3,
        50,
        400,
    )


def test_a_source_no_longer_mapped_is_not_judged() -> None:
    # The fixed mapping reads contact.mobile; contact.phone's absence is no one's concern now.
    finding = judge_drift(("contact.mobile",), _baseline(1000, 990), _recent(50, 50), LIMITS)
    assert not finding.fired


def test_only_suspicious_sources_need_the_baseline() -> None:
    recent = Counts(events=50, by_source={"contact.phone": 11, "contact.email": 3})
    assert suspicious_sources(SOURCES, recent, LIMITS) == ["contact.phone"]
    assert suspicious_sources(SOURCES, _recent(50, 10), LIMITS) == []


def test_thresholds_are_settings() -> None:
    strict = DriftLimits(recent_events=10, missing_share=0.5, failure_share=0.0)
    baseline = _baseline(100, 100)
    assert judge_drift(SOURCES, baseline, _recent(10, 6), strict).reasons == (MISSING_PATH,)
    assert judge_drift(SOURCES, baseline, _recent(10, 5), strict).reasons == ()
    assert judge_drift(SOURCES, baseline, _recent(10, 0, failed=1), strict).reasons == (
        FAILURE_RATE,
    )


def test_a_configs_own_limits_replace_the_services() -> None:
    mine = with_overrides(LIMITS, {"recent_events": 5, "missing_share": 0.4})
    assert (mine.recent_events, mine.missing_share, mine.failure_share) == (5, 0.4, 0.2)
    assert with_overrides(LIMITS, None) is LIMITS
    assert with_overrides(LIMITS, {}) is LIMITS
