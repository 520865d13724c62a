"""The OpenAPI 3 description of the HTTP API; a test keeps it in step with the routes."""

from __future__ import annotations

from typing import Any

from models.enums import (
    CUSTOM_ENDPOINTS,
    Endpoint,
    EventAction,
    EventStatus,
    LeadStatus,
    StatusOutcome,
    StatusReason,
)
from worker.ingest.conversions import TYPE_NAMES

_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_DATETIME = {"type": ["string", "null"], "format": "date-time"}
_INT = {"type": "integer"}
_NULLABLE_INT = {"type": ["integer", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["count", "next", "previous", "results"],
        "properties": {
            "count": _INT,
            "next": _NULLABLE_STRING,
            "previous": _NULLABLE_STRING,
            "results": {"type": "array", "items": _ref(item)},
        },
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    # An empty value (``?status=``) is taken as no filter, as HTML forms and DRF clients send it.
    return {
        "name": name,
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "schema": schema,
        "description": description,
    }


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


# Integer parameters are compared with PostgreSQL integer columns: beyond this is a 400.
_INT_MAX = 2**31 - 1
_ID = {"type": "integer", "minimum": 1, "maximum": _INT_MAX}
_PAGING = [
    _query("page", _ID, "page number, from 1"),
    _query("page_size", _ID, "results per page; more than 500 is taken as 500"),
]


def _retry_later(description: str) -> dict[str, Any]:
    response = _error(description)
    response["headers"] = {
        "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
    }
    return response


_DATABASE_DOWN = _retry_later("database unreachable; retry after Retry-After")
_AUTH_ERRORS = {
    "401": _error("missing or invalid token"),
    "404": _error("not found"),
    "503": _DATABASE_DOWN,
}
_READINESS = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": _STRING,
        "checks": {"type": "object", "additionalProperties": _STRING},
    },
}

_LEAD = {
    "type": "object",
    "properties": {
        "id": _INT,
        "phone_number": _STRING,
        "email": _NULLABLE_STRING,
        "external_id": _NULLABLE_STRING,
        "us_state": _NULLABLE_STRING,
        "lead_source": _NULLABLE_STRING,
        "metadata": {"type": "object"},
        "status": {"type": "string", "enum": [s.value for s in LeadStatus]},
        "status_outcome": {
            "type": ["string", "null"],
            "enum": [*(s.value for s in StatusOutcome), None],
        },
        "status_reason": {
            "type": ["string", "null"],
            "enum": [*(s.value for s in StatusReason), None],
        },
        "campaign": _INT,
        "representative": _NULLABLE_INT,
        "lead_type": _NULLABLE_INT,
        "sms_dnc": {"type": "boolean"},
        "call_dnc": {"type": "boolean"},
        "created_time": _DATETIME,
        "modified_time": _DATETIME,
        "received_time": _DATETIME,
        "reengagements_count": _INT,
        "last_reengagement_time": _DATETIME,
        "next_call_time": _DATETIME,
        "next_call_time_reason": _NULLABLE_STRING,
        "call_schedule_start_time": _DATETIME,
        "timezone": _NULLABLE_STRING,
    },
}
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
_FIELD_ERROR = {
    "type": "object",
    "required": ["field", "message"],
    "properties": {"field": _STRING, "message": _STRING},
}
_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "config": {"type": "string", "format": "uuid"},
        "endpoint": {"type": "string", "enum": [e.value for e in Endpoint]},
        "status": {"type": "string", "enum": [s.value for s in EventStatus]},
        "action": {"type": ["string", "null"], "enum": [*(a.value for a in EventAction), None]},
        "lead_id": _NULLABLE_INT,
        "matched_by": _NULLABLE_STRING,
        "errors": {"type": "array", "items": _ref("FieldError")},
        "warnings": {"type": "array", "items": {"type": "object"}},
        "attempts": _INT,
        "received_time": _DATETIME,
        "processed_time": _DATETIME,
        "next_attempt_time": _DATETIME,
        "last_error": _NULLABLE_STRING,
        "idempotency_key": _NULLABLE_STRING,
    },
}
_ACCEPTED = {
    "type": "object",
    "required": ["id", "status", "status_url"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": _STRING,
        "status_url": _STRING,
    },
}
_ERROR = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": _STRING,
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": _STRING}},
    },
}
_DRY_RUN = {
    "type": "object",
    "required": ["would", "lead_id", "matched_by", "lead", "errors", "warnings"],
    "properties": {
        "would": {
            "type": "string",
            "enum": [
                "create",
                "update",
                "unchanged",
                "duplicate",
                "reengage",
                "stale",
                "fail",
            ],
        },
        "lead_id": _NULLABLE_INT,
        "matched_by": _NULLABLE_STRING,
        "lead": {"type": "object"},
        "changed": {"type": "array", "items": _STRING},
        "errors": {"type": "array", "items": _ref("FieldError")},
        "warnings": {"type": "array", "items": {"type": "object"}},
    },
}

