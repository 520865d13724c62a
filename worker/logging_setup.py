"""The worker logs as the webhook does: JSON lines with personal data masked.

Connecting ``setup_logging`` tells Celery not to install its own handlers. This module is imported
with the tasks, which the worker loads before it sets up logging.
"""

from __future__ import annotations

from typing import Any

from celery.signals import setup_logging

from leadgate.logs import configure_logging


@setup_logging.connect
def _use_leadgate_logging(**_: Any) -> None:
    configure_logging()
