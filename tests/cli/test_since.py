"""``--since`` values: a span ago or an ISO 8601 time."""

from __future__ import annotations

import datetime as dt

import pytest

from leadgate.cli.since import parse_since

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", NOW - dt.timedelta(seconds=45)),
        ("30m", NOW - dt.timedelta(minutes=30)),
        ("1h", NOW - dt.timedelta(hours=1)),
        (" 7d ", NOW - dt.timedelta(days=7)),
        ("2W", NOW - dt.timedelta(weeks=2)),
        ("2026-11-27T09:00:00Z", dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)),
        ("2026-11-27T09:00:00", dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)),
        ("2026-11-27", dt.datetime(2026, 11, 27, tzinfo=dt.UTC)),
        (
            "2026-11-27T09:00:00-05:00",
            dt.datetime(2026, 11, 27, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        ),
    ],
)
def test_parse_since(text: str, expected: dt.datetime) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "1y", "-1h", "h", "1.5h", ""])
def test_parse_since_refuses_with_examples(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a span like 30m, 1h, 7d or an ISO 8601 time"):
        parse_since(text, now=NOW)
