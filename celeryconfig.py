"""Celery settings for leadgate: flat, read by ``worker.celery_app`` and importable on its own.

How the timeouts fit together (each must stay below the next, or delivery stops being safe):

    lock TTL (LEADGATE_LOCK_TTL_SECONDS, 30 s)
      < task soft time limit (60 s) < task hard time limit (90 s)
      < longest hold of a processing event (LEADGATE_STUCK_AFTER_SECONDS, 120 s)
      < broker visibility timeout (600 s)

A worker holds the per-lead lock only around match-then-write, so the lock expires long before the
task is killed; a live worker renews its events' short lease (LEADGATE_LEASE_SECONDS, 5 s; see
worker/leases.py) for at most the longest hold, so the sweeper reclaims a live worker's event only
after the hard limit could have killed it, and a dead worker's one lease after it died; and the
broker redelivers an unacknowledged message only after that again, so a slow but live task is
never run twice at once. Even when that ordering is broken (a paused VM, a Redis
failover), the database transaction re-checks the event's status and the lead's version, so the
timeouts only save wasted work; they never carry correctness.

The house task defaults (late acks, put back when the worker dies, no results, the time limits)
are set here once, app-wide; ``worker.celery_app`` has no base task class repeating them, and
tests/worker/test_celery_app.py checks both the tasks and the ordering above.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common.settings import get_settings

_settings = get_settings()

broker_url = _settings.celery_broker_url
broker_connection_retry_on_startup = True
# A worker outlives any broker outage: it retries for ever (Celery gives up after 100 tries by
# default, about 45 minutes, and exits), every 2 s, so it is back within moments of the broker.
broker_connection_max_retries = None
worker_consumer = "worker.celery_app:ReconnectingConsumer"
if urlsplit(broker_url).scheme in ("redis", "rediss"):
    # kombu's Redis transport, fixed so that losing the connection cannot kill the worker.
    broker_transport = "worker.broker_transport:Transport"
broker_transport_options: dict[str, Any] = {
    "visibility_timeout": 600,
    # Redis: publish confirms are not available; fail fast rather than hang on a dead broker.
    # The worker's own publishes (retries, sweeps) try once more after 2 s; the webhook's
    # client tries once, with a shorter timeout (webhook/broker.py): its event is already in
    # the inbox, and the provider waits for the 202.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
}
if _settings.broker_key_prefix:
    # Several deployments (or test sessions) can share one Redis without taking each other's
    # messages when each has its own prefix.
    broker_transport_options["global_keyprefix"] = _settings.broker_key_prefix
broker_pool_limit = 10

# House task defaults, for every task. Results are never read through Celery: the event row in
# PostgreSQL is the result.
task_ignore_result = True
result_backend = None

# At-least-once delivery: acknowledge after the task ran, and put a message back when its worker
# died.
task_acks_late = True
task_reject_on_worker_lost = True
# Under a backlog most messages find their event already claimed with a batch and take a
# millisecond; fetching them one at a time left the pool idle between round trips to the broker
# (a 10,000-event drain ran at half the rate with 1). The messages a killed worker had reserved
# come back after the visibility timeout, and before that the sweeper re-enqueues their events,
# which stay queued in the inbox; a copy too many finds its event claimed and does nothing.
worker_prefetch_multiplier = 8

task_soft_time_limit = 60
task_time_limit = 90

task_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True

task_default_queue = "ingest"
task_routes = {
    "leadgate.process_event": {"queue": "ingest"},
    "leadgate.wake": {"queue": "ingest"},
    "leadgate.sweep": {"queue": "maintenance"},
    # Lead webhooks wait on other people's servers (up to 15 s each): a queue of their own keeps
    # a slow receiver from holding up ingestion.
    "leadgate.deliver_webhook": {"queue": "outbound"},
    "leadgate.sweep_deliveries": {"queue": "maintenance"},
    # One chunk of an uploaded file per message, beside the events it makes.
    "leadgate.import_upload": {"queue": "ingest"},
    "leadgate.sweep_uploads": {"queue": "maintenance"},
    "leadgate.maintain_inbox": {"queue": "maintenance"},
    # A replay job's chunks run beside ingestion, not in front of it.
    "leadgate.replay_chunk": {"queue": "maintenance"},
}

beat_schedule = {
    "sweep-stuck-and-due-events": {
        "task": "leadgate.sweep",
        "schedule": _settings.sweep_interval_seconds,
        # A sweep that waited longer than one interval is superseded by the next one.
        "options": {"expires": _settings.sweep_interval_seconds},
    },
    "sweep-stalled-uploads": {
        "task": "leadgate.sweep_uploads",
        "schedule": _settings.sweep_interval_seconds,
        "options": {"expires": _settings.sweep_interval_seconds},
    },
    # Partitions for this month and the next, retention of whole months, raw bodies and
    # idempotency keys: a month's partition exists weeks before its first event. Every ten
    # minutes by default: each run is a few catalog reads unless something is due.
    "maintain-inbox": {
        "task": "leadgate.maintain_inbox",
        "schedule": _settings.inbox_maintenance_seconds,
        "options": {"expires": _settings.inbox_maintenance_seconds},
    },
    "sweep-due-webhook-deliveries": {
        "task": "leadgate.sweep_deliveries",
        "schedule": _settings.sweep_interval_seconds,
        "options": {"expires": _settings.sweep_interval_seconds},
    },
}

# beat keeps the last run of each entry in this file. Celery's default is the working directory,
# which for the Procfile's `celery -A worker.celery_app beat` is the checkout: keep it in the
# state directory when one is named, else in the system's temporary directory (per user, since
# another user's file there could not be opened). The directory must exist.
if _settings.home_given:
    beat_schedule_filename = str(_settings.home / "celerybeat-schedule")
else:
    beat_schedule_filename = str(
        Path(tempfile.gettempdir()) / f"leadgate-{os.getuid()}-celerybeat-schedule"
    )

worker_hijack_root_logger = False
worker_send_task_events = False
