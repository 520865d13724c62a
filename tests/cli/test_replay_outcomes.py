"""Replayed events counted by action and by error."""

from __future__ import annotations

from leadgate.cli.replay_outcomes import EventOutcome, tally
from models.enums import EventAction, EventStatus

PHONE = {"field": "phone_number", "message": "a phone number is required to create a lead"}
EMAIL = {"field": "email", "message": "not an email address"}


def test_outcomes_by_action_and_by_error() -> None:
    outcomes = tally(
        [
            EventOutcome(EventStatus.done, EventAction.created, [], None),
            EventOutcome(EventStatus.done, EventAction.updated, [], None),
            EventOutcome(EventStatus.done, EventAction.created, [], None),
            EventOutcome(EventStatus.failed, None, [PHONE, EMAIL], None),
            EventOutcome(EventStatus.failed, None, [PHONE], None),
            EventOutcome(EventStatus.dead, None, [], "OperationalError: server\n  closed"),
            EventOutcome(EventStatus.retrying, None, [], "lock wait timeout"),
        ]
    )

    assert outcomes.failed_again == 3
    assert outcomes.pending == 1
    assert outcomes.lines() == [
        "  created    2",
        "  failed     2",
        "  dead       1",
        "  pending    1",
        "  updated    1",
        "errors (count, field: message):",
        "      2  phone_number: a phone number is required to create a lead",
        "      1  dead: OperationalError: server closed",
        "      1  email: not an email address",
    ]


def test_all_done_has_no_error_section() -> None:
    outcomes = tally([EventOutcome(EventStatus.done, EventAction.unchanged, [], None)])

    assert outcomes.failed_again == outcomes.pending == 0
    assert outcomes.lines() == ["  unchanged  1"]
