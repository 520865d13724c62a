"""The data-trust part of the OpenAPI document: blocked identifiers and placeholders."""

from __future__ import annotations

from typing import Any

from webhook.openapi_document import (
    _AUTH_ERRORS,
    _INT,
    _PAGING,
    _error,
    _json,
    _page,
    _path,
    _query,
    _ref,
)
from worker.ingest.hygiene import KINDS

_KIND = {"type": "string", "enum": list(KINDS)}
_BLOCKED_IDENTIFIER = {
    "type": "object",
    "required": ["id", "kind", "value", "created_time"],
    "properties": {
        "id": _INT,
        "kind": _KIND,
        "value": {"type": "string", "description": "E.164, a lower-cased email or @domain"},
        "created_time": {"type": "string", "format": "date-time"},
    },
}
_NEW_BLOCKED_IDENTIFIER = {
    "type": "object",
    "required": ["kind", "value"],
    "additionalProperties": False,
    "properties": {
        "kind": _KIND,
        "value": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": "a phone number, an email address or @domain, or a placeholder",
        },
    },
}

_QUARANTINED_IDENTIFIER = {
    "type": "object",
    "required": ["id", "kind", "value", "claimants", "quarantined_time"],
    "properties": {
        "id": _INT,
        "kind": {"type": "string", "enum": ["phone_number", "email"]},
        "value": {"type": "string"},
        "claimants": {**_INT, "description": "distinct external ids when it was quarantined"},
        "quarantined_time": {"type": "string", "format": "date-time"},
    },
}

_NULLABLE_TEXT = {"type": ["string", "null"]}
_FIELD_CHANGE = {
    "type": "object",
    "required": ["id", "field", "old_value", "new_value", "event", "changed_time"],
    "properties": {
        "id": _INT,
        "field": {"type": "string", "description": "a lead field, or metadata.KEY"},
        "old_value": {"description": "null when the field had no value"},
        "new_value": {"description": "null when the change cleared it"},
        "event": {"type": ["string", "null"], "format": "uuid"},
        "event_url": _NULLABLE_TEXT,
        "payload_url": _NULLABLE_TEXT,
        "mapping_version": {"type": ["integer", "null"]},
        "changed_time": {"type": "string", "format": "date-time"},
    },
}

_DNC_CHANGE = {
    "type": "object",
    "required": ["id", "channel", "old_value", "new_value", "door", "event", "changed_time"],
    "properties": {
        "id": _INT,
        "channel": {"type": "string", "enum": ["sms", "call"]},
        "old_value": {"type": ["boolean", "null"]},
        "new_value": {"type": "boolean"},
        "door": {"type": "string", "description": "the event's endpoint: upsert, leads.patch, ..."},
        "event": {"type": ["string", "null"], "format": "uuid"},
        "event_url": _NULLABLE_TEXT,
        "changed_time": {"type": "string", "format": "date-time"},
    },
}

_CONSENT_RECORD = {
    "type": "object",
    "required": ["id", "event", "recorded_time"],
    "properties": {
        "id": _INT,
        "trustedform_cert_url": _NULLABLE_TEXT,
        "jornaya_leadid": _NULLABLE_TEXT,
        "text": _NULLABLE_TEXT,
        "ip": _NULLABLE_TEXT,
        "time": {"type": ["string", "null"], "format": "date-time"},
        "source": _NULLABLE_TEXT,
        "event": {"type": ["string", "null"], "format": "uuid"},
        "event_url": _NULLABLE_TEXT,
        "recorded_time": {"type": "string", "format": "date-time"},
    },
}


def trust_schemas() -> dict[str, Any]:
    """The schemas the data-trust operations name."""
    return {
        "BlockedIdentifier": _BLOCKED_IDENTIFIER,
        "NewBlockedIdentifier": _NEW_BLOCKED_IDENTIFIER,
        "BlockedIdentifierPage": _page("BlockedIdentifier"),
        "FieldChange": _FIELD_CHANGE,
        "FieldChangePage": _page("FieldChange"),
        "DncChange": _DNC_CHANGE,
        "DncChangePage": _page("DncChange"),
        "ConsentRecord": _CONSENT_RECORD,
        "ConsentRecordPage": _page("ConsentRecord"),
        "QuarantinedIdentifier": _QUARANTINED_IDENTIFIER,
        "QuarantinedIdentifierPage": _page("QuarantinedIdentifier"),
    }


