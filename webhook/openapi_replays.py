"""The OpenAPI pieces of the replay operations (webhook.views.replays)."""

from __future__ import annotations

from typing import Any

from models.enums import Endpoint, EventAction
from models.replay_job import ReplayJobStatus
from worker.dry_run import WOULD_VALUES
from worker.replay import REPLAYABLE
from worker.replay_jobs import DEAD, PENDING
from worker.replay_plan import SAMPLE_SIZE

_INT_MAX = 2**31 - 1
_COUNT = {"type": "integer", "minimum": 0}
_COUNTS = {"type": "object", "additionalProperties": _COUNT}
_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_REPLAYABLE = {"type": "string", "enum": [status.value for status in REPLAYABLE]}
_TEXT = {"type": ["string", "null"], "minLength": 1}
_FIELD_ERROR = {"$ref": "#/components/schemas/FieldError"}

# The events list's filters, as a JSON object; null or a key left out is no filter.
_FILTER = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "description": "the events list's filters; status defaults to failed and dead",
    "properties": {
        "config": {"type": ["string", "null"], "format": "uuid"},
        "status": {
            "oneOf": [
                _REPLAYABLE,
                {"type": "array", "items": _REPLAYABLE},
                {"type": "null"},
            ],
            "description": "failed, dead or both (the default)",
        },
        "action": {
            "oneOf": [
                {"type": "string", "enum": [action.value for action in EventAction]},
                {
                    "type": "array",
                    "items": {"type": "string", "enum": [action.value for action in EventAction]},
                },
                {"type": "null"},
            ]
        },
        "endpoint": {"type": ["string", "null"], "enum": [*(e.value for e in Endpoint), None]},
        "error_field": {**_TEXT, "description": "failed on this field"},
        "lead": {"type": ["integer", "null"], "minimum": 1, "maximum": _INT_MAX},
        "since": {"type": ["string", "null"], "format": "date-time"},
        "until": {"type": ["string", "null"], "format": "date-time"},
        "idempotency_key": _TEXT,
        "payload_contains": {
            "type": ["object", "null"],
            "description": "a JSON object the payload must contain: "
            '{"contact": {"email": "x@y.z"}}',
        },
    },
}
_REPLAY_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "filter": _FILTER,
        "plan": {"type": "boolean", "description": "true: answer the plan, start nothing"},
    },
}
_VERBS = {verb: _COUNT for verb in WOULD_VALUES}
_PLAN = {
    "type": "object",
    "required": ["count", "by_action", "failed_fields", "sample"],
    "properties": {
        "count": _COUNT,
        "by_action": {
            "type": "object",
            "required": list(WOULD_VALUES),
            "properties": _VERBS,
            "description": "predicted action of every matching event (stale: newer events "
            "already touched its lead; it would only fill empty fields)",
        },
        "failed_fields": {**_COUNTS, "description": "events that would fail, by field"},
        "sample": {
            "type": "array",
            "maxItems": SAMPLE_SIZE,
            "items": {
                "type": "object",
                "required": ["event", "would", "lead_id", "fields", "errors"],
                "properties": {
                    "event": {"type": "string", "format": "uuid"},
                    "config": {"type": "string", "format": "uuid"},
                    "endpoint": {"type": "string"},
                    "status": _REPLAYABLE,
                    "received_time": _TIME,
                    "would": {"type": "string", "enum": list(WOULD_VALUES)},
                    "lead_id": {"type": ["integer", "null"]},
                    "matched_by": {"type": ["string", "null"]},
                    "fields": {
                        "type": "object",
                        "description": "the fields it would write (failing: what it maps to)",
                    },
                    "errors": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/FieldError"},
                    },
                    "warnings": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
    },
}
_JOB = {
    "type": "object",
    "required": ["id", "status", "filter", "total", "done", "by_action", "failed_fields"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": [status.value for status in ReplayJobStatus]},
        "filter": {"type": "object"},
        "total": {**_COUNT, "description": "matching events when the job started"},
        "done": {**_COUNT, "description": "events replayed so far"},
        "by_action": {
            **_COUNTS,
            "description": f"what the replayed events did; {PENDING}: a transient error sent "
            f"it back to the retry path, {DEAD}: it ran out of attempts",
        },
        "failed_fields": {**_COUNTS, "description": "replayed events that failed, by field"},
        "started_by": {"type": "string"},
        "started_time": _TIME,
        "modified_time": _TIME,
        "finished_time": _NULLABLE_TIME,
        "error": {"type": ["string", "null"]},
    },
}
REPLAY_SCHEMAS: dict[str, Any] = {
    "ReplayRequest": _REPLAY_REQUEST,
    "ReplayPlan": _PLAN,
    "ReplayJob": _JOB,
}


def replay_paths(
    ref: Any, json: Any, error: Any, page: Any, path: Any, paging: list[Any], auth: dict[str, Any]
) -> dict[str, Any]:
    """The operations under /api/replays/; the helpers are openapi_document's own."""
    job_id = path("job_id", {"type": "string", "format": "uuid"})
    unauthorized = {code: answer for code, answer in auth.items() if code != "404"}
    found = {**unauthorized, "404": error("no such replay job in the organization")}
    return {
        "/api/replays/": {
            "post": {
                "operationId": "startReplay",
                "summary": "Plan a replay of the filter's failed and dead events, or start it",
                "description": "With plan: true, the predicted action of every matching event "
                "and a sample, changing nothing. Without, a replay job that runs them in "
                "receive order, a chunk at a time; follow it at its Location.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("ReplayRequest")}},
                },
                "responses": {
                    "200": json(ref("ReplayPlan"), "the plan"),
                    "202": {
                        **json(ref("ReplayJob"), "the job, started"),
                        "headers": {
                            "Location": {"description": "the job", "schema": {"type": "string"}}
                        },
                    },
                    "400": error("a filter (or key) that is not valid; errors names it"),
                    "413": error("body too large"),
                    "415": error("not application/json"),
                    **unauthorized,
                    "503": error("the database or the broker is unreachable; retry later"),
                },
            },
            "get": {
                "operationId": "listReplays",
                "summary": "Replay jobs of the token's organization, newest first",
                "parameters": paging,
                "responses": {
                    "200": json(page("ReplayJob"), "a page of replay jobs"),
                    "400": error("bad page or page_size"),
                    **unauthorized,
                },
            },
        },
        "/api/replays/{job_id}/": {
            "get": {
                "operationId": "getReplay",
                "summary": "One replay job: status, progress, outcomes so far",
                "parameters": [job_id],
                "responses": {"200": json(ref("ReplayJob"), "the job"), **found},
            }
        },
        "/api/replays/{job_id}/cancel/": {
            "post": {
                "operationId": "cancelReplay",
                "summary": "Stop a running replay job before its next chunk",
                "parameters": [job_id],
                "responses": {
                    "200": json(ref("ReplayJob"), "cancelled (the chunk under way finishes)"),
                    "409": error("the job is done or failed already"),
                    **found,
                },
            }
        },
    }
