"""The OpenAPI 3 description of the HTTP API; a test keeps it in step with the routes."""

from __future__ import annotations

from typing import Any

from models.enums import (
    CUSTOM_ENDPOINTS,
    AuthMode,
    Endpoint,
    EventAction,
    EventStatus,
    LeadStatus,
    StatusOutcome,
    StatusReason,
)
from models.webhook import DeliveryStatus, PayloadFormat, WebhookTrigger
from webhook.openapi_callbacks import add_callbacks
from webhook.openapi_configs import CONFIG_SCHEMAS, config_paths
from webhook.openapi_health import health_paths, health_schemas
from webhook.openapi_replays import REPLAY_SCHEMAS, replay_paths
from webhook.openapi_test_mode import INCLUDE_TEST_PARAMETER, TEST_HEADER_PARAMETER
from webhook.outcome import MAX_WAIT_SECONDS

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
        "is_test": {
            "type": "boolean",
            "description": "a test lead (Leadgate-Test: true, or a config marked test)",
        },
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
        "match_explanation": {
            "type": "array",
            "description": "each match key tried: {key, skipped?, candidates: [{lead_id, taken,"
            " reason}]}",
            "items": {"type": "object"},
        },
        "attempts": _INT,
        "received_time": _DATETIME,
        "processed_time": _DATETIME,
        "next_attempt_time": _DATETIME,
        "last_error": _NULLABLE_STRING,
        "idempotency_key": _NULLABLE_STRING,
        "mapping_version": _NULLABLE_INT,
        "is_test": {"type": "boolean", "description": "a test-mode event"},
        "raw_body_purged_time": {
            **_DATETIME,
            "description": "when LEADGATE_RAW_BODY_RETENTION_DAYS emptied the raw body; null"
            " while it is kept",
        },
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
# What an anonymous caller of an open config is answered instead of the lead: the outcome only.
_ANONYMOUS_OUTCOME = {
    "type": "object",
    "required": ["id", "status", "action", "errors"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": _STRING,
        "action": {"type": ["string", "null"]},
        "errors": {"type": "object"},
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
        "match_explanation": {"type": "array", "items": {"type": "object"}},
        "is_test": {"type": "boolean", "description": "answered for a test-mode event"},
        "decoded": {
            "type": "object",
            "description": "the mapping's decode keys as the rules saw them (when it has any)",
        },
    },
}

_MAPPING_TEMPLATE = {
    "type": "object",
    "required": ["name", "title", "description", "auth_mode", "auth_settings", "needs", "mapping"],
    "properties": {
        "name": _STRING,
        "title": _STRING,
        "description": _STRING,
        "auth_mode": {"type": "string", "enum": [mode.value for mode in AuthMode]},
        "auth_settings": {"type": "object", "additionalProperties": _STRING},
        "needs": {"type": "array", "items": _STRING},
        "idempotency_key": _NULLABLE_STRING,
        "mapping": {"type": "object"},
    },
}

_TRIGGER = {"type": "string", "enum": [t.value for t in WebhookTrigger]}
_FORMAT = {"type": "string", "enum": [f.value for f in PayloadFormat]}
_WEBHOOK_FIELDS: dict[str, Any] = {
    "url": {
        "type": "string",
        "minLength": 1,
        "maxLength": 2048,
        "description": "http(s) URL; {{field}} placeholders are filled from the lead "
        "(dot notation)",
    },
    "trigger": _TRIGGER,
    "filter_condition": {
        "type": ["string", "null"],
        "description": "JMESPath over the lead; the webhook fires when it is truthy",
    },
    "payload_format": _FORMAT,
    "disabled": {"type": "boolean"},
    "disabled_reason": _NULLABLE_STRING,
}
_WEBHOOK = {
    "type": "object",
    "required": ["id", "url", "trigger", "payload_format", "disabled"],
    "properties": {
        "id": _INT,
        **_WEBHOOK_FIELDS,
        "previous_secret_expires_time": _DATETIME,
        "created_time": _DATETIME,
        "modified_time": _DATETIME,
    },
}
_WEBHOOK_WITH_SECRET = {
    "allOf": [
        {"$ref": "#/components/schemas/Webhook"},
        {
            "type": "object",
            "required": ["secret"],
            "properties": {
                "secret": {"type": "string", "description": "whsec_...; shown only here"}
            },
        },
    ]
}
_DELIVERY = {
    "type": "object",
    "required": ["id", "webhook", "message_id", "status", "attempts"],
    "properties": {
        "id": _INT,
        "webhook": _INT,
        "message_id": {"type": "string", "description": "the webhook-id header (msg_...)"},
        "lead_id": _NULLABLE_INT,
        "trigger": _TRIGGER,
        "url": _STRING,
        "status": {"type": "string", "enum": [s.value for s in DeliveryStatus]},
        "attempt_count": _INT,
        "attempts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "time": _DATETIME,
                    "status_code": _NULLABLE_INT,
                    "duration_ms": _INT,
                    "body": {"type": "string", "description": "the first 1 KiB of the answer"},
                    "error": _NULLABLE_STRING,
                },
            },
        },
        "next_attempt_time": _DATETIME,
        "created_time": _DATETIME,
        "finished_time": _DATETIME,
    },
}


