"""The mapping rule `type` conversions (SPEC section 4): string, integer, number, boolean, date,
datetime. Each takes a JSON value and returns the converted value or raises ValueError."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
# Plain decimal notation only: "12", "-3.50", ".5"; no thousands separators, underscores or hex.
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_SCIENTIFIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Longer numerals are junk, and Python refuses int <-> str beyond 4300 digits anyway.
_MAX_NUMERAL_LENGTH = 100
# Integral floats below this are exact, so they can be given back as ints without surprise.
_EXACT_FLOAT_INT = 2**53


def shown(value: object, limit: int = 60) -> str:
    """A short repr of a received value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_blank(value: object) -> bool:
    """True for what counts as no value: None, "", a whitespace-only string, [] and {}."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


def to_string(value: object) -> str:
    """A string, or a number in its string form (1001 -> "1001"); objects and lists are refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return (
            str(int(value)) if value.is_integer() and abs(value) < _EXACT_FLOAT_INT else repr(value)
        )
    raise ValueError(f"expected text or a number, got {type(value).__name__}")


def to_integer(value: object) -> int:
    """An int from an int, an integral float or a numeric string ("450000", " 12 ", "12.0")."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= _MAX_NUMERAL_LENGTH and _DECIMAL.fullmatch(text):
            number = Decimal(text)
            if number == number.to_integral_value():
                return int(number)
    raise ValueError("not a whole number")


def to_number(value: object) -> int | float:
    """An int when the value is integral, else a float ("450000" -> 450000, "1.5" -> 1.5)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value) if value.is_integer() and abs(value) < _EXACT_FLOAT_INT else value
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= _MAX_NUMERAL_LENGTH and _SCIENTIFIC.fullmatch(text):
            number = Decimal(text)
            if number == number.to_integral_value() and number.adjusted() < 18:
                return int(number)
            as_float = float(number)
            if math.isfinite(as_float):
                return as_float
    raise ValueError("not a finite number")


def to_boolean(value: object) -> bool:
    """A bool from a JSON boolean, 0/1, or true/false/yes/no/y/n/1/0/on/off in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("not a yes/no value")


def to_datetime(value: object) -> dt.datetime:
    """A timezone-aware datetime from an ISO 8601 string; a naive one is taken as UTC."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.strip())
    else:
        raise ValueError("expected an ISO 8601 string")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def to_event_time(value: object) -> dt.datetime:
    """An event's time: ISO 8601 text, or epoch seconds as a number or numeric text."""
    if isinstance(value, bool):
        raise ValueError("event_time: a boolean is not a time")
    seconds: float | None = None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        seconds = float(value.strip())
    try:
        if seconds is not None:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        return to_datetime(value)
    except (ValueError, OverflowError, OSError):
        raise ValueError(
            f"event_time {shown(value)} is neither ISO 8601 nor epoch seconds"
        ) from None


def to_date(value: object) -> str:
    """An ISO date "YYYY-MM-DD" from a date or datetime string (a datetime gives its own date)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            return dt.datetime.fromisoformat(text).date().isoformat()
    raise ValueError("expected an ISO 8601 string")


CONVERSIONS: dict[str, Callable[[object], Any]] = {
    "string": to_string,
    "integer": to_integer,
    "number": to_number,
    "boolean": to_boolean,
    "date": to_date,
    "datetime": to_datetime,
}
TYPE_NAMES: tuple[str, ...] = tuple(CONVERSIONS)


def convert(type_name: str, value: object, origin: str) -> Any:
    """Convert ``value`` to ``type_name``; the ValueError names the value and where it came from."""
    try:
        return CONVERSIONS[type_name](value)
    except (ValueError, OverflowError):
        raise ValueError(f"cannot convert {shown(value)} (from {origin}) to {type_name}") from None
