"""The OpenAPI pieces of the config and mapping-version operations (webhook.views.configs)."""

from __future__ import annotations

from typing import Any

from models.enums import MATCH_KEYS, AuthMode
from webhook.openapi_health import CONFIG_HEALTH_PROPERTIES, DRIFT_LIMITS_SCHEMA
from worker.config_credentials import MIN_PAYLOAD_KEY_LENGTH, SIGNATURE_ENCODINGS
from worker.mapping_impact import DEFAULT_SAMPLE, MAX_SAMPLE

_INT_MAX = 2**31 - 1
_NULLABLE_COUNT = {"type": ["integer", "null"], "minimum": 0, "maximum": _INT_MAX}
_NULLABLE_LIMIT = {"type": ["integer", "null"], "minimum": 1, "maximum": _INT_MAX}

# What a client may send; the service refuses what breaks a rule (400 naming the field).
_WRITABLE: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "mapping": {"type": "object", "description": "the field mapping (SPEC section 4)"},
    "auth": {"type": "string", "enum": [mode.value for mode in AuthMode]},
    "active": {"type": "boolean"},
    "lead_type": _NULLABLE_COUNT,
    "match": {
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"type": "string", "enum": list(MATCH_KEYS)},
    },
    "min_reengagement_days": _NULLABLE_COUNT,
    "max_body_bytes": _NULLABLE_LIMIT,
    "rate_limit_per_second": {"type": ["number", "null"], "exclusiveMinimum": 0},
    "rate_limit_burst": _NULLABLE_LIMIT,
    "fan_in_limit": {
        **_NULLABLE_LIMIT,
        "description": "quarantine a phone or email more external ids claim (null: 5)",
    },
    "fan_in_window_days": {
        **_NULLABLE_LIMIT,
        "description": "within this many days (null: 30)",
    },
    "message": {
        "type": ["string", "null"],
        "maxLength": 1000,
        "description": "kept with the mapping version a new mapping makes",
    },
    # Provider credentials, as the CLI's flags of the same names (auth payload-key, signature).
    "payload_key_path": {
        "type": "string",
        "minLength": 1,
        "description": "payload-key: where the payload carries the key (object keys and dots)",
    },
    "payload_key": {
        "type": "string",
        "minLength": MIN_PAYLOAD_KEY_LENGTH,
        "writeOnly": True,
        "description": "payload-key: the shared key; stored as a hash, never shown",
    },
    "signature_header": {
        "type": "string",
        "minLength": 1,
        "description": "signature: the header with the body's HMAC-SHA256",
    },
    "signature_encoding": {"type": "string", "enum": list(SIGNATURE_ENCODINGS)},
    "signature_prefix": {
        "type": "string",
        "description": "signature: text before the digest, e.g. sha256=; none for a bare digest",
    },
    "signing_secret": {
        "type": "string",
        "minLength": 1,
        "writeOnly": True,
        "description": "signature: the HMAC secret; stored encrypted, never shown",
    },
    "ignore_file_parts": {
        "type": "boolean",
        "description": "multipart bodies: drop file parts (true) or refuse them with 415",
    },
    "hold_on_drift": {"type": "boolean", "description": "hold the config when drift is raised"},
    "test": {
        "type": "boolean",
        "description": "a test config: every event it receives is a test-mode event, into test "
        "leads (as with Leadgate-Test: true)",
    },
    "drift_limits": DRIFT_LIMITS_SCHEMA,
    "file_endpoint": {
        "type": "string",
        "enum": ["create", "upsert"],
        "description": "what a row of an uploaded file does (default upsert)",
    },
}
# What a config shows of its credential: never a secret, nor its digest.
_SHOWN_CREDENTIAL: dict[str, Any] = {
    "payload_key_path": {"type": ["string", "null"]},
    "signature_header": {"type": ["string", "null"]},
    "signature_encoding": {"type": ["string", "null"]},
    "signature_prefix": {"type": ["string", "null"]},
    "previous_secret_valid_until": {
        "type": "string",
        "format": "date-time",
        "description": "a replaced key or secret is accepted until then",
    },
}
_NOT_SHOWN = {"message", "payload_key", "signing_secret"}