def _webhook_body(required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": _WEBHOOK_FIELDS,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_WEBHOOK_ID = _path("webhook_id", _ID)
_DELIVERY_ID = _path("delivery_id", {"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
_BODY_ERRORS = {
    "400": _error("the body is not JSON, or a field is not valid (errors names each)"),
    "413": _error("body too large"),
}


def _webhook_paths() -> dict[str, Any]:
    return {
        "/api/webhooks/": {
            "post": {
                "operationId": "createWebhook",
                "summary": "Create a lead webhook; the answer carries its secret, once",
                "requestBody": _webhook_body(["url", "trigger"]),
                "responses": {
                    "201": _json(_ref("WebhookWithSecret"), "created"),
                    **_BODY_ERRORS,
                    **_AUTH_ERRORS,
                },
            },
            "get": {
                "operationId": "listWebhooks",
                "summary": "Lead webhooks of the token's organization",
                "parameters": _PAGING,
                "responses": {
                    "200": _json(_ref("WebhookPage"), "a page of webhooks"),
                    "400": _error("bad paging"),
                    **_AUTH_ERRORS,
                },
            },
        },
        "/api/webhooks/{webhook_id}/": {
            "get": {
                "operationId": "getWebhook",
                "summary": "One webhook",
                "parameters": [_WEBHOOK_ID],
                "responses": {"200": _json(_ref("Webhook"), "the webhook"), **_AUTH_ERRORS},
            },
            "patch": {
                "operationId": "updateWebhook",
                "summary": "Change a webhook; disabled: false enables it again",
                "parameters": [_WEBHOOK_ID],
                "requestBody": _webhook_body([]),
                "responses": {
                    "200": _json(_ref("Webhook"), "the webhook"),
                    **_BODY_ERRORS,
                    **_AUTH_ERRORS,
                },
            },
            "delete": {
                "operationId": "deleteWebhook",
                "summary": "Delete a webhook and its delivery log",
                "parameters": [_WEBHOOK_ID],
                "responses": {"204": {"description": "deleted"}, **_AUTH_ERRORS},
            },
        },
        "/api/webhooks/{webhook_id}/rotate-secret/": {
            "post": {
                "operationId": "rotateWebhookSecret",
                "summary": "A new secret, shown once; the old one signs beside it for 24 h",
                "parameters": [_WEBHOOK_ID],
                "responses": {
                    "200": _json(_ref("WebhookWithSecret"), "the webhook and its new secret"),
                    **_AUTH_ERRORS,
                },
            }
        },
        "/api/webhooks/{webhook_id}/deliveries/": {
            "get": {
                "operationId": "listWebhookDeliveries",
                "summary": "The webhook's deliveries, newest first, with their attempts",
                "parameters": [
                    _WEBHOOK_ID,
                    _query(
                        "status",
                        {"type": "string", "enum": [s.value for s in DeliveryStatus]},
                        "status",
                    ),
                    *_PAGING,
                ],
                "responses": {
                    "200": _json(_ref("DeliveryPage"), "a page of deliveries"),
                    "400": _error("bad filter"),
                    **_AUTH_ERRORS,
                },
            }
        },
        "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver/": {
            "post": {
                "operationId": "redeliverWebhookDelivery",
                "summary": "Send a delivered or failed delivery again (same webhook-id)",
                "parameters": [_WEBHOOK_ID, _DELIVERY_ID],
                "responses": {
                    "202": _json(_ref("Delivery"), "queued again"),
                    "409": _error("still being sent, or the webhook is disabled"),
                    **_AUTH_ERRORS,
                },
            }
        },
    }


_PAYLOAD_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
        # Fields only: a file part is a 415 unless the config ignores file parts.
        # RFC 2046 needs at least one part: an empty multipart body is a 400.
        # Fields are text parts.
        "multipart/form-data": {
            "schema": {"type": "object", "minProperties": 1, "additionalProperties": _STRING}
        },
    },
}
_MAX_WAIT = f"{MAX_WAIT_SECONDS:g}"
_INGEST_PARAMETERS = [
    _path("config_uuid", {"type": "string", "format": "uuid"}),
    _query(
        "wait",
        {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS},
        f"seconds to wait for the outcome, at most {_MAX_WAIT}",
    ),
    {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "schema": _STRING,
        "description": f"wait=N (RFC 7240): as ?wait=N; a preference above {_MAX_WAIT} waits"
        f" {_MAX_WAIT} s",
    },
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": _STRING,
        "description": "the same key on this config within 7 days answers with the first event",
    },
    TEST_HEADER_PARAMETER,
]


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": _STRING}


