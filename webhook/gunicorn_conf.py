"""gunicorn settings for the webhook: ``gunicorn -c python:webhook.gunicorn_conf ...``.

Everything else (bind, workers) is given on the command line so the Procfile reads plainly.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from common.settings import get_settings

# One metrics directory for the master and every worker it forks, so /metrics on any worker
# answers for all of them (prometheus-client's multiprocess mode).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="leadgate-web-metrics-"))

# Threads per worker (WEB_THREADS): a request that waits for its outcome (Prefer: wait) holds a
# thread, not the whole process, and while one group commit is in flight the requests of the next
# batch need threads of their own to arrive on. Read through the settings so a malformed value
# stops the master with the variable's name, before any worker starts.
worker_class = "gthread"
threads = get_settings().web_threads

# SIGTERM drains: workers finish the requests they hold for up to this long before exiting.
graceful_timeout = 25
# A request waits at most 30 s for an outcome (Prefer: wait); leave room above it.
timeout = 45
# Keep-alive for providers that reuse connections behind a proxy.
keepalive = 5
# A POST's query string is merged into its payload, so a long one is a payload, not an attack:
# allow gunicorn's largest request line (8190 bytes) instead of its default 4094, past which it
# answers a 414 of its own that no operation of the API documents.
limit_request_line = 8190


def child_exit(_server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the shared metrics directory."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
