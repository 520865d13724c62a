"""The worker logs as the webhook does: JSON lines with personal data masked.

Connecting ``setup_logging`` tells Celery not to install its own handlers. This module is imported
with the tasks, which the worker loads before it sets up logging.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import setup_logging

from common.logs import configure_logging
from common.settings import get_settings
from worker.log_context import attach_event_context

# Celery's own line per task received and per task finished says less than the one line per
# event outcome that worker.observe writes, and under a backlog most messages find their event
# already claimed with a batch: at INFO they would triple the log volume for nothing.
_PER_TASK_LOGGERS = ("celery.worker.strategy", "celery.app.trace")


@setup_logging.connect
def _use_leadgate_logging(**_: Any) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    if logging.getLogger().level > logging.DEBUG:  # LEADGATE_LOG_LEVEL=DEBUG shows them all
        for name in _PER_TASK_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    attach_event_context(logging.getLogger())
