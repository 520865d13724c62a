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


def trust_schemas() -> dict[str, Any]:
    """The schemas the data-trust operations name."""
    return {
        "BlockedIdentifier": _BLOCKED_IDENTIFIER,
        "NewBlockedIdentifier": _NEW_BLOCKED_IDENTIFIER,
        "BlockedIdentifierPage": _page("BlockedIdentifier"),
    }


def trust_paths() -> dict[str, Any]:
    """The operations under /api/blocked-identifiers/."""
    entry_id = _path("entry_id", {"type": "integer", "minimum": 1})
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
        "/api/blocked-identifiers/{entry_id}/": {
            "get": {
                "operationId": "getBlockedIdentifier",
                "summary": "One blocked identifier or placeholder value",
                "parameters": [entry_id],
                "responses": {"200": _json(_ref("BlockedIdentifier"), "the entry"), **_AUTH_ERRORS},
            },
            "delete": {
                "operationId": "deleteBlockedIdentifier",
                "summary": "Remove an entry: the value is matched and stored again",
                "parameters": [entry_id],
                "responses": {"204": {"description": "removed"}, **_AUTH_ERRORS},
            },
        },
    }
