"""/metrics: the outbound queue and disabled webhooks, read from the database."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.base import utcnow
from models.webhook import DeliveryStatus
from tests.support.factories import make_delivery, make_tenant, make_webhook
from tests.support.leads import make_lead


def _value(text: str, prefix: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(prefix))
    return float(line.split()[-1])


def test_the_outbound_queue_and_disabled_webhooks_are_gauges(
    client: FlaskClient, committed_session: Session
) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    tenant = make_tenant(committed_session)
    hook = make_webhook(committed_session, tenant.organization_id, "http://127.0.0.1:9/")
    make_webhook(committed_session, tenant.organization_id, "http://127.0.0.1:9/", disabled=True)
    lead = make_lead(committed_session, tenant)
    an_hour_ago = utcnow() - dt.timedelta(hours=1)
    make_delivery(
        committed_session, hook, lead.id, created_time=an_hour_ago,
        next_attempt_time=utcnow() + dt.timedelta(days=1),
    )  # fmt: skip
    make_delivery(committed_session, hook, lead.id, status=DeliveryStatus.delivered)
    committed_session.commit()

    text = client.get("/metrics").get_data(as_text=True)

    pending = 'leadgate_webhook_deliveries_unfinished{status="pending"}'
    assert _value(text, pending) == _value(before, pending) + 1
    disabled = "leadgate_webhooks_disabled "
    assert _value(text, disabled) == _value(before, disabled) + 1
    assert _value(text, "leadgate_webhook_oldest_unfinished_age_seconds ") >= 3600
