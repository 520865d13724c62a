"""Parsing bodies into payloads: JSON objects, forms, charsets, and notes on how they were read."""

from __future__ import annotations

from typing import Any

import pytest

from common.payloads import (
    FORM_TYPE,
    JSON_TYPE,
    PayloadError,
    parse_body,
    parse_form,
    read_body,
    stored_content_type,
)

LATIN1_FORM = FORM_TYPE + "; charset=ISO-8859-1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email=a%40b.co&email=", {"email": "a@b.co"}),
        ("email=&email=a%40b.co", {"email": "a@b.co"}),
        ("email=a%40b.co&email=+&email=", {"email": "a@b.co"}),
        ("tag=a&tag=&tag=b", {"tag": ["a", "b"]}),
        ("tag=a&tag=b", {"tag": ["a", "b"]}),
        ("email=&email=", {"email": ""}),
        ("email=", {"email": ""}),
        ("a=1&b=2", {"a": "1", "b": "2"}),
    ],
    ids=["blank-last", "blank-first", "blank-and-space", "list-keeps-filled", "list", "all-blank",
         "one-blank", "plain"],
)  # fmt: skip
def test_blank_repeated_values_are_dropped_before_a_key_becomes_a_list(
    text: str, expected: dict[str, Any]
) -> None:
    assert parse_form(text) == expected


def test_a_form_in_the_charset_its_content_type_names() -> None:
    raw = b"name=Jos%E9&city=M\xfcnchen"
    assert parse_body(raw, LATIN1_FORM) == {"name": "José", "city": "München"}


def test_a_json_body_in_the_charset_its_content_type_names() -> None:
    raw = '{"name": "José"}'.encode("iso-8859-1")
    assert parse_body(raw, JSON_TYPE + "; charset=iso-8859-1") == {"name": "José"}


def test_a_form_without_a_charset_is_utf8() -> None:
    assert parse_body(b"name=Jos%C3%A9", FORM_TYPE) == {"name": "José"}


@pytest.mark.parametrize(
    ("raw", "content_type", "reason"),
    [
        (b"name=Jos%E9", FORM_TYPE, "not valid utf-8 (byte 0xe9)"),
        (b"name=\xff", FORM_TYPE, "not valid utf-8: byte 0xff at position 5"),
        (b"name=%FF", FORM_TYPE + "; charset=us-ascii", "not valid ascii (byte 0xff)"),
        (b'{"a": "\xff"}', JSON_TYPE, "not valid utf-8: byte 0xff at position 7"),
        (b"a=1", FORM_TYPE + "; charset=klingon", "'klingon' is not a known text encoding"),
        (b"a=1", FORM_TYPE + "; charset=base64", "'base64' is not a known text encoding"),
    ],
    ids=["escape-not-utf8", "raw-not-utf8", "escape-not-ascii", "json-not-utf8", "unknown",
         "not-text"],
)  # fmt: skip
def test_an_undecodable_body_names_the_problem(raw: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(PayloadError) as raised:
        read_body(raw, content_type)
    assert reason in str(raised.value)


@pytest.mark.parametrize(
    ("header", "stored"),
    [
        (JSON_TYPE, JSON_TYPE),
        ("Application/JSON", JSON_TYPE),
        (FORM_TYPE + '; charset="ISO-8859-1"', FORM_TYPE + "; charset=iso8859-1"),
        (JSON_TYPE + "; charset=UTF-8", JSON_TYPE + "; charset=utf-8"),
        (FORM_TYPE + "; boundary=x; charset=latin1", FORM_TYPE + "; charset=iso8859-1"),
    ],
)
def test_the_stored_content_type_keeps_the_charset_canonical(header: str, stored: str) -> None:
    assert stored_content_type(header) == stored
    # What is stored reads back the same way the request did.
    assert parse_body("a=é".encode(), stored_content_type(FORM_TYPE)) == {"a": "é"}


def test_a_json_object_labelled_as_a_form_is_read_as_json_with_a_note() -> None:
    raw = b' {"phone_number": "2024561111", "contact": {"email": "a@b.co"}}\n'
    parsed = read_body(raw, FORM_TYPE)
    assert parsed.payload == {"phone_number": "2024561111", "contact": {"email": "a@b.co"}}
    assert len(parsed.warnings) == 1
    assert parsed.warnings[0]["field"] == "body"
    assert "read as JSON" in parsed.warnings[0]["reason"]
    assert "Content-Type: application/json" in parsed.warnings[0]["reason"]


@pytest.mark.parametrize(
    ("raw", "payload"),
    [
        (b'{"a": 1', {'{"a": 1': ""}),  # not a whole JSON object: a (strange) form, as labelled
        (b"[1, 2]", {"[1, 2]": ""}),
        (b"a=%7B%7D", {"a": "{}"}),
    ],
)
def test_only_a_whole_json_object_overrides_the_form_label(
    raw: bytes, payload: dict[str, Any]
) -> None:
    parsed = read_body(raw, FORM_TYPE)
    assert parsed.payload == payload
    assert parsed.warnings == []


def test_a_json_body_labelled_json_carries_no_note() -> None:
    assert read_body(b'{"a": "1"}', JSON_TYPE).warnings == []


def test_other_content_types_are_refused() -> None:
    with pytest.raises(PayloadError, match="text/xml is not accepted"):
        read_body(b"<lead/>", "text/xml")