_REPLAYED = _header("true when the Idempotency-Key was seen before: this is the first event")
_EVENT_HEADERS = {
    "Ingestion-Event-Id": _header("the event's id"),
    "Content-Location": _header("the event's status URL"),
    "Idempotent-Replayed": _REPLAYED,
}
_INGEST_ERRORS = {
    "400": _error(
        "the body is not a JSON object or a form, the query string does not parse, wait is not"
        f" a number from 0 to {_MAX_WAIT}, the Idempotency-Key is too long, or Leadgate-Test"
        " is not true or false or comes without a token"
    ),
    "401": _error(
        "missing or invalid token; on a provider config, a missing or wrong payload key or "
        "signature"
    ),
    "403": _error("a token of another organization"),
    "404": _error("unknown or inactive config"),
    "409": _error("idempotency key reused with another body"),
    "413": _error("body too large"),
    # Answered by gunicorn before any view runs, as its own plain text.
    "414": {"description": "the request line (the query string) is longer than 4094 bytes"},
    "415": _error("unsupported content type, or a multipart file part (named in errors)"),
    "429": _retry_later("over the config's rate limit; retry after Retry-After"),
    "503": _DATABASE_DOWN,
}


# How a request proves itself depends on the config's auth mode; only the token is a header
# with a fixed name, so the others are described rather than declared as security schemes.
_INGEST_AUTH = (
    "Authentication follows the config's auth mode: `token` (Authorization: Token <token>); "
    "`open` (none); `payload-key` (a shared key at a path of the payload, or in the query "
    "string; removed before the payload is stored); `signature` (an HMAC-SHA256 of the exact "
    "body in the config's header, e.g. Typeform-Signature: sha256=<base64>). A missing or "
    "wrong credential is 401. Bodies: a JSON object, a form, or multipart/form-data fields."
)


def _with_headers(response: dict[str, Any], headers: dict[str, Any]) -> dict[str, Any]:
    return {**response, "headers": headers}


# Query-string parameters of a POST other than ``wait`` are merged into the payload (under the
# body's keys): a free-form object, as OpenAPI spells "any other query parameter". Its values
# have no type: on the wire every one is text, so no type could be refused.
_NO_NUL = "^[^\\x00]*$"
_PAYLOAD_QUERY = {
    "name": "payload",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "schema": {
        "type": "object",
        "propertyNames": {"pattern": _NO_NUL},
        "additionalProperties": {"pattern": _NO_NUL},
    },
    "description": "any other query parameter is a payload field (the body's keys win)",
}


# An anonymous caller (an open config, no Authorization header) never receives stored data.
_LEAD_OR_OUTCOME = {"anyOf": [_ref("Lead"), _ref("AnonymousOutcome")]}
_ANONYMOUS_NOTE = "; an anonymous caller of an open config gets the outcome only, never the lead"