_PAYLOAD_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
    },
}
_INGEST_PARAMETERS = [
    _path("config_uuid", {"type": "string", "format": "uuid"}),
    _query(
        "wait",
        {"type": "number", "minimum": 0},
        "seconds to wait for the outcome; more than 30 is taken as 30",
    ),
    {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "schema": _STRING,
        "description": "wait=N",
    },
    {"name": "Idempotency-Key", "in": "header", "required": False, "schema": _STRING},
]
_INGEST_ERRORS = {
    "400": _error("the body is not a JSON object or a form"),
    "401": _error("missing or invalid token"),
    "403": _error("a token of another organization"),
    "404": _error("unknown or inactive config"),
    "409": _error("idempotency key reused with another body"),
    "413": _error("body too large"),
    "415": _error("unsupported content type"),
    "429": _retry_later("over the config's rate limit; retry after Retry-After"),
    "503": _DATABASE_DOWN,
}


def _ingest_operation(summary: str, operation_id: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "parameters": _INGEST_PARAMETERS,
        "requestBody": _PAYLOAD_BODY,
        "responses": {
            "201": _json(_ref("Lead"), "created (when waiting)"),
            "200": _json(
                _ref("Lead"), "updated, unchanged, reengaged, duplicate or stale (when waiting)"
            ),
            "202": _json(_ref("Accepted"), "accepted and queued"),
            "422": _error("the payload failed validation (when waiting)"),
            **_INGEST_ERRORS,
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
        "400": _error("the body or a field is invalid (errors by field)"),
        "401": _error("missing or invalid token"),
        "404": _error("no such lead" if path_id else "no lead matches"),
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


def _plain(
    operation_id: str, summary: str, description: str, not_ready: bool = False
) -> dict[str, Any]:
    responses = {"200": _json({"type": "object"}, description)}
    if not_ready:
        responses["503"] = _json(_READINESS, "not ready: the checks say what is unreachable")
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "security": [],
            "responses": responses,
        }
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every endpoint."""
    event_id = _path("event_id", {"type": "string", "format": "uuid"})
    return {
        "openapi": "3.1.0",
        "info": {"title": "leadgate", "version": "0.1.0", "description": "Lead ingestion API."},
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "Token <token>",
                },
            },
            "schemas": {
                "Lead": _LEAD,
                "Event": _EVENT,
                "FieldError": _FIELD_ERROR,
                "Accepted": _ACCEPTED,
                "Error": _ERROR,
                "DryRun": _DRY_RUN,
                "LeadPage": _page("Lead"),
                "LeadType": _LEAD_TYPE,
                "BulkResults": _BULK_RESULTS,
                "LeadTypePage": _page("LeadType"),
                "EventPage": _page("Event"),
            },
        },
        "security": [{"token": []}],
        "paths": {
            "/api/lead-ingestion/{config_uuid}/": {
                "post": _ingest_operation("Create a lead from a custom payload", "createLead")
            },
            "/api/lead-ingestion/{config_uuid}/upsert/": {
                "post": _ingest_operation(
                    "Create or update a lead from a custom payload", "upsertLead"
                )
            },
            "/api/lead-ingestion/{config_uuid}/dry-run/": {
                "post": {
                    "operationId": "dryRun",
                    "summary": "What an upsert (or a create) would do, without writing",
                    "parameters": [
                        _INGEST_PARAMETERS[0],
                        _query(
                            "endpoint",
                            {"type": "string", "enum": [e.value for e in CUSTOM_ENDPOINTS]},
                            "the endpoint to answer for (default upsert)",
                        ),
                    ],
                    "requestBody": _PAYLOAD_BODY,
                    "responses": {
                        "200": _json(_ref("DryRun"), "the would-be outcome"),
                        **_INGEST_ERRORS,
                    },
                }
            },
            "/api/ingestion-events/": {
                "get": {
                    "operationId": "listEvents",
                    "summary": "Events of the token's organization",
                    "parameters": [
                        _query("config", {"type": "string", "format": "uuid"}, "config UUID"),
                        _query(
                            "status",
                            {"type": "string", "enum": [s.value for s in EventStatus]},
                            "status",
                        ),
                        _query(
                            "action",
                            {"type": "string", "enum": [a.value for a in EventAction]},
                            "action",
                        ),
                        _query(
                            "since",
                            {"type": "string", "format": "date-time"},
                            "received at or after",
                        ),
                        *_PAGING,
                    ],
                    "responses": {
                        "200": _json(_ref("EventPage"), "a page of events"),
                        "400": _error("bad filter"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/ingestion-events/{event_id}/": {
                "get": {
                    "operationId": "getEvent",
                    "summary": "One event",
                    "parameters": [event_id],
                    "responses": {"200": _json(_ref("Event"), "the event"), **_AUTH_ERRORS},
                }
            },
            "/api/ingestion-events/{event_id}/replay/": {
                "post": {
                    "operationId": "replayEvent",
                    "summary": "Run a failed or dead event again",
                    "parameters": [event_id],
                    "responses": {
                        "202": _json(_ref("Accepted"), "queued again"),
                        "409": _error("the event is not failed or dead"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/leads/": {
                "post": _standard_operation(
                    "createStandardLead",
                    "Create a lead from the standard format",
                    _CREATE_DESCRIPTION,
                    "reengaged, or a duplicate (the existing lead)",
                ),
                "get": {
                    "operationId": "listLeads",
                    "summary": "Leads of the token's organization",
                    "parameters": [
                        _query("external_id", _STRING, "exact external id"),
                        _query("phone_number", _STRING, "any accepted phone format"),
                        _query("email", _STRING, "email, any case"),
                        _query("campaign", _ID, "campaign id"),
                        _query(
                            "status",
                            {"type": "string", "enum": [s.value for s in LeadStatus]},
                            "status",
                        ),
                        _query(
                            "modified_after",
                            {"type": "string", "format": "date-time"},
                            "modified after",
                        ),
                        *_PAGING,
                    ],
                    "responses": {
                        "200": _json(_ref("LeadPage"), "a page of leads"),
                        "400": _error("bad filter"),
                        **_AUTH_ERRORS,
                    },
                },
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
                "get": {
                    "operationId": "getLead",
                    "summary": "One lead",
                    "parameters": [_path("lead_id", _INT)],
                    "responses": {"200": _json(_ref("Lead"), "the lead"), **_AUTH_ERRORS},
                },
            },
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
            "/healthz": _plain("healthz", "Liveness", "the process is up"),
            "/readyz": _plain(
                "readyz", "Readiness: database and broker reachable", "ready", not_ready=True
            ),
            "/openapi.json": _plain("openapi", "This document", "the OpenAPI document"),
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics (Bearer LEADGATE_METRICS_TOKEN when set)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "401": _error("LEADGATE_METRICS_TOKEN is set and was not given"),
                    },
                }
            },
        },
    }
