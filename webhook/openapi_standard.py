"""The standard lead API's part of the OpenAPI document: lead types and the lead writes."""

from __future__ import annotations

from typing import Any

from models.enums import EventAction
from webhook.openapi_document import (
    _AUTH_ERRORS,
    _DATABASE_DOWN,
    _INT,
    _NULLABLE_INT,
    _NULLABLE_STRING,
    _PAGING,
    _PAYLOAD_BODY,
    _STRING,
    _error,
    _json,
    _page,
    _path,
    _query,
    _ref,
)
from webhook.openapi_test_mode import TEST_HEADER_PARAMETER
from worker.ingest.conversions import TYPE_NAMES

_METADATA_FIELD = {
    "type": "object",
    "required": ["key", "type"],
    "properties": {
        "key": _STRING,
        "label": _STRING,
        "helpText": _STRING,
        "type": {"type": "string", "enum": list(TYPE_NAMES)},
        "required": {"type": "boolean"},
    },
}
_LEAD_TYPE = {
    "type": "object",
    "required": ["id", "name", "campaign", "lead_metadata_fields", "is_default"],
    "properties": {
        "id": _INT,
        "name": _STRING,
        "campaign": _INT,
        "lead_metadata_fields": {"type": "array", "items": _METADATA_FIELD},
        "is_default": {"type": "boolean"},
    },
}
_LEAD_HEADERS = {
    "Lead-Action": {
        "description": "what the request did: created, updated, unchanged, reengaged, "
        "duplicate or stale",
        "schema": {"type": "string", "enum": [a.value for a in EventAction]},
    },
    "Ingestion-Event-Id": {
        "description": "the event that recorded the request",
        "schema": {"type": "string", "format": "uuid"},
    },
}
_STANDARD_PARAMETERS = [
    {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "schema": _STRING,
        "description": "respond-async: answer 202 at once; wait=N: wait at most N s (default 30)",
    },
    {"name": "Idempotency-Key", "in": "header", "required": False, "schema": _STRING},
    TEST_HEADER_PARAMETER,
]


def _with_headers(response: dict[str, Any], headers: dict[str, Any]) -> dict[str, Any]:
    return {**response, "headers": headers}


def _standard_operation(
    operation_id: str, summary: str, description: str, ok: str, path_id: bool = False
) -> dict[str, Any]:
    """A write of the standard lead API: stored as an event, answered with its outcome."""
    responses: dict[str, Any] = {
        "200": _with_headers(_json(_ref("Lead"), ok), _LEAD_HEADERS),
        "202": _json(_ref("Accepted"), "accepted; the outcome was not ready in time"),
        "400": _error(
            "the body or a field is invalid (errors by field), or Leadgate-Test is not true or "
            "false"
        ),
        "401": _error("missing or invalid token"),
        "404": _error(
            "no such lead, or one of the other mode (a test lead without Leadgate-Test: true, "
            "a real one with it)"
            if path_id
            else "no lead matches"
        ),
        "409": _error("idempotency key reused with another body"),
        "413": _error("body too large"),
        "415": _error("unsupported content type"),
        "503": _DATABASE_DOWN,
    }
    if operation_id == "createStandardLead":
        responses["201"] = _with_headers(_json(_ref("Lead"), "created"), _LEAD_HEADERS)
        del responses["404"]  # a create finds no lead to miss
    parameters = [_path("lead_id", _INT)] if path_id else []
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "parameters": [*parameters, *_STANDARD_PARAMETERS],
        "requestBody": _PAYLOAD_BODY,
        "responses": responses,
    }


_CREATE_DESCRIPTION = (
    "Sela's standard format: lead fields at the top level, other keys into metadata, a "
    "metadata object merged. The lead goes to its lead_type's campaign, else to the "
    "organization's default lead type's. A duplicate (same phone number and email, or same "
    "external_id) is answered 200 with the existing lead and Lead-Action: duplicate; Sela "
    "leaves this undocumented, and a 4xx would make senders retry a discarded duplicate. A "
    "reengagement is 200 with Lead-Action: reengaged. Not found (404) is never answered here."
)


