"""The rule `type` conversions of worker/ingest/conversions.py."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest

from worker.ingest.conversions import (
    TYPE_NAMES,
    convert,
    is_blank,
    shown,
    to_boolean,
    to_date,
    to_datetime,
    to_integer,
    to_number,
    to_string,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "abc"),
        ("  keeps spaces ", "  keeps spaces "),
        (1001, "1001"),
        (-7, "-7"),
        (0, "0"),
        (1.5, "1.5"),
        (1001.0, "1001"),
        (True, "true"),
        (False, "false"),
    ],
)
def test_to_string(value: object, expected: str) -> None:
    assert to_string(value) == expected


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], math.nan, math.inf, None])
def test_to_string_refuses(value: object) -> None:
    with pytest.raises(ValueError, match="expected text or a number"):
        to_string(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        (-3, -3),
        (12.0, 12),
        ("450000", 450000),
        (" 12 ", 12),
        ("+5", 5),
        ("-5", -5),
        ("12.0", 12),
        ("12.", 12),
        ("007", 7),
        (10**30, 10**30),
    ],
)
def test_to_integer(value: object, expected: int) -> None:
    result = to_integer(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "value",
    [
        "12.5",
        12.5,
        True,
        False,
        "abc",
        "",
        "1e3",
        "1_000",
        "450,000",
        "0x10",
        math.nan,
        math.inf,
        None,
        [1],
        {"a": 1},
        "9" * 101,
    ],
)
def test_to_integer_refuses(value: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked through convert()
        to_integer(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("450000", 450000),
        ("1.5", 1.5),
        (" -2.25 ", -2.25),
        ("450000.0", 450000),
        ("1e3", 1000),
        ("2.5E-1", 0.25),
        (475000, 475000),
        (1.0, 1),
        (0.1, 0.1),
        (".5", 0.5),
        ("12345678901234567890123", 1.2345678901234568e22),
    ],
)
def test_to_number(value: object, expected: float) -> None:
    result = to_number(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "value",
    ["abc", "NaN", "nan", "Infinity", "inf", "-inf", "1e400", math.nan, math.inf, True, False, "",
     None, [1], {"n": 1}, "1,5"],
)  # fmt: skip
def test_to_number_refuses(value: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked through convert()
        to_number(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(text, True) for text in ("true", "TRUE", " True ", "yes", "Yes", "y", "Y", "1", "on")],
        *[(text, False) for text in ("false", "False", "no", "NO", "n", "N", "0", "off", " Off ")],
        (True, True),
        (False, False),
        (1, True),
        (0, False),
    ],
)
def test_to_boolean(value: object, expected: bool) -> None:
    assert to_boolean(value) is expected


@pytest.mark.parametrize("value", ["maybe", "", "2", "t", "nope", 2, -1, 1.0, None, [], {}])
def test_to_boolean_refuses(value: object) -> None:
    with pytest.raises(ValueError, match="yes/no"):
        to_boolean(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-02", "2026-11-02"),
        (" 2026-11-02 ", "2026-11-02"),
        ("2026-11-02T14:05:00Z", "2026-11-02"),
        ("2026-11-02T23:30:00-08:00", "2026-11-02"),
        ("2026-11-02 14:05", "2026-11-02"),
        ("20261102", "2026-11-02"),
        (dt.date(2026, 11, 2), "2026-11-02"),
        (dt.datetime(2026, 11, 2, 14, 5, tzinfo=dt.UTC), "2026-11-02"),
    ],
)
def test_to_date(value: object, expected: str) -> None:
    assert to_date(value) == expected


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "11/02/2026", "", 20261102, None, [1]])
def test_to_date_refuses(value: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked through convert()
        to_date(value)


_UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-02T14:05:00Z", dt.datetime(2026, 11, 2, 14, 5, tzinfo=_UTC)),
        ("2026-11-20T10:00:00+0000", dt.datetime(2026, 11, 20, 10, tzinfo=_UTC)),
        ("2026-11-02T14:05:00", dt.datetime(2026, 11, 2, 14, 5, tzinfo=_UTC)),
        ("2026-11-02 14:05", dt.datetime(2026, 11, 2, 14, 5, tzinfo=_UTC)),
        ("2026-11-02", dt.datetime(2026, 11, 2, tzinfo=_UTC)),
        (
            "2026-11-02T14:05:00.5+05:30",
            dt.datetime(
                2026, 11, 2, 14, 5, 0, 500000, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))
            ),
        ),
        (dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 1, tzinfo=_UTC)),
    ],
)
def test_to_datetime(value: object, expected: dt.datetime) -> None:
    result = to_datetime(value)
    assert result == expected
    assert result.tzinfo is not None
    assert result.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("value", ["soon", "2026-11-02T25:00:00", "", 1700000000, None, {"a": 1}])
def test_to_datetime_refuses(value: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked through convert()
        to_datetime(value)


@pytest.mark.parametrize(
    ("type_name", "value", "message"),
    [
        ("number", "abc", "cannot convert 'abc' (from loan.amount) to number"),
        ("integer", "12.5", "cannot convert '12.5' (from loan.amount) to integer"),
        ("boolean", "maybe", "cannot convert 'maybe' (from loan.amount) to boolean"),
        ("string", [1, 2], "cannot convert [1, 2] (from loan.amount) to string"),
        ("date", "someday", "cannot convert 'someday' (from loan.amount) to date"),
        ("datetime", 5, "cannot convert 5 (from loan.amount) to datetime"),
    ],
)
def test_convert_error_names_value_expression_and_type(
    type_name: str, value: object, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        convert(type_name, value, "loan.amount")


def test_convert_knows_every_type() -> None:
    assert set(TYPE_NAMES) == {"string", "integer", "number", "boolean", "date", "datetime"}
    assert convert("number", "450000", "x") == 450000


@pytest.mark.parametrize(
    ("value", "blank"),
    [
        (None, True),
        ("", True),
        ("   ", True),
        ("\t\n", True),
        ([], True),
        ({}, True),
        ("x", False),
        (0, False),
        (False, False),
        ([None], False),
        ({"a": None}, False),
    ],
)
def test_is_blank(value: object, blank: bool) -> None:
    assert is_blank(value) is blank


def test_shown_truncates_long_values() -> None:
    assert shown("abc") == "'abc'"
    long = shown("x" * 500)
    assert len(long) == 60
    assert long.endswith("...")
    assert shown("\x00") == "'\\x00'"
