"""The OpenAPI pieces of a config's health: stats, hold, release (views.config_health)."""

from __future__ import annotations

from typing import Any

from models.enums import EventAction
from webhook.openapi_test_mode import INCLUDE_TEST_PARAMETER
from worker.health.drift import LIMIT_RANGES, REASONS
from worker.health.holds import DRIFT, MANUAL
from worker.health.quarantine import LATEST
from worker.health.stats import DEFAULT_WINDOW, WINDOWS

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_COUNT = {"type": "integer", "minimum": 0}

# A config's own drift limits, in place of the LEADGATE_DRIFT_* settings; null clears them.
DRIFT_LIMITS_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {
        name: {
            "type": "integer" if kind is int else "number",
            "minimum": low,
            "maximum": high,
        }
        for name, (kind, low, high) in LIMIT_RANGES.items()
    },
    "description": "the config's own drift limits, in place of the service's; null clears them",
}

# What a config shows of its hold and its drift alarm (read only; hold_on_drift is writable).
CONFIG_HEALTH_PROPERTIES: dict[str, Any] = {
    "held": {"type": "boolean", "description": "events wait as held until a release"},
    "held_reason": {"type": ["string", "null"], "enum": [MANUAL, DRIFT, None]},
    "held_time": {"type": ["string", "null"], "format": "date-time"},
    "drift_alarm": {
        "oneOf": [{"$ref": "#/components/schemas/DriftAlarm"}, {"type": "null"}],
        "description": "the raised drift alarm, with what triggered it; null when none",
    },
}

_DRIFT_ALARM: dict[str, Any] = {
    "type": "object",
    "required": ["reasons", "paths", "failure_share", "raised_time"],
    "properties": {
        "reasons": {"type": "array", "items": {"type": "string", "enum": list(REASONS)}},
        "raised_time": {"type": "string", "format": "date-time"},
        "paths": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "baseline_share": {"type": "number"},
                    "recent_missing_share": {"type": "number"},
                },
            },
            "description": "mapped sources usually present and now missing",
        },
        "failure_share": {"type": "number", "description": "of the last N events"},
        "recent_events": _COUNT,
        "baseline_events": _COUNT,
    },
}

_COUNTED = ["accepted", *(action.value for action in EventAction)]
_COUNTED += ["failed", "dead", "held", "pending"]

_CONFIG_STATS: dict[str, Any] = {
    "type": "object",
    "required": [*_COUNTED, "window", "since", "paths", "received_to_done_seconds"],
    "properties": {
        "config": {"type": "string", "format": "uuid"},
        "window": {"type": "string", "enum": list(WINDOWS)},
        "since": {"type": "string", "format": "date-time"},
        **{name: _COUNT for name in _COUNTED},
        "failed_by_field": {"type": "object", "additionalProperties": _COUNT},
        "paths": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "present": _COUNT,
                    "share": _NUMBER_OR_NULL,
                },
            },
            "description": "each mapped source and the share of payloads that carried it",
        },
        "path_events": {"type": ["integer", "null"]},
        "received_to_done_seconds": {
            "type": "object",
            "properties": {"p50": _NUMBER_OR_NULL, "p99": _NUMBER_OR_NULL},
        },
        "held_config": {"type": "boolean"},
        "include_test": {"type": "boolean", "description": "whether test events are counted"},
        "drift_alarm": CONFIG_HEALTH_PROPERTIES["drift_alarm"],
        "quarantine": {"$ref": "#/components/schemas/QuarantineStats"},
    },
}

_QUARANTINE_STATS: dict[str, Any] = {
    "type": "object",
    "required": ["identifiers", "latest", "warned_events"],
    "properties": {
        "identifiers": {
            **_COUNT,
            "description": "phone numbers and emails quarantined in the config's organization",
        },
        "latest": {
            "type": "array",
            "maxItems": LATEST,
            "items": {
                "type": "object",
                "required": ["id", "kind", "masked", "value", "claimants", "quarantined_time"],
                "properties": {
                    "id": {"type": "integer", "description": "as /api/quarantined-identifiers/"},
                    "kind": {"type": "string", "enum": ["phone_number", "email"]},
                    "masked": {"type": "string", "description": "the value as logs show it"},
                    "value": {"type": "string"},
                    "claimants": {**_COUNT, "description": "distinct external ids at quarantine"},
                    "quarantined_time": {"type": "string", "format": "date-time"},
                },
            },
            "description": "the newest quarantined identifiers of the organization",
        },
        "warned_events": {
            **_COUNT,
            "description": "the config's events in the window that carry a quarantine warning",
        },
    },
}


def health_schemas() -> dict[str, Any]:
    """The schemas the health operations answer with."""
    return {
        "DriftAlarm": _DRIFT_ALARM,
        "ConfigStats": _CONFIG_STATS,
        "QuarantineStats": _QUARANTINE_STATS,
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def health_paths(auth_errors: dict[str, Any]) -> dict[str, Any]:
    """The operations under /api/ingestion-configs/{config_uuid}/ that concern its health."""
    config_uuid = {
        "name": "config_uuid",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    found = {**auth_errors, "404": _json({"$ref": "#/components/schemas/Error"}, "no such config")}
    config = {"$ref": "#/components/schemas/Config"}
    job = {"$ref": "#/components/schemas/ReplayJob"}
    follow = {
        "Location": {
            "description": "the release job, at /api/replays/{id}/",
            "schema": {"type": "string"},
        }
    }
    return {
        "/api/ingestion-configs/{config_uuid}/stats/": {
            "get": {
                "operationId": "getConfigStats",
                "summary": "What the config's events became over a window, and which paths came",
                "parameters": [
                    config_uuid,
                    {
                        "name": "window",
                        "in": "query",
                        "required": False,
                        "allowEmptyValue": True,
                        "schema": {"type": "string", "enum": list(WINDOWS)},
                        "description": f"the window (default {DEFAULT_WINDOW})",
                    },
                    INCLUDE_TEST_PARAMETER,
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/ConfigStats"}, "the stats"),
                    "400": _json(
                        {"$ref": "#/components/schemas/Error"},
                        "an unknown window, or an include_test other than true or false",
                    ),
                    **found,
                },
            }
        },
        "/api/ingestion-configs/{config_uuid}/hold/": {
            "post": {
                "operationId": "holdConfig",
                "summary": "Hold the config: payloads are still accepted, their events wait",
                "parameters": [config_uuid],
                "responses": {"200": _json(config, "the config, held"), **found},
            }
        },
        "/api/ingestion-configs/{config_uuid}/release/": {
            "post": {
                "operationId": "releaseConfig",
                "summary": "Run the held events in receive order in a job, then lift the hold",
                "description": (
                    "A replay job over the config's held events (filter status held), run one "
                    "event at a time in receive order with the current mapping; the config stays "
                    "held until none is left, so events arriving meanwhile wait their turn. "
                    "Follow it at /api/replays/{id}/ and cancel it there (the rest stays held). "
                    "A release under way answers with its own job. Clears the drift alarm too; "
                    "drift is judged afresh from the next events."
                ),
                "parameters": [config_uuid],
                "responses": {
                    "202": {**_json(job, "the release job, running"), "headers": follow},
                    "503": _json(
                        {"$ref": "#/components/schemas/Error"}, "the broker is unreachable"
                    ),
                    **found,
                },
            }
        },
    }
