"""The OpenAPI 3 description of the HTTP API; a test keeps it in step with the routes."""

from __future__ import annotations

from typing import Any

from models.enums import Endpoint, EventAction, EventStatus, LeadStatus, StatusOutcome, StatusReason
from webhook.openapi_configs import CONFIG_SCHEMAS, config_paths

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


def _several(values: list[str]) -> dict[str, Any]:
    # Repeated (?status=failed&status=dead) or comma-separated; the document shows one value.
    return {"type": "string", "enum": values}


_EVENT_FILTERS = [
    _query("config", {"type": "string", "format": "uuid"}, "config UUID"),
    _query("status", _several([s.value for s in EventStatus]), "status; repeat for several"),
    _query("action", _several([a.value for a in EventAction]), "action; repeat for several"),
    _query("endpoint", {"type": "string", "enum": [e.value for e in Endpoint]}, "endpoint"),
    _query("error_field", _STRING, "failed on this field (one of its errors names it)"),
    _query("lead", _ID, "lead id"),
    _query("since", {"type": "string", "format": "date-time"}, "received at or after"),
    _query("until", {"type": "string", "format": "date-time"}, "received before"),
    _query("idempotency_key", _STRING, "exact idempotency key"),
    _query(
        "payload_contains",
        {"type": "string", "description": 'a JSON object, e.g. {"contact": {"email": "x@y.z"}}'},
        "a JSON object the parsed payload must contain",
    ),
    _query("cursor", _STRING, "where the page starts: from next or previous"),
    _query("page", {"type": "integer", "minimum": 1, "maximum": 1}, "1 only: pages are cursors"),
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
        "endpoint": {"type": "string", "enum": ["create", "upsert"]},
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
        "mapping_version": _NULLABLE_INT,
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
                "EventPage": _page("Event"),
                **CONFIG_SCHEMAS,
                "ConfigPage": _page("Config"),
                "MappingVersionPage": _page("MappingVersion"),
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
                            {"type": "string", "enum": [e.value for e in Endpoint]},
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
                    "summary": "Events of the token's organization, newest first",
                    "description": (
                        "Cursor pages: follow next and previous. count is exact up to 10,000 "
                        "matching events and PostgreSQL's estimate past that, when the answer "
                        "carries Count-Is-Estimate: true."
                    ),
                    "parameters": _EVENT_FILTERS,
                    "responses": {
                        "200": {
                            **_json(_ref("EventPage"), "a page of events"),
                            "headers": {
                                "Count-Is-Estimate": {
                                    "description": "true when count is an estimate",
                                    "schema": _STRING,
                                }
                            },
                        },
                        "400": _error("bad filter"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/ingestion-events/{event_id}/payload/": {
                "get": {
                    "operationId": "getEventPayload",
                    "summary": "The event's raw body, with the Content-Type it was sent with",
                    "parameters": [event_id],
                    "responses": {
                        "200": {
                            "description": "the body as received; X-Query-String holds the "
                            "POST's query string (percent-encoded where a header needs it)",
                            "headers": {
                                "X-Query-String": {"description": "query string", "schema": _STRING}
                            },
                            "content": {
                                "application/json": {"schema": {}},
                                "application/x-www-form-urlencoded": {"schema": {}},
                            },
                        },
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
                }
            },
            "/api/leads/{lead_id}/": {
                "get": {
                    "operationId": "getLead",
                    "summary": "One lead",
                    "parameters": [_path("lead_id", _INT)],
                    "responses": {"200": _json(_ref("Lead"), "the lead"), **_AUTH_ERRORS},
                }
            },
            **config_paths(_ref, _json, _error, _page, _path, _query, _PAGING, _AUTH_ERRORS),
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
