"""Enumerations shared by the models, the API and the pipeline (Sela's values)."""

from __future__ import annotations

import enum


class LeadStatus(enum.StrEnum):
    """Where a lead stands; a new lead is NEW."""

    UNKNOWN = "UNKNOWN"
    NEW = "NEW"
    OPEN = "OPEN"
    CALLBACK_TO_TRANSFER = "CALLBACK_TO_TRANSFER"
    CLOSED = "CLOSED"
    CLOSED_INCOMPLETE = "CLOSED_INCOMPLETE"
    LOST = "LOST"
    SCHEDULE_COMPLETED = "SCHEDULE_COMPLETED"
    OUT_OF_TERRITORY = "OUT_OF_TERRITORY"
    BAD_NUMBER = "BAD_NUMBER"
    CANCELLED = "CANCELLED"


class StatusOutcome(enum.StrEnum):
    """How a lead's last conversation ended."""

    blind_transfer = "blind_transfer"
    warm_transfer = "warm_transfer"
    appointment_booked = "appointment_booked"
    live_handoff_unavailable = "live_handoff_unavailable"
    escalation = "escalation"
    has_call_dnc = "has_call_dnc"
    tcpa_litigator = "tcpa_litigator"
    LEAD_ASSIGNED = "LEAD_ASSIGNED"


class StatusReason(enum.StrEnum):
    """Who changed the status last."""

    UNKNOWN = "UNKNOWN"
    WEBHOOK = "WEBHOOK"
    MANUAL = "MANUAL"
    CHAT = "CHAT"
    REENGAGEMENT = "REENGAGEMENT"


class AuthMode(enum.StrEnum):
    """How an ingestion endpoint authenticates: a token, a provider's credential, or nothing.

    The database keeps the member's name (``payload_key``); the API and the CLI its value.
    """

    token = "token"  # noqa: S105 - the mode's name, not a secret
    open = "open"
    payload_key = "payload-key"  # a shared secret at a path of the payload (Google Ads)
    signature = "signature"  # an HMAC-SHA256 of the raw body in a header (Typeform, Facebook)


class Endpoint(enum.StrEnum):
    """Which endpoint received an event: a custom-payload door or the standard lead API."""

    create = "create"
    upsert = "upsert"
    # The standard lead API (Sela's format): POST /api/leads/, PUT .../update/, PATCH .../{id}/
    leads_create = "leads.create"
    leads_bulk = "leads.bulk"  # one event per item of POST /api/leads/bulk-create/
    leads_update = "leads.update"
    leads_patch = "leads.patch"


# The custom-payload doors of an ingestion config (the dry run answers for these).
CUSTOM_ENDPOINTS: tuple[Endpoint, ...] = (Endpoint.create, Endpoint.upsert)


class EventStatus(enum.StrEnum):
    """An ingestion event's place in its life; done, failed and dead are terminal."""

    queued = "queued"
    processing = "processing"
    retrying = "retrying"
    done = "done"
    failed = "failed"
    dead = "dead"
    # Its config is held: kept in the inbox, unprocessed, until the config is released.
    held = "held"

    @property
    def is_terminal(self) -> bool:
        """True once nothing more will happen to the event without a replay."""
        return self in (EventStatus.done, EventStatus.failed, EventStatus.dead)


class EventAction(enum.StrEnum):
    """What a done event did to its lead."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    reengaged = "reengaged"
    duplicate = "duplicate"
    stale = "stale"


US_STATE_CODES: tuple[str, ...] = tuple(
    [
        "AL",
        "AK",
        "AS",
        "AZ",
        "AR",
        "AA",
        "AE",
        "AP",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "GU",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "MP",
        "OH",
        "OK",
        "OR",
        "PA",
        "PR",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VI",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
    ]
)

MATCH_KEYS: tuple[str, ...] = ("external_id", "phone_number", "email")
