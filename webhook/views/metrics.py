"""Prometheus metrics: this host's processes, plus queue gauges read from the database."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import text

import common.metrics  # noqa: F401 - sets the multiprocess directory before use
from common.settings import get_settings
from webhook.db import engine
from webhook.drift_metrics import DriftCollector
from webhook.errors import ApiError
from webhook.outbound_metrics import OutboundCollector

bp = Blueprint("metrics", __name__)

_PENDING = text(
    "SELECT status, count(*), extract(epoch FROM now() - min(received_time)) "
    "FROM ingestion_events WHERE status IN ('queued', 'processing', 'retrying') GROUP BY status"
)
_DEAD = text(
    "SELECT config_id, count(*) FROM ingestion_events WHERE status = 'dead' GROUP BY config_id"
)


class QueueCollector(Collector):
    """Queue depth, oldest pending age and dead events, true across every host."""

    def collect(self) -> Iterator[Metric]:
        """Read the gauges from the inbox table at scrape time."""
        depth = GaugeMetricFamily(
            "leadgate_events_pending", "Events not yet terminal, by status.", labels=["status"]
        )
        oldest = GaugeMetricFamily(
            "leadgate_oldest_pending_age_seconds", "Age of the oldest event not yet terminal."
        )
        dead = GaugeMetricFamily(
            "leadgate_events_dead",
            "Dead events waiting for a replay, by config.",
            labels=["config"],
        )
        with engine().connect() as connection:
            pending = connection.execute(_PENDING).all()
            dead_rows = connection.execute(_DEAD).all()
        counts = {status: (count, age) for status, count, age in pending}
        for status in ("queued", "processing", "retrying"):
            depth.add_metric([status], counts.get(status, (0, None))[0])
        ages = [float(age) for _, age in counts.values() if age is not None]
        oldest.add_metric([], max(ages, default=0.0))
        for config_id, count in dead_rows:
            dead.add_metric([str(config_id)], count)
        yield depth
        yield oldest
        yield dead


def _check_metrics_token() -> None:
    expected = get_settings().metrics_token
    if expected is None:
        return
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "Metrics need 'Authorization: Bearer <LEADGATE_METRICS_TOKEN>'.")


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format for every process on this host and the queue gauges."""
    _check_metrics_token()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])  # type: ignore[no-untyped-call]
    registry.register(QueueCollector())
    registry.register(OutboundCollector())
    registry.register(DriftCollector())
    # content_type, not mimetype: CONTENT_TYPE_LATEST already names its charset, and Flask adds
    # one to a mimetype.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
