"""The overview's chart: one slot per hour, bars scaled to the busiest hour."""

from __future__ import annotations

import datetime as dt

from console.chart import HEIGHT, MARGIN_BOTTOM, MARGIN_TOP, throughput_chart
from worker.inbox_overview import HourBucket

START = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)


def _hours(counts: list[tuple[int, int]]) -> list[HourBucket]:
    return [
        HourBucket(START + dt.timedelta(hours=index), done, failed)
        for index, (done, failed) in enumerate(counts)
    ]


def test_the_busiest_hour_fills_the_height() -> None:
    chart = throughput_chart(_hours([(0, 0), (6, 2), (2, 0)] + [(0, 0)] * 21))
    assert chart.top == 8
    busiest = [bar for bar in chart.bars if bar.label.startswith("01:00")]
    assert sum(bar.height for bar in busiest) == HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    assert (chart.total_done, chart.total_failed) == (8, 2)


def test_failures_stack_on_top_of_done() -> None:
    chart = throughput_chart(_hours([(3, 1)] + [(0, 0)] * 23))
    done, failed = chart.bars
    assert (done.kind, failed.kind) == ("done", "failed")
    assert failed.y + failed.height == done.y


def test_an_empty_day_draws_no_bars() -> None:
    chart = throughput_chart(_hours([(0, 0)] * 24))
    assert chart.bars == [] and chart.top == 1
    assert len(chart.labels) == 6  # every fourth hour is labelled