CONFIG_SCHEMAS: dict[str, Any] = {
    "Config": {
        "type": "object",
        "required": ["id", "organization", "campaign", "name", "auth", "mapping", "version"],
        "properties": {
            **{key: value for key, value in _WRITABLE.items() if key not in _NOT_SHOWN},
            **_SHOWN_CREDENTIAL,
            **CONFIG_HEALTH_PROPERTIES,
            "id": {"type": "string", "format": "uuid"},
            "organization": {"type": "integer"},
            "campaign": {
                "type": ["integer", "null"],
                "description": "null for the standard lead API's config (it routes by lead type)",
            },
            "version": {"type": "integer"},
            "mapping_version": {"type": "integer"},
            "impact": {
                "$ref": "#/components/schemas/MappingImpact",
                "description": "on PATCH with a new mapping: the report it was saved with",
            },
            "created_time": {"type": "string", "format": "date-time"},
            "modified_time": {"type": "string", "format": "date-time"},
        },
    },
    "ConfigCreate": {
        "type": "object",
        "required": ["campaign"],
        "additionalProperties": False,
        "properties": {
            "campaign": {"type": "integer", "minimum": 1, "maximum": _INT_MAX},
            **_WRITABLE,
        },
    },
    "ConfigChange": {"type": "object", "additionalProperties": False, "properties": _WRITABLE},
    "MappingImpact": {
        "type": "object",
        "required": ["version", "sample", "changed_outcomes", "new_failures", "summary"],
        "properties": {
            "version": {"type": "integer", "description": "the number the mapping would get"},
            "sample": {"type": "integer", "description": "events compared"},
            "unreadable": {"type": "integer"},
            "changed_outcomes": {"type": "integer"},
            "new_failures": {"type": "integer", "description": "succeeded, would now fail"},
            "fixed": {"type": "integer", "description": "failed, would now succeed"},
            "other_lead": {"type": "integer", "description": "would write another lead"},
            "failed_fields": {"type": "object", "additionalProperties": {"type": "integer"}},
            "changed_fields": {"type": "object", "additionalProperties": {"type": "integer"}},
            "leads_with_changed_values": {"type": "integer"},
            "held": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "events waiting on a held config, by what they would do",
            },
            "events": {"type": "array", "items": {"type": "object"}},
            "summary": {"type": "string"},
        },
    },
    "MappingCandidate": {
        "type": "object",
        "required": ["mapping"],
        "additionalProperties": False,
        "properties": {"mapping": _WRITABLE["mapping"]},
    },
    "ImpactRefusal": {
        "type": "object",
        "required": ["detail", "impact"],
        "properties": {
            "detail": {"type": "string"},
            "impact": {"$ref": "#/components/schemas/MappingImpact"},
        },
    },
    "MappingVersion": {
        "type": "object",
        "required": ["number", "mapping", "saved_time", "saved_by", "message"],
        "properties": {
            "number": {"type": "integer"},
            "mapping": {"type": "object"},
            "saved_time": {"type": "string", "format": "date-time"},
            "saved_by": {"type": "string"},
            "message": {"type": ["string", "null"]},
        },
    },
}


