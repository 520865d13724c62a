"""The OpenAPI pieces of provider outcome callbacks and of the decoded payload shape.

``add_callbacks`` adds them to the composed document: the callback fields of a config, the
callback delivery log (webhook.views.callbacks), the callback's own body, the payload view's
``decoded`` parameter and the dry run's ``payload``.
"""

from __future__ import annotations

import copy
from typing import Any

from models.webhook import CALLBACK_TRIGGER
from worker.callback_settings import MAX_CALLBACK_URL_LENGTH

_STRING = {"type": "string"}
_DATETIME = {"type": ["string", "null"], "format": "date-time"}
_AUTH_ERRORS_REF = ("401", "404", "503")

_WRITABLE: dict[str, Any] = {
    "callback_url": {
        "type": ["string", "null"],
        "maxLength": MAX_CALLBACK_URL_LENGTH,
        "description": "POST each event's outcome here when it ends (done, failed, dead), "
        "signed with Standard Webhooks headers; null removes it. A loopback, private, "
        "link-local or metadata address is refused.",
    },
    "rotate_callback_secret": {
        "type": "boolean",
        "description": "issue a new callback key (in the answer, once); the old one signs "
        "beside it for 24 h",
    },
}
_SHOWN: dict[str, Any] = {
    "callback_url": {"type": ["string", "null"]},
    "previous_callback_secret_valid_until": {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "the replaced callback key signs beside the new one until then",
    },
    "callback_secret": {
        "type": "string",
        "readOnly": True,
        "description": "whsec_...: only in the answer of the save that issued it",
    },
}
_OUTCOME_CALLBACK = {
    "type": "object",
    "description": "The body of a provider outcome callback (X-Leadgate-Trigger: "
    f"{CALLBACK_TRIGGER}). On an open, payload-key or signature config lead_id is null and "
    "errors name no other lead.",
    "required": [
        "event_id",
        "status",
        "action",
        "lead_id",
        "errors",
        "idempotency_key",
        "received_time",
        "processed_time",
    ],
    "properties": {
        "event_id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["done", "failed", "dead"]},
        "action": {"type": ["string", "null"]},
        "lead_id": {"type": ["integer", "null"]},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        "idempotency_key": {"type": ["string", "null"]},
        "received_time": _DATETIME,
        "processed_time": _DATETIME,
    },
}


def _callback_delivery(delivery: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(delivery)
    schema["properties"].pop("webhook", None)
    schema["properties"]["trigger"] = {"type": "string", "const": CALLBACK_TRIGGER}
    schema["properties"]["config"] = {"type": "string", "format": "uuid"}
    schema["properties"]["event_id"] = {"type": "string", "format": "uuid"}
    schema["required"] = ["id", "config", "event_id", "message_id", "status", "attempts"]
    return schema


def _paths(document: dict[str, Any]) -> dict[str, Any]:
    paths = document["paths"]
    listing = paths["/api/webhooks/{webhook_id}/deliveries/"]["get"]
    redelivery = paths["/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver/"]["post"]
    config_uuid = {
        "name": "config_uuid",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    auth = {code: listing["responses"][code] for code in _AUTH_ERRORS_REF}
    page = {"$ref": "#/components/schemas/CallbackDeliveryPage"}
    one = {"$ref": "#/components/schemas/CallbackDelivery"}
    return {
        "/api/ingestion-configs/{config_uuid}/callbacks/": {
            "get": {
                "operationId": "listCallbackDeliveries",
                "summary": "The config's outcome callbacks, newest first, with their attempts",
                "parameters": [config_uuid, *listing["parameters"][1:]],
                "responses": {
                    "200": {
                        "description": "a page of callback deliveries",
                        "content": {"application/json": {"schema": page}},
                    },
                    "400": listing["responses"]["400"],
                    **auth,
                },
            }
        },
        "/api/ingestion-configs/{config_uuid}/callbacks/{delivery_id}/redeliver/": {
            "post": {
                "operationId": "redeliverCallback",
                "summary": "Send a delivered or failed callback again (same webhook-id)",
                "parameters": [config_uuid, redelivery["parameters"][1]],
                "responses": {
                    "202": {
                        "description": "queued again",
                        "content": {"application/json": {"schema": one}},
                    },
                    "409": {
                        "description": "still being sent",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                    **auth,
                },
            }
        },
    }


def _decoded_payload(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/ingestion-events/{event_id}/payload/"]["get"]
    operation["parameters"].append(
        {
            "name": "decoded",
            "in": "query",
            "required": False,
            # As every query parameter here: an empty value is taken as not given (false).
            "allowEmptyValue": True,
            "schema": {"type": "string", "enum": ["true", "false", "1", "0"]},
            "description": "true: the payload as JSON after the config's decode rules "
            "(body and query string parsed, decode keys' JSON text as objects)",
        }
    )
    operation["responses"]["400"] = {
        "description": "decoded is not true or false",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    operation["responses"]["422"] = {
        "description": "decoded=true, and the stored body cannot be read as a payload",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    document["components"]["schemas"]["DryRun"]["properties"]["payload"] = {
        "type": "object",
        "description": "the payload as the rules saw it, after the mapping's decode rules",
    }
    impact_events = document["components"]["schemas"]["MappingImpact"]["properties"]["events"]
    impact_events["description"] = (
        "changed outcomes; with decode rules in the candidate each carries payload, the "
        "event's payload after them"
    )


def add_callbacks(document: dict[str, Any]) -> None:
    """Add the callback fields, operations and schemas, and the decoded payload shape."""
    schemas = document["components"]["schemas"]
    schemas["ConfigCreate"]["properties"].update(_WRITABLE)
    schemas["ConfigChange"]["properties"].update(_WRITABLE)
    schemas["Config"]["properties"].update(_SHOWN)
    schemas["CallbackDelivery"] = _callback_delivery(schemas["Delivery"])
    page = copy.deepcopy(schemas["DeliveryPage"])
    page["properties"]["results"]["items"] = {"$ref": "#/components/schemas/CallbackDelivery"}
    schemas["CallbackDeliveryPage"] = page
    schemas["OutcomeCallback"] = _OUTCOME_CALLBACK
    document["paths"].update(_paths(document))
    _decoded_payload(document)
