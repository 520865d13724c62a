"""B7 outbound: what two active lead webhooks cost the pipeline, and how fast they deliver.

B2's workload (``bench.end_to_end``) runs twice in the same invocation, each on a fresh stack and
database: once with no webhooks, once with two (``LEAD_CREATED`` and ``LEAD_UPDATED``) pointing
at a receiver on loopback, so nearly every event queues one delivery. The ratio of the two runs'
leads/s is what outbound costs ingestion; deliveries/s is delivered deliveries over the time
from the first one queued to the last one delivered, while the workload runs and after.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.end_to_end import PipelinePlan, run_pipeline_load
from bench.payloads import Tenant, build_stream
from bench.stack import BenchDatabase, Servers
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery, WebhookTrigger
from worker.outbound.signing import generate_secret

TRIGGERS = (WebhookTrigger.LEAD_CREATED, WebhookTrigger.LEAD_UPDATED)


@dataclass
class OutboundPlan:
    """How big B7's runs are, and how long the deliveries may take to finish after them."""

    pipeline: PipelinePlan
    delivery_timeout_s: float = 600.0


class CountingReceiver:
    """A loopback receiver that answers 204 at once and counts what it is sent."""

    def __init__(self) -> None:
        self.received = 0
        self.lock = threading.Lock()
        self.url = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class bound to this receiver."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # thousands of requests: the count is what matters

        return Handler


@contextlib.contextmanager
def running_receiver() -> Iterator[CountingReceiver]:
    """A counting receiver on a free loopback port until the block ends."""
    receiver = CountingReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def loopback_allowed() -> Iterator[None]:
    """Let the services started meanwhile send to loopback (they copy this environment)."""
    saved = os.environ.get("LEADGATE_WEBHOOK_ALLOW_PRIVATE")
    os.environ["LEADGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("LEADGATE_WEBHOOK_ALLOW_PRIVATE", None)
        else:
            os.environ["LEADGATE_WEBHOOK_ALLOW_PRIVATE"] = saved


def add_webhooks(database: BenchDatabase, tenant: Tenant, url: str) -> None:
    """Subscribe the tenant's organization to ``TRIGGERS``, each posting to ``url``."""
    engine = create_engine(database.sqlalchemy_url)
    try:
        with Session(engine) as session, session.begin():
            for trigger in TRIGGERS:
                session.add(
                    Webhook(
                        organization_id=tenant.organization_id,
                        url=f"{url}/{trigger.value.lower()}",
                        trigger=trigger,
                        secret=generate_secret(),
                    )
                )
    finally:
        engine.dispose()


def _delivery_counts(session: Session, organization_id: int) -> dict[str, Any]:
    rows = session.execute(
        select(
            WebhookDelivery.status,
            func.count(),
            func.min(WebhookDelivery.created_time),
            func.max(WebhookDelivery.finished_time),
        )
        .where(WebhookDelivery.organization_id == organization_id)
        .group_by(WebhookDelivery.status)
    ).all()
    return {status.value: (count, first, last) for status, count, first, last in rows}


def wait_for_deliveries(
    database: BenchDatabase, tenant: Tenant, timeout_s: float
) -> dict[str, Any]:
    """Wait until no delivery is pending or sending; the counts and deliveries/s."""
    engine = create_engine(database.sqlalchemy_url)
    deadline = time.monotonic() + timeout_s
    try:
        with Session(engine) as session:
            while True:
                counts = _delivery_counts(session, tenant.organization_id)
                session.rollback()
                unfinished = sum(
                    counts.get(status.value, (0,))[0]
                    for status in (DeliveryStatus.pending, DeliveryStatus.sending)
                )
                if not unfinished or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
    finally:
        engine.dispose()
    delivered, first, last = counts.get(DeliveryStatus.delivered.value, (0, None, None))
    span = (last - first).total_seconds() if first is not None and last is not None else 0.0
    return {
        "by_status": {status: value[0] for status, value in counts.items()},
        "complete": not unfinished,
        "delivered": delivered,
        "delivery_span_s": round(span, 2),
        "deliveries_per_s": round(delivered / span, 1) if span > 0 else None,
    }


def run(servers: Servers, plan: OutboundPlan) -> dict[str, Any]:
    """B7: B2's workload without webhooks, then with two, side by side."""
    stream = build_stream(plan.pipeline.events, update_share=plan.pipeline.update_share, seed=7)
    without = run_pipeline_load(servers, "b7-plain", stream, plan.pipeline)
    without.database.drop()
    with running_receiver() as receiver, loopback_allowed():
        hooked = run_pipeline_load(
            servers,
            "b7-webhooks",
            stream,
            plan.pipeline,
            prepare=lambda database, tenant: add_webhooks(database, tenant, receiver.url),
            settle=lambda database, tenant: wait_for_deliveries(
                database, tenant, plan.delivery_timeout_s
            ),
        )
        hooked.database.drop()
        received = receiver.received
    plain_lps = without.result["leads_per_s"]
    hooked_lps = hooked.result["leads_per_s"]
    outbound = hooked.result.pop("settled")
    outbound["requests_received"] = received
    return {
        "events": len(stream.events),
        "webhooks": [trigger.value for trigger in TRIGGERS],
        "without_webhooks": without.result,
        "with_webhooks": hooked.result,
        "outbound": outbound,
        "leads_per_s_without": plain_lps,
        "leads_per_s_with": hooked_lps,
        "webhook_cost_ratio": round(hooked_lps / plain_lps, 3) if plain_lps else None,
    }
