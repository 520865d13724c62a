"""The retry schedule and Retry-After."""

from __future__ import annotations

import datetime as dt

import pytest

from common.settings import DEFAULT_WEBHOOK_RETRY_SCHEDULE
from worker.outbound.schedule import JITTER, next_wait, retry_after_seconds

NOW = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


def test_the_default_schedule_is_standard_webhooks() -> None:
    hours = 3600.0
    assert (
        0, 5, 300, 1800, 2 * hours, 5 * hours, 10 * hours, 14 * hours, 20 * hours, 24 * hours
    ) == DEFAULT_WEBHOOK_RETRY_SCHEDULE  # fmt: skip


@pytest.mark.parametrize(("made", "base"), [(1, 5.0), (2, 300.0), (9, 86400.0)])
def test_waits_follow_the_schedule_with_jitter(made: int, base: float) -> None:
    for _ in range(20):
        wait = next_wait(made, DEFAULT_WEBHOOK_RETRY_SCHEDULE)
        assert wait is not None
        assert base * (1 - JITTER) <= wait <= base * (1 + JITTER)


def test_after_the_last_entry_the_delivery_gives_up() -> None:
    assert next_wait(10, DEFAULT_WEBHOOK_RETRY_SCHEDULE) is None
    assert next_wait(3, (0, 1, 2)) is None
    assert next_wait(2, (0, 1, 2)) is not None


def test_retry_after_replaces_the_schedule_but_not_its_end() -> None:
    assert next_wait(1, (0, 1, 2), retry_after=7.0) == 7.0
    assert next_wait(3, (0, 1, 2), retry_after=7.0) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("999999", 86400.0),
        ("Mon, 05 Jan 2026 12:01:00 GMT", 60.0),
        ("Mon, 05 Jan 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, NOW) == seconds
