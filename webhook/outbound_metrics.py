"""Lead webhook gauges read from the database at scrape time: the outbound queue, disabled hooks."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from webhook.db import engine

# The partial index's predicate, stated as a constant (models/webhook.py says why).
_UNFINISHED = text(
    "SELECT status, count(*), extract(epoch FROM now() - min(created_time)) "
    "FROM webhook_deliveries WHERE status IN ('pending', 'sending') GROUP BY status"
)
_DISABLED = text("SELECT count(*) FROM webhooks WHERE disabled")


class OutboundCollector(Collector):
    """Deliveries still to be sent, the oldest one's age, and disabled webhooks, on every host."""

    def collect(self) -> Iterator[Metric]:
        """Read the gauges from the outbox at scrape time."""
        depth = GaugeMetricFamily(
            "leadgate_webhook_deliveries_unfinished",
            "Lead webhook deliveries not yet delivered or failed, by status.",
            labels=["status"],
        )
        oldest = GaugeMetricFamily(
            "leadgate_webhook_oldest_unfinished_age_seconds",
            "Age of the oldest lead webhook delivery not yet delivered or failed.",
        )
        disabled = GaugeMetricFamily(
            "leadgate_webhooks_disabled", "Lead webhooks disabled (410 Gone, failing, or by hand)."
        )
        with engine().connect() as connection:
            rows = connection.execute(_UNFINISHED).all()
            disabled_count = connection.execute(_DISABLED).scalar_one()
        counts = {status: (count, age) for status, count, age in rows}
        for status in ("pending", "sending"):
            depth.add_metric([status], counts.get(status, (0, None))[0])
        ages = [float(age) for _, age in counts.values() if age is not None]
        oldest.add_metric([], max(ages, default=0.0))
        disabled.add_metric([], disabled_count)
        yield depth
        yield oldest
        yield disabled
