"""Per-field write times and event times as pure rules."""

from __future__ import annotations

import datetime as dt

import pytest

from worker.ingest.conversions import to_event_time
from worker.ingest.field_times import LAST_EVENT, guard_late, is_late, stamped

T10 = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
T11 = T10 + dt.timedelta(hours=1)
T12 = T10 + dt.timedelta(hours=2)


def test_stamps_follow_the_changes_and_the_newest_event() -> None:
    current = {"email": "a@x.io", "lead_metadata": {"k": 1}}
    times = stamped({}, current, {"email": "b@x.io", "lead_metadata": {"k": 2, "j": 3}}, T12, True)
    assert times == {
        "email": T12.isoformat(),
        "metadata.k": T12.isoformat(),
        "metadata.j": T12.isoformat(),
        LAST_EVENT: T12.isoformat(),
    }
    late = stamped(times, current, {"lead_source": "s"}, T11, latest=False)
    assert late[LAST_EVENT] == T12.isoformat() and late["lead_source"] == T11.isoformat()


def test_a_late_event_keeps_newer_writes_and_fills_unknown_ones_only_when_empty() -> None:
    times = {
        "email": T12.isoformat(),
        "lead_source": T10.isoformat(),
        "metadata.k": T12.isoformat(),
    }
    current = {"email": "new", "lead_source": "old", "us_state": "CA", "status_outcome": None,
               "lead_metadata": {"k": 1, "j": 1}}  # fmt: skip
    after = {"email": "late", "lead_source": "late", "us_state": "NY", "status_outcome": "x",
             "lead_metadata": {"k": 9, "j": 9, "n": 9}}  # fmt: skip
    guarded = guard_late(current, after, times, T11)
    assert guarded["email"] == "new"  # written at 12:00
    assert guarded["lead_source"] == "late"  # written at 10:00
    assert guarded["us_state"] == "CA"  # no time kept, not empty: left
    assert guarded["status_outcome"] == "x"  # no time kept, empty: filled
    assert guarded["lead_metadata"] == {"k": 1, "j": 1, "n": 9}


def test_lateness_needs_both_times() -> None:
    assert is_late({LAST_EVENT: T12.isoformat()}, T11) is True
    assert is_late({LAST_EVENT: T10.isoformat()}, T11) is False
    assert is_late({}, T11) is None and is_late({LAST_EVENT: T12.isoformat()}, None) is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-03-01T11:00:00Z", T11),
        ("2026-03-01T11:00:00", T11),
        (1772362800, T11),
        ("1772362800", T11),
        (1772362800.0, T11),
    ],
)
def test_event_times_read_iso_or_epoch_seconds(given: object, expected: dt.datetime) -> None:
    assert to_event_time(given) == expected


@pytest.mark.parametrize("given", ["soon", True, [], 1e300])
def test_unreadable_event_times(given: object) -> None:
    with pytest.raises(ValueError, match=r"neither ISO 8601 nor epoch seconds|boolean"):
        to_event_time(given)
