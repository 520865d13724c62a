"""A delivery's body: Sela's bare lead, or the Standard Webhooks envelope around it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from models.webhook import PayloadFormat, WebhookTrigger


def event_type(trigger: WebhookTrigger) -> str:
    """The envelope's ``type``: ``LEAD_CREATED`` becomes ``lead.created``."""
    name = trigger.value.lower()
    return "lead." + name.removeprefix("lead_")


def delivery_body(
    payload_format: PayloadFormat,
    trigger: WebhookTrigger,
    lead: dict[str, Any],
    timestamp: dt.datetime,
) -> bytes:
    """The exact bytes to sign and send, fixed once so every retry sends the same."""
    document: dict[str, Any] = lead
    if payload_format == PayloadFormat.standard:
        document = {"type": event_type(trigger), "timestamp": timestamp.isoformat(), "data": lead}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
