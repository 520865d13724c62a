"""B4 soak: a steady rate (half of B2's) for a while; RSS growth per process, received-to-done p99.

RSS growth is measured from a point after the warm-up (the first 10% of the soak, at least 5 s),
when the imports, pools and caches of every process are in place, to the end of the soak.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from bench.end_to_end import memory_report
from bench.events import received_to_done_ms, wait_until_terminal
from bench.load import BodySource, Target, fixed_rate
from bench.payloads import create_tenant
from bench.procstats import RssSampler
from bench.stack import Servers, create_database, start_stack


@dataclass
class SoakPlan:
    """How long and how fast the soak posts."""

    seconds: float = 600.0
    rate: float = 50.0
    drain_timeout_s: float = 600.0


def run(servers: Servers, plan: SoakPlan) -> dict[str, Any]:
    """Post at ``plan.rate`` for ``plan.seconds``, then wait until everything is processed."""
    database = create_database(servers, "b4")
    try:
        tenant = create_tenant(database.sqlalchemy_url)
        stack = start_stack(database, servers)
        try:
            assert stack.web is not None
            sampler = RssSampler(stack.roots(), interval=1.0).start()
            warm_up = threading.Timer(max(5.0, plan.seconds / 10), sampler.rebase)
            warm_up.start()
            source = BodySource(
                count=max(1, int(plan.rate * plan.seconds)), update_share=0.3, run_tag="soak"
            )
            target = Target.at(stack.web.url, tenant.upsert_path, tenant.token)
            posted = fixed_rate(target, source, plan.rate, plan.seconds)
            warm_up.cancel()
            completion = wait_until_terminal(
                database.url, tenant.organization_id, posted.ok, plan.drain_timeout_s
            )
            memory = memory_report(sampler)
        finally:
            stack.stop()
        latency = received_to_done_ms(database.url, tenant.organization_id)
    finally:
        database.drop()
    growth = {
        f"{process['role']} {process['pid']}": round(
            100 * (process["last_rss_mb"] - process["first_rss_mb"]) / process["first_rss_mb"], 1
        )
        for process in memory
        if process["first_rss_mb"]
    }
    return {
        "seconds": plan.seconds,
        "rate": round(plan.rate, 1),
        "posted": posted.as_dict(),
        "by_status": completion.by_status,
        "complete": completion.complete,
        "received_to_done": latency,
        "memory": memory,
        "rss_growth_pct": growth,
        "max_rss_growth_pct": max(growth.values(), default=0.0),
    }
