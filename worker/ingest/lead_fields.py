"""The catalogue of standard lead fields a payload may set, and the other names a mapping knows."""

from __future__ import annotations

import enum

from worker.ingest.conversions import TYPE_NAMES


class FieldKind(enum.Enum):
    """How a standard field's value is checked and normalized."""

    PHONE = "phone"  # E.164 string
    EMAIL = "email"  # lower-cased address
    TEXT = "text"  # trimmed string of at most TEXT_MAX_LENGTH characters
    US_STATE = "us_state"  # two-letter code
    LEAD_STATUS = "lead_status"  # models.enums.LeadStatus member
    STATUS_OUTCOME = "status_outcome"  # models.enums.StatusOutcome member
    STATUS_REASON = "status_reason"  # models.enums.StatusReason member
    INTEGER = "integer"  # fits a PostgreSQL integer column
    ROW_ID = "row_id"  # a positive integer id of another row
    BOOLEAN = "boolean"
    DATETIME = "datetime"  # timezone-aware datetime (naive input is taken as UTC)


WRITABLE_FIELDS: dict[str, FieldKind] = {
    "phone_number": FieldKind.PHONE,
    "email": FieldKind.EMAIL,
    "external_id": FieldKind.TEXT,
    "us_state": FieldKind.US_STATE,
    "lead_source": FieldKind.TEXT,
    "status": FieldKind.LEAD_STATUS,
    "status_outcome": FieldKind.STATUS_OUTCOME,
    "status_reason": FieldKind.STATUS_REASON,
    "lead_type": FieldKind.INTEGER,
    "representative": FieldKind.ROW_ID,
    "sms_dnc": FieldKind.BOOLEAN,
    "call_dnc": FieldKind.BOOLEAN,
    "next_call_time": FieldKind.DATETIME,
    "call_schedule_start_time": FieldKind.DATETIME,
    "next_call_time_reason": FieldKind.TEXT,
}

# Lead fields the service alone sets; a payload key with one of these names is just another key.
READ_ONLY_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "campaign",
        "created_time",
        "modified_time",
        "received_time",
        "reengagements_count",
        "last_reengagement_time",
        "timezone",
        # Set by the Leadgate-Test header or a test config, never by a payload.
        "is_test",
    }
)

METADATA = "metadata"
METADATA_PREFIX = "metadata."
# Consent evidence: appended to the lead's consent records, never a field of the lead.
CONSENT_PREFIX = "consent."
CONSENT_KEYS: dict[str, FieldKind] = {
    "trustedform_cert_url": FieldKind.TEXT,
    "jornaya_leadid": FieldKind.TEXT,
    "text": FieldKind.TEXT,
    "ip": FieldKind.TEXT,
    "time": FieldKind.DATETIME,
    "source": FieldKind.TEXT,
}
# A request parameter (SPEC section 5), never stored on the lead.
MIN_REENGAGEMENT_DAYS = "min_reengagement_days"

# The lead's varchar columns for these fields are String(255).
TEXT_MAX_LENGTH = 255

# The rule `type`s that can produce a valid value for each kind; anything else is refused when the
# mapping is saved, since it could only ever fail at run time.
TYPES_FOR_KIND: dict[FieldKind, frozenset[str]] = {
    FieldKind.PHONE: frozenset({"string", "integer"}),
    FieldKind.EMAIL: frozenset({"string"}),
    FieldKind.TEXT: frozenset({"string", "integer", "number", "date"}),
    FieldKind.US_STATE: frozenset({"string"}),
    FieldKind.LEAD_STATUS: frozenset({"string"}),
    FieldKind.STATUS_OUTCOME: frozenset({"string"}),
    FieldKind.STATUS_REASON: frozenset({"string"}),
    FieldKind.INTEGER: frozenset({"string", "integer", "number"}),
    FieldKind.ROW_ID: frozenset({"string", "integer", "number"}),
    FieldKind.BOOLEAN: frozenset({"string", "integer", "boolean"}),
    FieldKind.DATETIME: frozenset({"string", "date", "datetime"}),
}
MIN_REENGAGEMENT_DAYS_TYPES: frozenset[str] = frozenset({"string", "integer", "number"})
ALL_TYPES: frozenset[str] = frozenset(TYPE_NAMES)


def types_for_target(target: str) -> frozenset[str] | None:
    """The rule types that suit a mapping target; None when ``target`` is not a target at all."""
    if target in WRITABLE_FIELDS:
        return TYPES_FOR_KIND[WRITABLE_FIELDS[target]]
    if target == MIN_REENGAGEMENT_DAYS:
        return MIN_REENGAGEMENT_DAYS_TYPES
    if target.startswith(METADATA_PREFIX) and len(target) > len(METADATA_PREFIX):
        return ALL_TYPES
    consent = CONSENT_KEYS.get(target.removeprefix(CONSENT_PREFIX))
    if target.startswith(CONSENT_PREFIX) and consent is not None:
        return TYPES_FOR_KIND[consent]
    return None


def target_problem(target: str) -> str:
    """Why ``target`` cannot be a mapping target, for the config's author."""
    if target in READ_ONLY_FIELDS:
        return f"{target} is set by the service, not by a payload"
    if target in (METADATA, METADATA_PREFIX):
        return "a metadata target needs a key: metadata.KEY"
    if target.startswith(CONSENT_PREFIX):
        keys = ", ".join(CONSENT_PREFIX + key for key in CONSENT_KEYS)
        return f"{target!r} is not a consent target; use one of {keys}"
    fields = ", ".join(WRITABLE_FIELDS)
    return (
        f"{target!r} is not a target; use one of {fields}, metadata.KEY, consent.KEY or "
        f"{MIN_REENGAGEMENT_DAYS}"
    )
