"""Which triggers a lead change fires."""

from __future__ import annotations

from typing import Any

import pytest

from models.enums import EventAction, LeadStatus
from models.webhook import WebhookTrigger as T
from worker.outbound.triggers import fired_triggers


@pytest.mark.parametrize(
    ("action", "changes", "expected"),
    [
        (EventAction.created, {"status": LeadStatus.NEW, "sms_dnc": False}, [T.LEAD_CREATED]),
        (EventAction.created, {"sms_dnc": True}, [T.LEAD_CREATED, T.SMS_DNC]),
        (EventAction.updated, {"email": "a@example.com"}, [T.LEAD_UPDATED]),
        (EventAction.updated, {"status": LeadStatus.CLOSED}, [T.LEAD_UPDATED, T.LEAD_CLOSED]),
        (EventAction.updated, {"status": "LOST"}, [T.LEAD_UPDATED, T.LEAD_LOST]),
        (EventAction.updated, {"status": LeadStatus.OPEN}, [T.LEAD_UPDATED]),
        (
            EventAction.updated,
            {"status": LeadStatus.CALLBACK_TO_TRANSFER, "call_dnc": True, "sms_dnc": True},
            [T.LEAD_UPDATED, T.LEAD_CALLBACK_TO_TRANSFER, T.SMS_DNC, T.CALL_DNC],
        ),
        (EventAction.reengaged, {"status": LeadStatus.NEW}, [T.LEAD_REENGAGEMENT]),
        (EventAction.stale, {"email": "a@example.com"}, [T.LEAD_UPDATED]),
        (EventAction.stale, {}, []),
        (EventAction.unchanged, {}, []),
        (EventAction.duplicate, {}, []),
        (None, {}, []),
    ],
)
def test_fired_triggers(
    action: EventAction | None, changes: dict[str, Any], expected: list[T]
) -> None:
    assert fired_triggers(action, changes) == expected
