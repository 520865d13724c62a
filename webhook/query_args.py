"""Query-string filters: an empty value means no filter; a bad one is a 400 that names it.

Every value is checked against what PostgreSQL can compare before it reaches a query: integers
within the integer columns' range, text without NUL characters. Otherwise the database refuses
the statement and the client would see a 500 for what is its own mistake.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from flask import request

from webhook.errors import ApiError

# Ids and counts are PostgreSQL ``integer`` columns.
DATABASE_INT_MAX = 2**31 - 1

E = TypeVar("E", bound=Enum)


def _refuse(name: str, detail: str, reason: str) -> ApiError:
    return ApiError(400, detail, {name: [reason]})


def text_arg(name: str) -> str | None:
    """The parameter as text; None when absent or empty; 400 when it holds a NUL character."""
    raw = request.args.get(name)
    if not raw:
        return None
    if "\x00" in raw:
        raise _refuse(name, f"{name} must not contain NUL characters.", "contains a NUL character")
    return raw


def int_arg(name: str, minimum: int = 1, maximum: int = DATABASE_INT_MAX) -> int | None:
    """The parameter as an integer within ``minimum..maximum``; None when absent or empty."""
    raw = text_arg(name)
    if raw is None:
        return None
    try:
        # Decimal reads "2", "2.0" and "2e3" alike (JSON Schema counts 2.0 as an integer) and
        # keeps a huge exponent symbolic until the range check has refused it.
        number = Decimal(raw.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value():
        raise _refuse(name, f"{name} must be an integer.", "not an integer")
    if not minimum <= number <= maximum:
        raise _refuse(
            name,
            f"{name} must be between {minimum} and {maximum}.",
            f"must be between {minimum} and {maximum}",
        )
    return int(number)


def datetime_arg(name: str) -> dt.datetime | None:
    """The parameter as an aware datetime (UTC when it names no offset); None when absent."""
    raw = text_arg(name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise _refuse(name, f"{name} must be an ISO 8601 datetime.", "not a datetime") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def enum_arg(name: str, enum_type: type[E], upper: bool = False) -> E | None:
    """The parameter as a member of ``enum_type``, in any case; None when absent or empty."""
    raw = text_arg(name)
    if raw is None:
        return None
    value = raw.strip().upper() if upper else raw.strip().lower()
    try:
        return enum_type(value)
    except ValueError:
        choices = ", ".join(str(member.value) for member in enum_type)
        raise _refuse(name, f"Unknown {name} {raw!r}.", f"one of {choices}") from None