def _ingest_operation(summary: str, operation_id: str) -> dict[str, Any]:
    lead_action = _header("the action taken: created, updated, unchanged, reengaged, ...")
    lead_match = _header("the key that found the lead: external_id, phone_number, email or none")
    lead_headers = {"Lead-Action": lead_action, "Lead-Match": lead_match, **_EVENT_HEADERS}
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": _INGEST_AUTH,
        "parameters": [*_INGEST_PARAMETERS, _PAYLOAD_QUERY],
        "requestBody": _PAYLOAD_BODY,
        "responses": {
            "201": _with_headers(
                _json(_LEAD_OR_OUTCOME, "created (when waiting)" + _ANONYMOUS_NOTE), lead_headers
            ),
            "200": _with_headers(
                _json(
                    _LEAD_OR_OUTCOME,
                    "updated, unchanged, reengaged, duplicate or stale (when waiting)"
                    + _ANONYMOUS_NOTE,
                ),
                lead_headers,
            ),
            "202": _with_headers(
                _json(_ref("Accepted"), "accepted and queued (or still running after the wait)"),
                {"Location": _header("the event's status URL"), "Idempotent-Replayed": _REPLAYED},
            ),
            "422": _with_headers(
                _error("the payload failed validation (when waiting)"), _EVENT_HEADERS
            ),
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
    from webhook.openapi_standard import standard_paths, standard_schemas
    from webhook.openapi_trust import trust_paths, trust_schemas

    document = _document()
    document["components"]["schemas"].update(standard_schemas() | trust_schemas())
    for path, operations in (standard_paths() | trust_paths()).items():
        document["paths"].setdefault(path, {}).update(operations)
    add_callbacks(document)
    _merge(document, health_schemas(), health_paths(_AUTH_ERRORS))
    from webhook.openapi_uploads import upload_paths, upload_schemas

    document["components"]["schemas"].update(upload_schemas())
    document["paths"].update(upload_paths())
    return document


def _merge(document: dict[str, Any], schemas: dict[str, Any], paths: dict[str, Any]) -> None:
    document["components"]["schemas"].update(schemas)
    for path, operations in paths.items():
        document["paths"].setdefault(path, {}).update(operations)


def _document() -> dict[str, Any]:
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
                "AnonymousOutcome": _ANONYMOUS_OUTCOME,
                "Error": _ERROR,
                "DryRun": _DRY_RUN,
                "MappingTemplate": _MAPPING_TEMPLATE,
                "LeadPage": _page("Lead"),
                "EventPage": _page("Event"),
                "Webhook": _WEBHOOK,
                "WebhookWithSecret": _WEBHOOK_WITH_SECRET,
                "Delivery": _DELIVERY,
                "WebhookPage": _page("Webhook"),
                "DeliveryPage": _page("Delivery"),
                **CONFIG_SCHEMAS,
                "ConfigPage": _page("Config"),
                "MappingVersionPage": _page("MappingVersion"),
                **REPLAY_SCHEMAS,
                "ReplayJobPage": _page("ReplayJob"),
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
                    "description": "Needs a token of the config's organization, on open configs "
                    "too: it reads stored leads.",
                    "parameters": [
                        _INGEST_PARAMETERS[0],
                        _PAYLOAD_QUERY,
                        _query(
                            "endpoint",
                            {"type": "string", "enum": [e.value for e in CUSTOM_ENDPOINTS]},
                            "the endpoint to answer for (default upsert)",
                        ),
                        TEST_HEADER_PARAMETER,
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
                        "400": _error(
                            "a filter that is not valid: a config that is not a UUID, an"
                            " unknown status or action, a bad date, payload filter or cursor"
                        ),
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
            "/api/mapping-templates/": {
                "get": {
                    "operationId": "listMappingTemplates",
                    "summary": "Provider templates a config can start from",
                    "responses": {
                        "200": _json(_page("MappingTemplate"), "every template, on one page"),
                        "401": _AUTH_ERRORS["401"],
                        "503": _DATABASE_DOWN,
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
                        INCLUDE_TEST_PARAMETER,
                        *_PAGING,
                    ],
                    "responses": {
                        "200": _json(_ref("LeadPage"), "a page of leads"),
                        "400": _error(
                            "a filter that is not valid: a phone_number that is not a valid"
                            " phone number, an unknown status, a bad date or page, an"
                            " include_test other than true or false"
                        ),
                        **_AUTH_ERRORS,
                    },
                },
            },
            "/api/leads/{lead_id}/": {
                "get": {
                    "operationId": "getLead",
                    "summary": "One lead",
                    "parameters": [_path("lead_id", _INT)],
                    "responses": {"200": _json(_ref("Lead"), "the lead"), **_AUTH_ERRORS},
                },
            },
            **_webhook_paths(),
            **config_paths(_ref, _json, _error, _page, _path, _query, _PAGING, _AUTH_ERRORS),
            **replay_paths(_ref, _json, _error, _page, _path, _PAGING, _AUTH_ERRORS),
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
                        "503": _DATABASE_DOWN,
                    },
                }
            },
        },
    }
