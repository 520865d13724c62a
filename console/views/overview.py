"""Overview: per config the last hour and day, the queue, and 24 hours of outcomes as a chart."""

from __future__ import annotations

from flask import render_template

from console.access import db, organization_id
from console.blueprint import bp
from console.chart import throughput_chart
from models.base import utcnow
from worker.inbox_overview import config_activity, hourly_outcomes, queue_state


@bp.get("/")
def overview() -> str:
    """The organization's inbox at a glance."""
    session, organization, now = db(), organization_id(), utcnow()
    return render_template(
        "console/overview.html",
        activity=config_activity(session, organization, now),
        queue=queue_state(session, organization, now),
        chart=throughput_chart(hourly_outcomes(session, organization, now)),
    )