_BULK_RESULTS = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "action", "error", "event"],
                "properties": {
                    "id": _NULLABLE_INT,
                    "action": {
                        "type": ["string", "null"],
                        "enum": [*(a.value for a in EventAction), "error", None],
                    },
                    "error": _NULLABLE_STRING,
                    "event": {"type": ["string", "null"], "format": "uuid"},
                },
            },
        }
    },
}
_BULK_OPERATION = {
    "operationId": "bulkCreateStandardLeads",
    "summary": "Create many leads, one event each",
    "description": "Items are answered in request order; one bad item never fails the others. "
    "An item's idempotency key is the request's Idempotency-Key (else the body's digest) plus "
    "its index, so a retried request applies no item twice. 202 when some items were still "
    "running when the wait ran out (their action is null; follow their event).",
    "parameters": _STANDARD_PARAMETERS,
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["leads"],
                    "properties": {
                        "leads": {
                            "type": "array",
                            # Not only objects: any other item is answered as that item's error,
                            # and the others are still created.
                            "items": {"description": "a lead in the standard format"},
                        }
                    },
                }
            }
        },
    },
    "responses": {
        "200": _json(_ref("BulkResults"), "every item's outcome, in request order"),
        "202": _json(_ref("BulkResults"), "some items still running"),
        "400": _error("the body is not an object with a leads list"),
        "401": _error("missing or invalid token"),
        "413": _error("body too large, or more leads than allowed"),
        "415": _error("unsupported content type"),
        "503": _DATABASE_DOWN,
    },
}


def standard_schemas() -> dict[str, Any]:
    """The components this part adds."""
    return {
        "LeadType": _LEAD_TYPE,
        "LeadTypePage": _page("LeadType"),
        "BulkResults": _BULK_RESULTS,
    }


def standard_paths() -> dict[str, dict[str, Any]]:
    """The operations this part adds, by path (merged into paths the document already has)."""
    return {
        "/api/lead-types/": {
            "get": {
                "operationId": "listLeadTypes",
                "summary": "Lead types of the token's organization",
                "parameters": [
                    _query("search", _STRING, "part of the name, any case"),
                    *_PAGING,
                ],
                "responses": {
                    "200": _json(_ref("LeadTypePage"), "a page of lead types"),
                    "400": _error("bad filter"),
                    **_AUTH_ERRORS,
                },
            }
        },
        "/api/lead-types/{lead_type_id}/": {
            "get": {
                "operationId": "getLeadType",
                "summary": "One lead type",
                "parameters": [_path("lead_type_id", _INT)],
                "responses": {"200": _json(_ref("LeadType"), "the lead type"), **_AUTH_ERRORS},
            }
        },
        "/api/leads/bulk-create/": {"post": _BULK_OPERATION},
        "/api/leads/update/": {
            "put": _standard_operation(
                "updateStandardLead",
                "Update the lead with this phone number and email",
                "phone_number is required; no email on either side counts as the same. "
                "404 when no lead matches; an external_id that differs from the lead's "
                "is a 400 on external_id.",
                "updated or unchanged",
            )
        },
        "/api/leads/{lead_id}/": {
            "patch": _standard_operation(
                "patchStandardLead",
                "Change some fields of one lead",
                "The owner's API may clear call_dnc / sms_dnc; status and status_reason "
                "may be set; campaign never changes.",
                "updated or unchanged",
                path_id=True,
            ),
        },
        "/api/leads/": {
            "post": _standard_operation(
                "createStandardLead",
                "Create a lead from the standard format",
                _CREATE_DESCRIPTION,
                "reengaged, or a duplicate (the existing lead)",
            ),
        },
    }
