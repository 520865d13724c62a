"""A config's own drift limits: checked when saved, each name and range named when refused."""

from __future__ import annotations

from typing import Any

import pytest

from worker.configs import ConfigError, check_drift_limits


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ({"recent_events": 20, "missing_share": 0.3}, {"recent_events": 20, "missing_share": 0.3}),
        # JSON's 20.0 is a whole number; a share given as 0 is a float.
        ({"recent_events": 20.0, "failure_share": 0}, {"recent_events": 20, "failure_share": 0.0}),
        ({}, None),
        (None, None),
    ],
)
def test_limits_in_range_are_kept(given: dict[str, Any] | None, kept: dict[str, Any]) -> None:
    assert check_drift_limits(given) == kept


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"window": 5}, "drift_limits: unknown limit 'window'; the limits are recent_events, "),
        ({"recent_events": 0}, "drift_limits: recent_events must be a whole number from 1 to 1000"),
        ({"recent_events": 2.5}, "drift_limits: recent_events must be a whole number from 1 to"),
        ({"missing_share": 1}, "drift_limits: missing_share must be a number from 0 to 0.99"),
        ({"failure_share": "0.2"}, "drift_limits: failure_share must be a number from 0 to 0.99"),
        ({"baseline_share": True}, "drift_limits: baseline_share must be a number"),
        ({"missing_share": float("nan")}, "drift_limits: missing_share must be a number"),
    ],
)
def test_a_bad_limit_is_refused_naming_it(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_drift_limits(given)
    assert str(refused.value).startswith(message)
    assert refused.value.field == "drift_limits"
