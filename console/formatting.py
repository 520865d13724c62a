"""Jinja filters the console's templates share: masks, JSON, times and ages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from common.masking import hidden_email, hidden_phone
from console.blueprint import bp


@bp.app_template_filter("phone_masked")
def phone_masked(value: str | None) -> str:
    """A phone number with all but its last two digits hidden (list views)."""
    return hidden_phone(value) if value else ""


@bp.app_template_filter("email_masked")
def email_masked(value: str | None) -> str:
    """An email with its local part hidden but the first character (list views)."""
    return hidden_email(value) if value else ""


@bp.app_template_filter("pretty_json")
def pretty_json(value: Any) -> str:
    """JSON indented for reading, keys in the order they came."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@bp.app_template_filter("when")
def when(value: dt.datetime | str | None) -> str:
    """A time (or its ISO 8601 text, as the services' dicts carry it) in UTC, or a dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@bp.app_template_filter("age")
def age(seconds: float | None) -> str:
    """A duration as a person says it: 45 s, 12 min, 3 h, 2 d."""
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
