"""Which triggers a lead change fires: created, updated, reengaged, a status, a DNC flag."""

from __future__ import annotations

from typing import Any

from models.enums import EventAction, LeadStatus
from models.webhook import WebhookTrigger

# A status trigger fires when the lead's status becomes that value.
_STATUS_TRIGGERS = {
    LeadStatus.CLOSED: WebhookTrigger.LEAD_CLOSED,
    LeadStatus.CLOSED_INCOMPLETE: WebhookTrigger.LEAD_CLOSED_INCOMPLETE,
    LeadStatus.LOST: WebhookTrigger.LEAD_LOST,
    LeadStatus.SCHEDULE_COMPLETED: WebhookTrigger.LEAD_SCHEDULE_COMPLETED,
    LeadStatus.OUT_OF_TERRITORY: WebhookTrigger.LEAD_OUT_OF_TERRITORY,
    LeadStatus.BAD_NUMBER: WebhookTrigger.LEAD_BAD_NUMBER,
    LeadStatus.CANCELLED: WebhookTrigger.LEAD_CANCELLED,
    LeadStatus.CALLBACK_TO_TRANSFER: WebhookTrigger.LEAD_CALLBACK_TO_TRANSFER,
}
_DNC_TRIGGERS = {"sms_dnc": WebhookTrigger.SMS_DNC, "call_dnc": WebhookTrigger.CALL_DNC}


def fired_triggers(action: EventAction | None, changes: dict[str, Any]) -> list[WebhookTrigger]:
    """The triggers an applied event fires, from its action and the attributes it changed.

    ``changes`` holds, for a created lead, every value; otherwise only what changed. An event
    that changed nothing (unchanged, duplicate, a stale event with nothing to fill) fires none.
    """
    if action == EventAction.created:
        fired = [WebhookTrigger.LEAD_CREATED]
    elif action == EventAction.reengaged:
        fired = [WebhookTrigger.LEAD_REENGAGEMENT]
    elif action in (EventAction.updated, EventAction.stale) and changes:
        fired = [WebhookTrigger.LEAD_UPDATED]
    else:
        return []
    status = changes.get("status")
    if status is not None and status in _STATUS_TRIGGERS:
        fired.append(_STATUS_TRIGGERS[LeadStatus(status)])
    fired += [trigger for name, trigger in _DNC_TRIGGERS.items() if changes.get(name) is True]
    return fired
