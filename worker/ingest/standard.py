"""The standard lead API's rules (Sela's POST/PUT/PATCH /api/leads/), beside the custom doors'.

Standard events are stored under the organization's standard-API config, whose mapping is empty:
an empty mapping reads Sela's format as it is (standard fields at the top level, other keys into
metadata, ``metadata`` merged). What differs from a custom door is said here: which endpoints
create, how PUT finds its lead, and the fields a standard payload may not set.
"""

from __future__ import annotations

from typing import Any

from models import Lead
from models.enums import Endpoint
from worker.ingest.lead_fields import READ_ONLY_FIELDS
from worker.ingest.matching import LeadsInPlay, MatchResult, is_test_lead
from worker.ingest.types import FieldError

# Endpoints with the create rules: a duplicate is discarded, a reengagement counted.
CREATE_ENDPOINTS = frozenset({Endpoint.create, Endpoint.leads_create, Endpoint.leads_bulk})
# Endpoints that change an existing lead and never create one.
LOOKUP_ENDPOINTS = frozenset({Endpoint.leads_update, Endpoint.leads_patch})

# The event's last_error when PUT /api/leads/update/ or PATCH finds no lead; the API answers 404.
NO_MATCH = "no_match"


def without_read_only(payload: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The payload without fields the service alone sets (a warning for each one dropped).

    Sela's serializer ignores read-only fields; without this they would land in metadata, and a
    ``campaign`` in a PATCH would read as if it could move the lead.
    """
    kept = {key: value for key, value in payload.items() if key not in READ_ONLY_FIELDS}
    warnings = [
        {"field": key, "reason": f"{key} is set by the service; the value sent was ignored"}
        for key in payload
        if key in READ_ONLY_FIELDS
    ]
    return kept, warnings


def match_for_update(
    leads: LeadsInPlay, organization_id: int, values: dict[str, Any], is_test: bool = False
) -> MatchResult:
    """PUT's lead: the same phone number and the same email (none on either side is the same).

    Only a lead of the event's mode (``is_test``) is found.
    """
    result = MatchResult()
    email = values.get("email")
    phone = values["phone_number"]
    for lead in leads.with_value(organization_id, "phone_number", phone, is_test):
        if lead.email == email:
            result.lead, result.matched_by = lead, "phone_number"
            break
    return result


def match_by_id(
    leads: LeadsInPlay, organization_id: int, lead_id: int | None, is_test: bool = False
) -> MatchResult:
    """PATCH's lead: the one its URL names, if the organization still has it in this mode.

    A test-mode PATCH never touches a real lead, nor a real one a test lead (the webhook
    answers 404 for these before storing; this holds for a replay too).
    """
    lead = leads.by_id(organization_id, lead_id)
    if lead is not None and is_test_lead(lead) != is_test:
        lead = None
    return MatchResult(lead, "id" if lead is not None else None)


def no_match_error(endpoint: Endpoint) -> FieldError:
    """Why a PUT or PATCH changed nothing: no lead to change."""
    if endpoint == Endpoint.leads_patch:
        return FieldError("id", "no lead of the organization has this id")
    return FieldError("phone_number", "no lead of the organization has this phone number and email")


def external_id_mismatch(lead: Lead, values: dict[str, Any]) -> FieldError | None:
    """PUT's rule: an external id that differs from the matched lead's is refused, not written."""
    given = values.get("external_id")
    if given is None or lead.external_id in (None, given):
        return None
    return FieldError(
        "external_id",
        f"the lead matched by phone number and email has another external id "
        f"({lead.external_id!r}); external ids are never overwritten by an update",
    )


def cleared_flags(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Notes for the event: each DNC flag the owner's API cleared (ingestion never clears one)."""
    return [
        {"field": flag, "reason": f"{flag} cleared through the owner's API"}
        for flag in ("sms_dnc", "call_dnc")
        if before.get(flag) is True and after.get(flag) is False
    ]
