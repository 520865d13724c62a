"""Every log line written while a task works on an event carries that event's id.

A ``task_prerun`` handler binds the id a task was given, ``task_postrun`` unbinds it, and a
filter on the log handler adds it to each record that does not name an event itself. So a line
from deep in the pipeline, the lock code or a library says which event it was written for.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from celery.signals import task_postrun, task_prerun

# Tasks whose first argument is an event id.
EVENT_TASKS = frozenset({"leadgate.process_event"})

_event_id: ContextVar[str | None] = ContextVar("leadgate_event_id", default=None)


def current_event_id() -> str | None:
    """The event id bound to the running task, if any."""
    return _event_id.get()


class EventContextFilter(logging.Filter):
    """Adds the running task's ``event_id`` to records that carry none of their own."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Tag the record; never drops one."""
        event_id = _event_id.get()
        if event_id is not None and not hasattr(record, "event_id"):
            record.event_id = event_id
        return True


def attach_event_context(logger: logging.Logger) -> None:
    """Put the filter on each of ``logger``'s handlers (once), where every record passes."""
    for handler in logger.handlers:
        if not any(isinstance(existing, EventContextFilter) for existing in handler.filters):
            handler.addFilter(EventContextFilter())


@task_prerun.connect
def _bind_event_id(task: Any = None, args: Any = None, **_: Any) -> None:
    named = getattr(task, "name", None) in EVENT_TASKS and bool(args)
    _event_id.set(str(args[0]) if named else None)


@task_postrun.connect
def _unbind_event_id(**_: Any) -> None:
    _event_id.set(None)
