"""``leadgate webhooks list/deliveries/redeliver``."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from models import WebhookDelivery
from models.base import utcnow
from models.webhook import DeliveryStatus, WebhookTrigger
from tests.cli.conftest import Invoke
from tests.support.factories import make_delivery, make_tenant, make_webhook
from tests.support.leads import make_lead

URL = "http://127.0.0.1:9/hook"


def test_list_shows_webhooks_without_their_secrets(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    other = make_tenant(committed_session)
    hook = make_webhook(committed_session, tenant.organization_id, URL)
    off = make_webhook(
        committed_session,
        tenant.organization_id,
        URL,
        trigger=WebhookTrigger.LEAD_LOST,
        disabled=True,
        disabled_reason="the receiver answered 410 Gone",
    )
    make_webhook(committed_session, other.organization_id, URL)
    committed_session.commit()

    listed = json.loads(
        invoke("webhooks", "list", "--org", str(tenant.organization_id), "--json").stdout
    )

    assert [row["id"] for row in listed] == [hook.id, off.id]
    assert listed[1]["disabled"] == "the receiver answered 410 Gone"
    table = invoke("webhooks", "list", "--org", str(tenant.organization_id)).stdout
    assert "whsec_" not in table and "LEAD_LOST" in table


def test_deliveries_and_redelivering_every_failed_one_since_a_time(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    hook = make_webhook(committed_session, tenant.organization_id, URL)
    lead = make_lead(committed_session, tenant)
    attempt = {"time": utcnow().isoformat(), "status_code": 500, "duration_ms": 2,
               "body": "", "error": None}  # fmt: skip
    old = make_delivery(
        committed_session, hook, lead.id, status=DeliveryStatus.failed,
        created_time=utcnow() - dt.timedelta(days=3), attempts=[attempt],
    )  # fmt: skip
    recent = make_delivery(
        committed_session, hook, lead.id, status=DeliveryStatus.failed, attempts=[attempt]
    )
    delivered = make_delivery(committed_session, hook, lead.id, status=DeliveryStatus.delivered)
    committed_session.commit()

    table = invoke("webhooks", "deliveries", str(hook.id), "--status", "failed").stdout
    assert [line.split()[0] for line in table.splitlines()[1:]] == [str(recent.id), str(old.id)]
    assert "500" in table

    since = (utcnow() - dt.timedelta(days=1)).isoformat()
    # Scoped to this webhook: other tests of the session leave failed deliveries of their own.
    refused = invoke("webhooks", "redeliver", "--failed-since", since, "--webhook", str(hook.id),
                     stdin="n\n", exit_code=1)  # fmt: skip
    assert "1 failed deliveries since" in refused.stderr
    result = invoke("webhooks", "redeliver", "--failed-since", since, "--webhook", str(hook.id),
                    "--yes")  # fmt: skip

    assert result.stdout.splitlines() == [str(recent.id)]
    committed_session.expire_all()
    statuses = {
        d.id: d.status
        for d in (committed_session.get(WebhookDelivery, i) for i in (old.id, recent.id))
        if d is not None
    }
    assert statuses == {old.id: DeliveryStatus.failed, recent.id: DeliveryStatus.pending}
    # A named delivery; one already delivered can be sent again too.
    again = invoke("webhooks", "redeliver", str(delivered.id))
    assert again.stdout.splitlines() == [str(delivered.id)]
    assert invoke("webhooks", "deliveries", "999999999", exit_code=1).stderr.startswith("Error")
