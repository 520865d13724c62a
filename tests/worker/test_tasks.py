"""The tasks are doorways: decode the id, call the attempt policy, answer in Celery's terms."""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

import pytest
from celery import Task
from celery.signals import task_postrun, task_prerun

import worker.logging_setup
import worker.tasks
from worker.attempts import Retry, Verdict
from worker.celery_app import app
from worker.ingest.claims import Claim
from worker.log_context import EventContextFilter


@pytest.fixture
def task(services: Any) -> Task:
    """The process_event task as a worker runs it: bound to the finalized app."""
    # Not imported by name: pytest would evaluate the task's proxy while collecting this
    # module, before the app is finalized, and the task would never be bound.
    app.finalize()
    return app.tasks["leadgate.process_event"]


class _Retried(Exception):
    def __init__(self, countdown: float) -> None:
        self.countdown = countdown


def _retry(countdown: float, **_: Any) -> Exception:
    return _Retried(countdown)


def _claim(event_id: uuid.UUID) -> Claim:
    return cast(Claim, type("FakeClaim", (), {"event_id": event_id})())


def test_the_verdict_becomes_a_celery_retry_and_messages_for_the_others(
    task: Task, monkeypatch: pytest.MonkeyPatch
) -> None:
    named, other = uuid.uuid4(), uuid.uuid4()
    seen: list[tuple[uuid.UUID, int]] = []

    def attempt(event_id: uuid.UUID, deliveries: int = 0) -> Verdict:
        seen.append((event_id, deliveries))
        return Verdict(retry_in=7.5, others=[Retry(_claim(other), 3.0)])

    sent: list[tuple[Any, Any]] = []
    monkeypatch.setattr(worker.tasks, "attempt_event", attempt)
    monkeypatch.setattr(task, "retry", _retry)
    monkeypatch.setattr(task, "apply_async", lambda args, countdown: sent.append((args, countdown)))

    with pytest.raises(_Retried) as retried:
        task(str(named))

    assert seen == [(named, 0)]
    assert retried.value.countdown == 7.5
    assert sent == [((str(other),), 3.0)]


def test_nothing_to_do_ends_the_task(task: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker.tasks, "attempt_event", lambda *_, **__: Verdict())
    monkeypatch.setattr(task, "retry", _retry)
    assert task(str(uuid.uuid4())) is None


def test_a_task_binds_its_event_id_to_every_line_it_logs(
    task: Task, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(EventContextFilter())
    logger = logging.getLogger("worker.ingest.somewhere")
    event_id = str(uuid.uuid4())
    with caplog.at_level(logging.INFO):
        task_prerun.send(sender=task, task_id="t1", task=task, args=(event_id,), kwargs={})
        logger.info("inside the attempt")
        logger.info("a line naming its own event", extra={"event_id": "other"})
        task_postrun.send(sender=task, task_id="t1", task=task, args=(event_id,), kwargs={})
        logger.info("after the task")
    inside, own, after = caplog.records
    assert getattr(inside, "event_id", None) == event_id
    assert getattr(own, "event_id", None) == "other"
    assert not hasattr(after, "event_id")


def test_the_worker_log_handler_carries_the_event_context(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    # Start from a root logger without leadgate's handler: an earlier test in this process may
    # have installed one (configure_logging installs it once per process).
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if not _is_leadgate(h)])
    level = root.level
    try:
        worker.logging_setup._use_leadgate_logging()
        installed = [handler for handler in root.handlers if _is_leadgate(handler)]
        assert installed, "the worker's logging setup installed no handler"
        assert all(
            any(isinstance(f, EventContextFilter) for f in handler.filters) for handler in installed
        )
    finally:
        root.setLevel(level)


def _is_leadgate(handler: logging.Handler) -> bool:
    return bool(getattr(handler, "_leadgate", False))