def trust_paths() -> dict[str, Any]:
    """The operations under /api/blocked-identifiers/ and /api/quarantined-identifiers/."""
    blocked_id = _path("blocked_id", {"type": "integer", "minimum": 1})
    quarantined_id = _path("quarantined_id", {"type": "integer", "minimum": 1})
    return {
        "/api/blocked-identifiers/": {
            "get": {
                "operationId": "listBlockedIdentifiers",
                "summary": "The organization's blocked identifiers and placeholder values",
                "parameters": [_query("kind", _KIND, "only entries of this kind"), *_PAGING],
                "responses": {
                    "200": _json(_ref("BlockedIdentifierPage"), "a page of entries"),
                    "400": _error("an unknown kind, or a bad page or page_size"),
                    **_AUTH_ERRORS,
                },
            },
            "post": {
                "operationId": "createBlockedIdentifier",
                "summary": "Block a phone number or email, or add a placeholder value",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewBlockedIdentifier")}},
                },
                "responses": {
                    "201": _json(_ref("BlockedIdentifier"), "the entry, normalized"),
                    "400": _error("kind or value is not valid; errors names it"),
                    "409": _error("the organization already has this entry"),
                    "413": _error("body too large"),
                    **_AUTH_ERRORS,
                },
            },
        },
        "/api/blocked-identifiers/{blocked_id}/": {
            "get": {
                "operationId": "getBlockedIdentifier",
                "summary": "One blocked identifier or placeholder value",
                "parameters": [blocked_id],
                "responses": {"200": _json(_ref("BlockedIdentifier"), "the entry"), **_AUTH_ERRORS},
            },
            "delete": {
                "operationId": "deleteBlockedIdentifier",
                "summary": "Remove an entry: the value is matched and stored again",
                "parameters": [blocked_id],
                "responses": {"204": {"description": "removed"}, **_AUTH_ERRORS},
            },
        },
        "/api/quarantined-identifiers/": {
            "get": {
                "operationId": "listQuarantinedIdentifiers",
                "summary": "Phone numbers and emails quarantined for fan-in: not used to match",
                "parameters": _PAGING,
                "responses": {
                    "200": _json(_ref("QuarantinedIdentifierPage"), "a page of them"),
                    "400": _error("a bad page or page_size"),
                    **_AUTH_ERRORS,
                },
            },
        },
        "/api/quarantined-identifiers/{quarantined_id}/": {
            "get": {
                "operationId": "getQuarantinedIdentifier",
                "summary": "One quarantined identifier",
                "parameters": [quarantined_id],
                "responses": {
                    "200": _json(_ref("QuarantinedIdentifier"), "the identifier"),
                    **_AUTH_ERRORS,
                },
            },
            "delete": {
                "operationId": "releaseQuarantinedIdentifier",
                "summary": "Release it: it matches again and its claims start afresh",
                "parameters": [quarantined_id],
                "responses": {"204": {"description": "released"}, **_AUTH_ERRORS},
            },
        },
        "/api/leads/{lead_id}/history/": {
            "get": {
                "operationId": "getLeadHistory",
                "summary": "Every change to the lead's fields, with the event that made it",
                "parameters": [
                    _path("lead_id", {"type": "integer", "minimum": 1}),
                    _query("field", {"type": "string"}, "only this field (metadata.KEY too)"),
                    _query(
                        "since", {"type": "string", "format": "date-time"}, "changed at or after"
                    ),
                    *_PAGING,
                ],
                "responses": {
                    "200": _json(_ref("FieldChangePage"), "a page of changes, oldest first"),
                    "400": _error("a bad since, page or page_size"),
                    **_AUTH_ERRORS,
                },
            },
        },
        "/api/leads/{lead_id}/dnc/": {
            "get": {
                "operationId": "getLeadDncLedger",
                "summary": "Every change of the lead's DNC flags: channel, old, new, door, event",
                "parameters": [_path("lead_id", {"type": "integer", "minimum": 1}), *_PAGING],
                "responses": {
                    "200": _json(_ref("DncChangePage"), "a page of ledger rows, oldest first"),
                    "400": _error("a bad page or page_size"),
                    **_AUTH_ERRORS,
                },
            },
        },
        "/api/leads/{lead_id}/consent/": {
            "get": {
                "operationId": "getLeadConsent",
                "summary": "The lead's consent evidence, one record per event that gave some",
                "parameters": [_path("lead_id", {"type": "integer", "minimum": 1}), *_PAGING],
                "responses": {
                    "200": _json(_ref("ConsentRecordPage"), "a page of records, oldest first"),
                    "400": _error("a bad page or page_size"),
                    **_AUTH_ERRORS,
                },
            },
        },
    }
