"""The overview's throughput chart as SVG geometry, drawn on the server (no script needed)."""

from __future__ import annotations

from dataclasses import dataclass

from worker.inbox_overview import HourBucket

WIDTH, HEIGHT = 720, 200
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 40, 24, 10


@dataclass(frozen=True)
class Bar:
    """One rectangle of the chart and what it stands for (its tooltip)."""

    x: float
    y: float
    width: float
    height: float
    kind: str  # "done" or "failed"
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything the template draws: bars, the scale's top value, hour labels."""

    width: int
    height: int
    bars: list[Bar]
    top: int
    labels: list[tuple[float, str]]
    baseline: float
    total_done: int
    total_failed: int


def throughput_chart(buckets: list[HourBucket]) -> Chart:
    """Stacked bars per hour: done below, failed (and dead) above."""
    top = max([bucket.done + bucket.failed for bucket in buckets] + [1])
    plot_width = WIDTH - MARGIN_LEFT
    plot_height = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = plot_width / max(len(buckets), 1)
    baseline = float(HEIGHT - MARGIN_BOTTOM)
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for index, bucket in enumerate(buckets):
        x = MARGIN_LEFT + index * slot + slot * 0.1
        hour = bucket.start.strftime("%H:00")
        done_height = plot_height * bucket.done / top
        failed_height = plot_height * bucket.failed / top
        if bucket.done:
            label = f"{hour} UTC: {bucket.done} done"
            bars.append(Bar(x, baseline - done_height, slot * 0.8, done_height, "done", label))
        if bucket.failed:
            label = f"{hour} UTC: {bucket.failed} failed or dead"
            y = baseline - done_height - failed_height
            bars.append(Bar(x, y, slot * 0.8, failed_height, "failed", label))
        if index % 4 == 0:
            labels.append((x, hour))
    return Chart(
        WIDTH,
        HEIGHT,
        bars,
        top,
        labels,
        baseline,
        sum(bucket.done for bucket in buckets),
        sum(bucket.failed for bucket in buckets),
    )
