"""Normalization of standard lead fields and other targets, worker/ingest/normalize.py."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest

from models.enums import LeadStatus, StatusOutcome, StatusReason
from worker.ingest.lead_fields import WRITABLE_FIELDS, FieldKind
from worker.ingest.normalize import (
    MAX_REENGAGEMENT_DAYS,
    check_storable,
    convert_and_normalize,
    normalize_field,
    normalize_min_reengagement_days,
    normalize_target,
)

_UTC = dt.UTC


def test_every_writable_field_has_a_normalizer() -> None:
    for name in WRITABLE_FIELDS:
        with pytest.raises(ValueError):  # noqa: PT011 - only that nothing else is raised
            normalize_field(name, {"not": "valid"})


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("phone_number", "(415) 555-2671", "+14155552671"),
        ("phone_number", 4155552671, "+14155552671"),
        ("email", " Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("external_id", "id_in_your_crm_123", "id_in_your_crm_123"),
        ("external_id", 1001, "1001"),
        ("external_id", "  C-9 ", "C-9"),
        ("external_id", "x" * 255, "x" * 255),
        ("lead_source", "USDALoans.com", "USDALoans.com"),
        ("next_call_time_reason", "asked for a call back", "asked for a call back"),
        ("us_state", "California", "CA"),
        ("us_state", "il", "IL"),
        ("lead_type", 123, 123),
        ("lead_type", "7", 7),
        ("lead_type", 7.0, 7),
        ("lead_type", -1, -1),
        ("representative", 42, 42),
        ("representative", " 42 ", 42),
        ("sms_dnc", "N", False),
        ("call_dnc", "Yes", True),
        ("call_dnc", True, True),
        ("call_dnc", 0, False),
        ("next_call_time", "2026-11-02T14:05:00Z", dt.datetime(2026, 11, 2, 14, 5, tzinfo=_UTC)),
        ("next_call_time", "2026-11-02T14:05:00", dt.datetime(2026, 11, 2, 14, 5, tzinfo=_UTC)),
        (
            "call_schedule_start_time",
            "2026-11-02T09:00:00-05:00",
            dt.datetime(2026, 11, 2, 14, tzinfo=_UTC),
        ),
    ],
)
def test_normalize_field(field: str, raw: object, expected: object) -> None:
    result = normalize_field(field, raw)
    assert result == expected
    assert type(result) is type(expected)


def test_datetimes_are_always_aware() -> None:
    result = normalize_field("next_call_time", "2026-11-02 14:05")
    assert result.tzinfo is not None
    assert result.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Lost ", LeadStatus.LOST),
        ("cancelled", LeadStatus.CANCELLED),
        ("closed", LeadStatus.CLOSED),
        ("NEW", LeadStatus.NEW),
        ("callback_to_transfer", LeadStatus.CALLBACK_TO_TRANSFER),
        ("Out_Of_Territory", LeadStatus.OUT_OF_TERRITORY),
        *[(member.value.lower(), member) for member in LeadStatus],
        *[(f" {member.value.title()} ", member) for member in LeadStatus],
    ],
)
def test_status_in_any_case(raw: str, expected: LeadStatus) -> None:
    assert normalize_field("status", raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("WARM_TRANSFER", StatusOutcome.warm_transfer),
        ("lead_assigned", StatusOutcome.LEAD_ASSIGNED),
        (" Appointment_Booked ", StatusOutcome.appointment_booked),
        *[(member.value.upper(), member) for member in StatusOutcome],
        *[(member.value.lower(), member) for member in StatusOutcome],
    ],
)
def test_status_outcome_in_any_case_gives_the_canonical_member(
    raw: str, expected: StatusOutcome
) -> None:
    assert normalize_field("status_outcome", raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(member.value.lower(), member) for member in StatusReason]
    + [(f"  {member.value} ", member) for member in StatusReason],
)
def test_status_reason_in_any_case(raw: str, expected: StatusReason) -> None:
    assert normalize_field("status_reason", raw) is expected


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("status", "WON", "'WON' is not a lead status; expected one of UNKNOWN, NEW"),
        ("status", 3, "3 is not a lead status"),
        ("status", "closed won", "is not a lead status"),
        ("status_outcome", "transfer", "is not a status outcome"),
        ("status_reason", "API", "is not a status reason"),
        ("phone_number", "(123) 456-7890", "area code 123 does not exist"),
        ("email", "not-an-email", "is not a valid email address"),
        ("us_state", "Calif", "is not a US state"),
        ("external_id", "x" * 256, "is 256 characters long; at most 255 are allowed"),
        ("lead_source", "y" * 300, "is 300 characters long"),
        ("next_call_time_reason", "z" * 256, "at most 255"),
        ("external_id", True, "expected text, got bool"),
        ("external_id", ["a"], "expected text, got list"),
        ("external_id", {"id": 1}, "expected text, got dict"),
        ("external_id", math.nan, "expected text"),
        ("external_id", "a\x00b", "NUL character"),
        ("lead_source", "\ud800", "not valid Unicode"),
        ("lead_type", "abc", "'abc' is not a whole number"),
        ("lead_type", "12.5", "is not a whole number"),
        ("lead_type", True, "is not a whole number"),
        ("lead_type", 2**31, "out of range"),
        ("representative", 0, "out of range (1 to"),
        ("representative", -4, "out of range"),
        ("sms_dnc", "maybe", "'maybe' is not a yes/no value"),
        ("call_dnc", 2, "is not a yes/no value"),
        ("next_call_time", "tomorrow", "'tomorrow' is not an ISO 8601 date and time"),
        ("call_schedule_start_time", 1700000000, "is not an ISO 8601 date and time"),
    ],
)
def test_normalize_field_errors(field: str, raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        normalize_field(field, raw)


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), (30, 30), ("30", 30), (" 7 ", 7), (7.0, 7)])
def test_min_reengagement_days(raw: object, expected: int) -> None:
    assert normalize_min_reengagement_days(raw) == expected
    assert normalize_target("min_reengagement_days", raw) == expected


@pytest.mark.parametrize(
    "raw", [-1, "-3", "soon", 1.5, True, None, [1], MAX_REENGAGEMENT_DAYS + 1, 10**12]
)
def test_min_reengagement_days_errors(raw: object) -> None:
    with pytest.raises(ValueError, match=r"whole number|out of range"):
        normalize_min_reengagement_days(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jane", "Jane"),
        ({"tcpa": True}, {"tcpa": True}),
        ([1, "two", None], [1, "two", None]),
        (450000, 450000),
        (dt.datetime(2026, 11, 2, 14, 5, tzinfo=_UTC), "2026-11-02T14:05:00+00:00"),
    ],
)
def test_metadata_targets_keep_values_and_write_datetimes_as_text(
    value: object, expected: object
) -> None:
    assert normalize_target("metadata.anything", value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "a\x00b",
        {"nested": ["ok", "bad\x00"]},
        {"key\x00": 1},
        math.nan,
        [math.inf],
        {"deep": {"er": [-math.inf]}},
        "\udc80",
    ],
)
def test_check_storable_refuses_what_postgres_cannot_hold(value: object) -> None:
    with pytest.raises(ValueError, match=r"cannot be stored|not valid Unicode"):
        check_storable(value)
    with pytest.raises(ValueError, match=r"cannot be stored|not valid Unicode"):
        normalize_target("metadata.x", value)


@pytest.mark.parametrize("value", ["ok", 1, 1.5, None, True, {"a": [1, {"b": "c"}]}, "ünïcødé ✓"])
def test_check_storable_accepts_json(value: object) -> None:
    check_storable(value)


@pytest.mark.parametrize(
    ("target", "type_name", "raw", "expected"),
    [
        ("metadata.loan_amount", "number", "450000", 450000),
        ("metadata.loan_amount", "number", "1.5", 1.5),
        ("metadata.when", "datetime", "2026-11-02T14:05:00", "2026-11-02T14:05:00+00:00"),
        ("metadata.day", "date", "2026-11-02T14:05:00Z", "2026-11-02"),
        ("external_id", "string", 1001, "1001"),
        ("call_dnc", "boolean", "no", False),
        ("next_call_time", "datetime", "2026-11-02", dt.datetime(2026, 11, 2, tzinfo=_UTC)),
        ("lead_type", None, "12", 12),
    ],
)
def test_convert_and_normalize(
    target: str, type_name: str | None, raw: object, expected: object
) -> None:
    assert convert_and_normalize(target, type_name, raw, "some.path") == expected


def test_field_kinds_cover_the_spec() -> None:
    kinds = {name: kind for name, kind in WRITABLE_FIELDS.items()}
    assert kinds["phone_number"] is FieldKind.PHONE
    assert kinds["status"] is FieldKind.LEAD_STATUS
    assert "timezone" not in kinds
    assert "id" not in kinds
