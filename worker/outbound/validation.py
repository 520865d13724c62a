"""Checking a webhook's fields when it is saved: every error names its field and says why."""

from __future__ import annotations

from typing import Any

from models.webhook import PayloadFormat, WebhookTrigger
from worker.outbound.addresses import UnsafeAddress, check_url, url_host
from worker.outbound.filters import FilterError, compile_filter
from worker.outbound.templates import TemplateError, placeholders

MAX_URL_LENGTH = 2048
MAX_FILTER_LENGTH = 2048
MAX_REASON_LENGTH = 1000
EDITABLE = ("url", "trigger", "filter_condition", "payload_format", "disabled", "disabled_reason")

Errors = dict[str, list[str]]


def _check_url(value: Any, allow_private: bool) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or not value.strip():
        return None, "a URL is required"
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        return None, f"at most {MAX_URL_LENGTH} characters"
    if any(character.isspace() or ord(character) < 32 for character in url):
        return None, "must not contain spaces or control characters"
    try:
        placeholders(url)
        url_host(url)
        # A host with a placeholder in it can only be checked when each delivery is sent.
        if not _templated_host(url):
            check_url(url, allow_private, must_resolve=False)
    except (TemplateError, UnsafeAddress) as error:
        return None, str(error)
    return url, None


def _templated_host(url: str) -> bool:
    after_scheme = url.split("://", 1)[-1]
    authority = after_scheme.split("/", 1)[0].split("?", 1)[0]
    return "{{" in authority


def _check_enum(value: Any, kind: type[WebhookTrigger] | type[PayloadFormat]) -> str | None:
    if isinstance(value, str) and value in {member.value for member in kind}:
        return None
    return "one of " + ", ".join(member.value for member in kind)


def _check_filter(value: Any) -> tuple[str | None, str | None]:
    if value is None or value == "":
        return None, None
    if not isinstance(value, str) or "\x00" in value:
        return None, "a JMESPath expression as a string, or null"
    if len(value) > MAX_FILTER_LENGTH:
        return None, f"at most {MAX_FILTER_LENGTH} characters"
    try:
        compile_filter(value)
    except FilterError as error:
        return None, str(error)
    return value, None


def webhook_values(
    data: Any, allow_private: bool, partial: bool = False
) -> tuple[dict[str, Any], Errors]:
    """The model values a request body sets, and the errors by field (empty when valid).

    ``partial`` (PATCH) leaves out what the body does not name; otherwise ``url`` and
    ``trigger`` are required.
    """
    if not isinstance(data, dict):
        return {}, {"body": ["must be a JSON object"]}
    errors: Errors = {}
    values: dict[str, Any] = {}
    for name in sorted(set(data) - set(EDITABLE)):
        errors[name] = ["not a field of a webhook (or not one that can be set)"]
    for required in ("url", "trigger"):
        if not partial and required not in data:
            errors[required] = ["this field is required"]
    if "url" in data:
        url, problem = _check_url(data["url"], allow_private)
        if problem:
            errors["url"] = [problem]
        values["url"] = url
    for name, kind in (("trigger", WebhookTrigger), ("payload_format", PayloadFormat)):
        if name in data:
            problem = _check_enum(data[name], kind)
            if problem:
                errors[name] = [problem]
            else:
                values[name] = kind(data[name])
    if "filter_condition" in data:
        expression, problem = _check_filter(data["filter_condition"])
        if problem:
            errors["filter_condition"] = [problem]
        values["filter_condition"] = expression
    if "disabled" in data:
        if isinstance(data["disabled"], bool):
            values["disabled"] = data["disabled"]
        else:
            errors["disabled"] = ["true or false"]
    if "disabled_reason" in data:
        reason = data["disabled_reason"]
        if reason is not None and (
            not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH or "\x00" in reason
        ):
            errors["disabled_reason"] = [f"a text of at most {MAX_REASON_LENGTH} characters"]
        else:
            values["disabled_reason"] = reason
    return values, errors
