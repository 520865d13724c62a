"""B2's door floor: the same stream posted by the same clients to the bare view, nothing stored.

The bare view (``bench.baseline_app``) reads the body and answers 202 under the Procfile's own
gunicorn command line. What the whole machine spends per request while the clients post to it is
what the load generator and the HTTP door cost before anything is stored, queued, mapped or
written: the part of B2's CPU budget per lead that no work of leadgate's or the naive peer's can
give back. The budget is the machine's cores over the rate asked for (2 cores at 1,000 leads/s:
2 ms per lead).
"""

from __future__ import annotations

import os
from typing import Any

from bench.load import Target, post_in_order
from bench.payloads import Stream
from bench.procstats import machine_cpu_seconds, ms_per_item, tree_cpu
from bench.stack import Servers, service_env, start_web

# The bare view, served by the Procfile's gunicorn command line in place of leadgate's app.
BARE_APP = "bench.baseline_app:app"


def budget_ms_per_lead(leads_per_s: float, cores: int | None = None) -> float:
    """CPU milliseconds per lead the machine has at ``leads_per_s`` (all cores busy)."""
    return round(1000 * (cores or os.cpu_count() or 1) / leads_per_s, 3)


def run_door_floor(servers: Servers, stream: Stream, split: list[list[int]]) -> dict[str, Any]:
    """Post the stream to the bare view; the machine's and the web's CPU per request."""
    # The bare view touches no database; the web still reads its settings from the environment.
    web = start_web(service_env(servers.database_server_url, servers.redis_url), app=BARE_APP)
    try:
        target = Target.at(web.url, "/api/lead-ingestion/bare/upsert/", "bare")
        web_before, (busy_before, _) = tree_cpu({"web": web.pid}), machine_cpu_seconds()
        posted = post_in_order(target, stream.bodies_by_client(split))
        web_after, (busy_after, _) = tree_cpu({"web": web.pid}), machine_cpu_seconds()
    finally:
        web.stop()
    return {
        "posted": posted.as_dict(),
        "requests_per_s": round(posted.rps, 1),
        "machine_cpu_ms_per_request": ms_per_item(busy_before, busy_after, posted.ok),
        "web_cpu_ms_per_request": ms_per_item(web_before["web"], web_after["web"], posted.ok),
    }
