"""The drift gauge, read from the configs at scrape time: the same on every host."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from webhook.db import engine

# Only configs with an alarm up: the label set is bounded by the configs that exist.
_ALARMS = text(
    "SELECT id, drift_alarm -> 'reasons' FROM ingestion_configs WHERE drift_alarm IS NOT NULL"
)


class DriftCollector(Collector):
    """``leadgate_config_drift{config,reason}``: 1 for each reason a config's alarm is up for."""

    def collect(self) -> Iterator[Metric]:
        """Read the raised alarms."""
        drift = GaugeMetricFamily(
            "leadgate_config_drift",
            "1 while a config's drift alarm is up, by config and reason "
            "(missing_path, failure_rate).",
            labels=["config", "reason"],
        )
        with engine().connect() as connection:
            for config_id, reasons in connection.execute(_ALARMS):
                for reason in reasons or ():
                    drift.add_metric([str(config_id), str(reason)], 1)
        yield drift
