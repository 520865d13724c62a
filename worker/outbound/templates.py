"""URL templates: ``{{variable}}`` placeholders filled from the payload with dot notation."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class TemplateError(ValueError):
    """A URL template that cannot be filled; the message says which placeholder and why."""


def placeholders(template: str) -> list[str]:
    """The dotted paths a template names; TemplateError for a malformed one."""
    paths = []
    for match in _PLACEHOLDER.finditer(template):
        path = match.group(1)
        if not _PATH.fullmatch(path):
            raise TemplateError(
                f"the placeholder {{{{{path}}}}} must be a dotted field name "
                "such as metadata.us_state"
            )
        paths.append(path)
    leftover = _PLACEHOLDER.sub("", template)
    if "{{" in leftover or "}}" in leftover:
        raise TemplateError("the URL has an unclosed {{ or a stray }}")
    return paths


def _lookup(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_url(template: str, payload: dict[str, Any]) -> str:
    """The template with each placeholder replaced by the payload's value, URL-encoded.

    A missing value becomes empty. Encoding every character but the unreserved ones keeps a
    value from changing the URL's shape: an external id of "../admin" or "x@evil.example" stays
    one path segment and never becomes another host.
    """
    return _PLACEHOLDER.sub(
        lambda match: quote(_text(_lookup(payload, match.group(1).strip())), safe=""), template
    )
