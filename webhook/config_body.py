"""The JSON body of a config request, read into the config service's options.

Only the shape is checked here (which keys, which JSON types); the rules every config obeys,
whichever door it comes through, are the service's (``worker.configs``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, request

from models.enums import AuthMode
from webhook.errors import ApiError
from worker.callback_settings import CallbackOptions
from worker.config_credentials import CREDENTIAL_OPTIONS, CredentialOptions
from worker.configs import LIMIT_COLUMNS, ConfigOptions

# Keys a client may send, with the JSON type each must have ("null" allowed where listed).
WRITABLE: dict[str, tuple[str, ...]] = {
    "name": ("string",),
    "mapping": ("object",),
    "auth": ("string",),
    "active": ("boolean",),
    "lead_type": ("integer", "null"),
    "match": ("array",),
    "min_reengagement_days": ("integer", "null"),
    "max_body_bytes": ("integer", "null"),
    "rate_limit_per_second": ("number", "null"),
    "rate_limit_burst": ("integer", "null"),
    "fan_in_limit": ("integer", "null"),
    "fan_in_window_days": ("integer", "null"),
    "message": ("string", "null"),
    # Provider credentials, as the CLI's flags of the same names; secrets are never shown back.
    **{name: ("string",) for name in CREDENTIAL_OPTIONS},
    "ignore_file_parts": ("boolean",),
    # The provider outcome callback: a URL (null removes it) and a new signing key on request.
    "callback_url": ("string", "null"),
    "rotate_callback_secret": ("boolean",),
    "hold_on_drift": ("boolean",),
    # Every event of a test config is a test-mode event (as with the Leadgate-Test header).
    "test": ("boolean",),
    "drift_limits": ("object", "null"),
    "file_endpoint": ("string",),
}
CREATE_ONLY = {"campaign": ("integer",)}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _refuse(field: str, reason: str) -> ApiError:
    return ApiError(400, f"{field}: {reason}.", {field: [reason]})


def read_config_body(creating: bool) -> tuple[dict[str, Any], ConfigOptions]:
    """The request's JSON object, checked key by key, and the options it asks for."""
    limit: int = current_app.config["MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"The body is larger than {limit} bytes.")
    if not request.is_json:
        raise ApiError(415, "Send the config as application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.", {"body": ["not a JSON object"]})
    allowed = WRITABLE | (CREATE_ONLY if creating else {})
    for key, value in body.items():
        if key not in allowed:
            raise _refuse(key, f"unknown or read-only; the keys are {', '.join(allowed)}")
        kind = _json_type(value)
        # JSON counts 2.0 as an integer; a number is also accepted where a number is asked.
        if kind == "number" and "integer" in allowed[key] and float(value).is_integer():
            body[key] = value = int(value)
            kind = "integer"
        if kind not in allowed[key] and not (kind == "integer" and "number" in allowed[key]):
            raise _refuse(key, f"expected {' or '.join(allowed[key])}, got {kind}")
    if creating and "campaign" not in body:
        raise _refuse("campaign", "required")
    if "match" in body and not all(isinstance(key, str) for key in body["match"]):
        raise _refuse("match", "expected an array of strings")
    return body, _options(body)


def _options(body: dict[str, Any]) -> ConfigOptions:
    auth = body.get("auth")
    if auth is not None and auth not in {mode.value for mode in AuthMode}:
        raise _refuse("auth", f"expected one of {', '.join(mode.value for mode in AuthMode)}")
    return ConfigOptions(
        name=body.get("name"),
        mapping=body.get("mapping"),
        auth_mode=AuthMode(auth) if auth is not None else None,
        active=body.get("active"),
        lead_type=body.get("lead_type"),
        clear_lead_type="lead_type" in body and body["lead_type"] is None,
        match_keys=body.get("match"),
        min_reengagement_days=body.get("min_reengagement_days"),
        clear_min_reengagement_days=(
            "min_reengagement_days" in body and body["min_reengagement_days"] is None
        ),
        limits={column: body[column] for column in LIMIT_COLUMNS if column in body},
        credentials=CredentialOptions(
            **{name: body.get(name) for name in CREDENTIAL_OPTIONS},
            secret_keys=current_app.config["SECRET_KEYS"],
            grace=dt.timedelta(seconds=current_app.config["SECRET_GRACE_SECONDS"]),
            flags=False,
        ),
        ignore_file_parts=body.get("ignore_file_parts"),
        callback=CallbackOptions(
            url=body.get("callback_url"),
            clear="callback_url" in body and body["callback_url"] is None,
            rotate_secret=body.get("rotate_callback_secret") is True,
            secret_keys=current_app.config["SECRET_KEYS"],
            allow_private=bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False)),
        ),
        hold_on_drift=body.get("hold_on_drift"),
        test=body.get("test"),
        drift_limits=body.get("drift_limits"),
        clear_drift_limits="drift_limits" in body and not body["drift_limits"],
        file_endpoint=body.get("file_endpoint"),
        message=body.get("message"),
    )
