"""File ingestion's part of the OpenAPI document: uploads, their signed PUT, status, errors."""

from __future__ import annotations

from typing import Any

from webhook.openapi_document import (
    _AUTH_ERRORS,
    _DATABASE_DOWN,
    _INT,
    _NULLABLE_INT,
    _NULLABLE_STRING,
    _STRING,
    _error,
    _json,
    _path,
    _ref,
)

_STATUS = {"type": "string", "enum": ["awaiting_upload", "processing", "done", "failed"]}
_COUNTS = {"type": "object", "additionalProperties": _INT}
_MOMENT = {"type": ["string", "null"], "format": "date-time"}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_UPLOAD_ID = _path("upload_id", {"type": "string", "format": "uuid"})

_NEW_UPLOAD = {
    "type": "object",
    "required": ["source", "filename"],
    "properties": {
        "source": {
            "type": "string",
            "pattern": "\\S",
            "description": "an ingestion config's id or name",
        },
        "filename": {"type": "string", "pattern": "\\S", "maxLength": 255},
    },
}
_CREATED_UPLOAD = {
    "type": "object",
    "required": ["id", "signed_url", "expires_at", "status"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "signed_url": {
            "type": "string",
            "description": "PUT the file here, without a token; valid for one hour, once",
        },
        "expires_at": {"type": "string", "format": "date-time"},
        "status": _STATUS,
    },
}
_UPLOAD = {
    "type": "object",
    "required": ["id", "status", "rows_total", "rows_done", "actions", "failed_fields"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "source": {"type": "string", "format": "uuid"},
        "filename": _STRING,
        "status": _STATUS,
        "failure_reason": _NULLABLE_STRING,
        "size_bytes": _NULLABLE_INT,
        "sha256": _NULLABLE_STRING,
        "rows_total": _NULLABLE_INT,
        "rows_done": _INT,
        "rows_failed": _INT,
        "actions": {
            **_COUNTS,
            "description": "rows by what they did: created, updated, unchanged, reengaged, "
            "duplicate, stale, failed, already_imported (applied by an earlier upload of the "
            "same file), retrying",
        },
        "failed_fields": {**_COUNTS, "description": "failed rows by field; row: the row itself"},
        "timings": {
            "type": "object",
            "properties": {
                "created_time": _MOMENT,
                "expires_time": _MOMENT,
                "file_received_time": _MOMENT,
                "started_time": _MOMENT,
                "finished_time": _MOMENT,
                "seconds": _NUMBER_OR_NULL,
                "rows_per_second": _NUMBER_OR_NULL,
            },
        },
        "errors_url": _NULLABLE_STRING,
    },
}


def upload_schemas() -> dict[str, Any]:
    """The schemas this part adds."""
    return {"NewUpload": _NEW_UPLOAD, "CreatedUpload": _CREATED_UPLOAD, "Upload": _UPLOAD}


def upload_paths() -> dict[str, dict[str, Any]]:
    """The operations this part adds, by path."""
    return {
        "/api/ingestion/upload/": {
            "post": {
                "operationId": "createUpload",
                "summary": "Ask for a signed URL to upload a CSV file of leads to",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewUpload")}},
                },
                "responses": {
                    "201": _json(_ref("CreatedUpload"), "the upload, awaiting its file"),
                    "400": _error("source or filename missing or malformed"),
                    "415": _error("the body is not JSON"),
                    **_AUTH_ERRORS,
                },
            }
        },
        "/api/ingestion/uploads/{upload_id}/file/": {
            "put": {
                "operationId": "putUploadFile",
                "summary": "Send the upload's file to its signed URL (no token)",
                "description": "A CSV with a header row, UTF-8 (a BOM is fine), comma, "
                "semicolon or tab delimited, up to LEADGATE_UPLOAD_MAX_BYTES. A file without a "
                "header row or with bytes that are not UTF-8 fails the upload (400, with the "
                "reason); rows are then imported by the worker, in file order.",
                "security": [],
                "parameters": [
                    _UPLOAD_ID,
                    {
                        "name": "signature",
                        "in": "query",
                        "required": True,
                        "schema": _STRING,
                        "description": "from the signed URL",
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": _json(_ref("Upload"), "stored; the import has started"),
                    "400": _error("the file has no header row or is not UTF-8: the upload failed"),
                    "403": _error("the signature is wrong, expired or already used"),
                    "404": _error("no such upload"),
                    "413": _error("the file is over the size limit: the upload failed"),
                    "503": _DATABASE_DOWN,
                },
            }
        },
        "/api/ingestion/uploads/{upload_id}/": {
            "get": {
                "operationId": "getUpload",
                "summary": "An upload's status, row counts by action and field, and timings",
                "parameters": [_UPLOAD_ID],
                "responses": {"200": _json(_ref("Upload"), "the upload"), **_AUTH_ERRORS},
            }
        },
        "/api/ingestion/uploads/{upload_id}/errors.csv": {
            "get": {
                "operationId": "getUploadErrors",
                "summary": "The rows that failed, with error_field and error_message columns",
                "parameters": [_UPLOAD_ID],
                "responses": {
                    "200": {
                        "description": "the failed rows as CSV, ready to fix and upload again",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    **_AUTH_ERRORS,
                    "404": _error("no such upload, or no row of it failed"),
                    "503": _DATABASE_DOWN,
                },
            }
        },
    }