def config_paths(
    ref: Any,
    json: Any,
    error: Any,
    page: Any,
    path: Any,
    query: Any,
    paging: list[Any],
    auth_errors: dict[str, Any],
) -> dict[str, Any]:
    """The operations under /api/ingestion-configs/; the helpers are openapi_document's own."""
    config_uuid = path("config_uuid", {"type": "string", "format": "uuid"})
    version = path("version", {"type": "integer", "minimum": 1, "maximum": _INT_MAX})
    confirm = query("confirm", {"type": "string", "enum": ["true", "false"]}, "save despite")
    sample = query(
        "sample",
        {"type": "integer", "minimum": 1, "maximum": MAX_SAMPLE},
        f"recent events to try the mapping on (default {DEFAULT_SAMPLE})",
    )
    auth = {code: answer for code, answer in auth_errors.items() if code != "404"}
    found = {**auth, "404": error("no such config (or version) in the organization")}
    body_errors = {
        "400": error("a field breaks a rule; errors names it"),
        "413": error("body too large"),
        "415": error("not application/json"),
    }

    def body(schema: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}

    return {
        "/api/ingestion-configs/": {
            "get": {
                "operationId": "listConfigs",
                "summary": "Ingestion configs of the token's organization",
                "parameters": paging,
                "responses": {
                    "200": json(page("Config"), "a page of configs"),
                    "400": error("bad page or page_size"),
                    **auth,
                },
            },
            "post": {
                "operationId": "createConfig",
                "summary": "Create a config for one of the organization's campaigns",
                "requestBody": body("ConfigCreate"),
                "responses": {
                    "201": json(ref("Config"), "created; its mapping is version 1"),
                    **body_errors,
                    **auth,
                },
            },
        },
        "/api/ingestion-configs/{config_uuid}/": {
            "get": {
                "operationId": "getConfig",
                "summary": "One config",
                "parameters": [config_uuid],
                "responses": {"200": json(ref("Config"), "the config"), **found},
            },
            "patch": {
                "operationId": "changeConfig",
                "summary": "Change a config; a new mapping is saved as its next mapping version",
                "description": (
                    "A new mapping is first tried on the config's recent events; the answer "
                    "carries that impact report. One that would fail events that succeeded is "
                    "refused with 409 and the report, unsaved, unless confirm=true."
                ),
                "parameters": [config_uuid, confirm, sample],
                "requestBody": body("ConfigChange"),
                "responses": {
                    "200": json(ref("Config"), "the config as saved"),
                    "409": json(ref("ImpactRefusal"), "new failures; nothing saved"),
                    **body_errors,
                    **found,
                },
            },
        },
        "/api/ingestion-configs/{config_uuid}/mapping-impact/": {
            "post": {
                "operationId": "mappingImpact",
                "summary": "What a candidate mapping would do to the config's recent events",
                "parameters": [config_uuid, sample],
                "requestBody": body("MappingCandidate"),
                "responses": {
                    "200": json(ref("MappingImpact"), "the report; nothing is saved"),
                    **body_errors,
                    **found,
                },
            }
        },
        "/api/ingestion-configs/{config_uuid}/versions/": {
            "get": {
                "operationId": "listMappingVersions",
                "summary": "The config's mapping versions, newest first",
                "parameters": [config_uuid, *paging],
                "responses": {
                    "200": json(page("MappingVersion"), "a page of versions"),
                    "400": error("bad page or page_size"),
                    **found,
                },
            }
        },
        "/api/ingestion-configs/{config_uuid}/versions/{version}/": {
            "get": {
                "operationId": "getMappingVersion",
                "summary": "One mapping version",
                "parameters": [config_uuid, version],
                "responses": {"200": json(ref("MappingVersion"), "the version"), **found},
            }
        },
        "/api/ingestion-configs/{config_uuid}/versions/{version}/restore/": {
            "post": {
                "operationId": "restoreMappingVersion",
                "summary": "Save an earlier version's mapping again, as the next version",
                "parameters": [config_uuid, version],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "message": {
                                        "type": ["string", "null"],
                                        "maxLength": 1000,
                                        "description": "why, for the log",
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": json(ref("MappingVersion"), "the new version"),
                    "400": error("the message breaks a rule"),
                    "409": error("the config has this mapping already"),
                    **found,
                },
            }
        },
    }
