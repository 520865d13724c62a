"""Prometheus metrics shared by the web and worker processes.

gunicorn and Celery's prefork pool both run several processes; prometheus-client's multiprocess
mode (PROMETHEUS_MULTIPROC_DIR, set before any process starts: by ``gunicorn.conf.py``, by
``worker.celery_app`` and by ``leadgate run``) lets one scrape see all of them on a host.
"""

from __future__ import annotations

import os
import tempfile

# The directory must be known before prometheus_client is imported; a process started without
# it gets a private one, which is right for a single process and harmless for tests.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="leadgate-metrics-"))

from prometheus_client import Counter, Histogram

INGEST_REQUESTS = Counter(
    "leadgate_ingest_requests_total",
    "Ingestion requests answered, by config and HTTP status code.",
    ["config", "endpoint", "code"],
)
EVENTS_FINISHED = Counter(
    "leadgate_events_finished_total",
    # The config label takes only ids of configs that exist (every event has one): bounded.
    "Events that reached a terminal status, by config, status and action.",
    ["config", "status", "action"],
)
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
EVENT_LATENCY = Histogram(
    "leadgate_event_received_to_done_seconds",
    "Time from receiving a payload to its event becoming terminal (replays not included).",
    buckets=_LATENCY_BUCKETS,
)
# A replay's receive time may be days old: timed from it, replays would fire latency alerts.
REPLAY_LATENCY = Histogram(
    "leadgate_event_replayed_to_done_seconds",
    "Time from replaying a failed or dead event to it becoming terminal again.",
    buckets=_LATENCY_BUCKETS,
)
EVENT_RETRIES = Counter(
    "leadgate_event_retries_total", "Attempts that failed transiently and were retried."
)
EVENTS_DEAD = Counter(
    "leadgate_events_dead_total", "Events that ran out of attempts (dead letters)."
)
LOCK_WAIT = Histogram(
    "leadgate_lock_wait_seconds",
    "Time spent waiting for the per-lead Redis locks.",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10),
)
WEBHOOK_ATTEMPTS = Counter(
    "leadgate_webhook_attempts_total",
    "Lead webhook delivery attempts, by trigger and what became of the delivery "
    "(delivered, pending: to be retried, failed).",
    ["trigger", "outcome"],
)
WEBHOOK_ATTEMPT_SECONDS = Histogram(
    "leadgate_webhook_attempt_seconds",
    "Time of one lead webhook delivery attempt on the wire, by trigger.",
    ["trigger"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
