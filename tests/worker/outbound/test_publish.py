"""Publishing deliveries after the commit; a broker that is down leaves them to the sweeper."""

from __future__ import annotations

import pytest

import worker.outbound.publish as publish
from worker.celery_app import app


def test_after_one_failed_publish_the_rest_wait_for_the_sweeper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tried: list[int] = []

    def send_task(name: str, args: tuple[int], countdown: float | None) -> None:
        tried.append(args[0])
        if args[0] == 2:
            raise ConnectionError("broker down")

    monkeypatch.setattr(app, "send_task", send_task)

    publish.publish_deliveries([1, 2, 3, 4])

    assert tried == [1, 2]
