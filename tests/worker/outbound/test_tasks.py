"""The outbound tasks are doorways: attempt, then publish the retry and the next in line."""

from __future__ import annotations

from typing import Any

import pytest

import worker.outbound.tasks as tasks
from worker.outbound.attempts import DeliveryVerdict


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch, services: Any) -> list[tuple[int, float | None]]:
    """What the task publishes (the task binds to the app, whose settings need the services)."""
    sent: list[tuple[int, float | None]] = []
    monkeypatch.setattr(
        tasks, "publish_delivery", lambda i, countdown=None: sent.append((i, countdown))
    )
    return sent


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [
        (DeliveryVerdict(), []),
        (DeliveryVerdict(retry_in=1.0), [(5, 1.05)]),
        # A long wait is left to the sweeper, never held in the broker.
        (DeliveryVerdict(retry_in=300.0), []),
        (DeliveryVerdict(next_in_line=6), [(6, None)]),
    ],
)
def test_deliver_publishes_what_the_attempt_asks_for(
    monkeypatch: pytest.MonkeyPatch,
    published: list[tuple[int, float | None]],
    verdict: DeliveryVerdict,
    expected: list[tuple[int, float | None]],
) -> None:
    monkeypatch.setattr(tasks, "attempt_delivery", lambda delivery_id: verdict)

    tasks.deliver_webhook.run(5)

    assert [(i, None if c is None else round(c, 2)) for i, c in published] == expected


def test_the_sweep_publishes_each_due_delivery(
    monkeypatch: pytest.MonkeyPatch, published: list[tuple[int, float | None]]
) -> None:
    monkeypatch.setattr(tasks, "claim_due_deliveries", lambda session, grace_seconds: [3, 4])

    assert tasks.sweep_deliveries.run() == 2
    assert published == [(3, None), (4, None)]
