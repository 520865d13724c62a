"""Parsing bodies into payloads: JSON objects, forms, charsets, and notes on how they were read."""

from __future__ import annotations

from typing import Any

import pytest

from common.payloads import (
    FORM_TYPE,
    JSON_TYPE,
    MAX_JSON_DEPTH,
    MAX_JSON_NODES,
    FilePartError,
    PayloadError,
    check_json_shape,
    parse_body,
    parse_form,
    payload_query_string,
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


# --- multipart/form-data -------------------------------------------------------------------

BOUNDARY = "----leadgateBoundary7MA4YWxk"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart_body(*parts: tuple[str, str | bytes, str | None]) -> bytes:
    """A multipart body of (name, value, filename) parts; a filename makes a file part."""
    chunks: list[bytes] = []
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
        if filename:
            head += "Content-Type: application/octet-stream\r\n"
        data = value.encode() if isinstance(value, str) else value
        chunks.append(head.encode() + b"\r\n" + data + b"\r\n")
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()


def test_multipart_fields_read_like_a_form() -> None:
    body = multipart_body(
        ("phone_number", "4155550123", None),
        ("tag", "a", None),
        ("tag", "", None),
        ("tag", "b", None),
        ("email", "a@b.co", None),
        ("email", "", None),
        ("rawRequest", '{"q3_email": "José@example.com"}', None),
    )

    assert parse_body(body, MULTIPART) == {
        "phone_number": "4155550123",
        "tag": ["a", "b"],
        "email": "a@b.co",
        "rawRequest": '{"q3_email": "José@example.com"}',
    }


def test_a_file_part_is_refused_by_name_or_dropped() -> None:
    body = multipart_body(("email", "a@b.co", None), ("resume", b"\x89PNG\x00\xff", "cv.png"))

    with pytest.raises(FilePartError) as refused:
        read_body(body, MULTIPART, refuse_files=True)
    assert refused.value.field == "resume"
    assert "'resume'" in str(refused.value)
    assert read_body(body, MULTIPART).payload == {"email": "a@b.co"}


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (multipart_body(("a", "1", None))[:-8], MULTIPART, "closing boundary"),
        (b"not multipart at all", MULTIPART, "closing boundary"),
        (f"--{BOUNDARY}--\r\n".encode(), MULTIPART, "has no parts"),
        (multipart_body(("a", "1", None)), "multipart/form-data", "needs a boundary"),
        (multipart_body(("a", "1", None)), "multipart/form-data; boundary=" + "x" * 71, "1 to 70"),
        (b'--a"b--', 'multipart/form-data; boundary="a\\"b"', "RFC 2046"),
        (multipart_body(("a", b"\xff\xfe", None)), MULTIPART, "not valid utf-8"),
    ],
    ids=[
        "truncated",
        "garbage",
        "no-parts",
        "no-boundary",
        "long-boundary",
        "quote-in-boundary",
        "undecodable",
    ],
)
def test_a_broken_multipart_body_says_why(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_body(body, content_type)


def test_the_stored_content_type_of_a_multipart_body_keeps_its_boundary() -> None:
    stored = stored_content_type(MULTIPART + "; charset=UTF-8")
    body = multipart_body(("a", "1", None))

    assert BOUNDARY in stored
    assert parse_body(body, stored) == {"a": "1"}


def test_control_parameters_are_dropped_however_their_names_are_encoded() -> None:
    assert payload_query_string("w%61it=5&src=lp&key=1", frozenset({"wait", "key"})) == "src=lp"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_non_json_literal_is_named_not_taken_for_a_long_integer(literal: str) -> None:
    # The literal's refusal is a ValueError too; it used to be caught as int()'s digit limit.
    with pytest.raises(PayloadError) as refused:
        parse_body(f'{{"a": {literal}}}'.encode(), JSON_TYPE)

    assert str(refused.value) == f"{literal} is not valid JSON"


def _nested(levels: int) -> Any:
    value: Any = 1
    for level in range(levels):
        value = {"a": value} if level % 2 else [value]
    return value


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        # The root counts as one value, as each key's value and each array item does.
        ({f"k{i}": i for i in range(MAX_JSON_NODES - 1)}, None),
        ({f"k{i}": i for i in range(MAX_JSON_NODES)}, "more than"),
        ({"a": [{"b": i} for i in range((MAX_JSON_NODES - 2) // 2)]}, None),
        ({"a": [{"b": i} for i in range((MAX_JSON_NODES - 2) // 2 + 1)]}, "more than"),
        (_nested(MAX_JSON_DEPTH), None),
        (_nested(MAX_JSON_DEPTH + 1), "nested deeper"),
        ("a scalar", None),
        ([], None),
    ],
    ids=["nodes-at-limit", "nodes-past", "mixed-at-limit", "mixed-past", "depth-at-limit",
         "depth-past", "scalar", "empty"],
)  # fmt: skip
def test_json_shape_limits_at_their_edges(value: Any, refused: str | None) -> None:
    if refused is None:
        check_json_shape(value)
    else:
        with pytest.raises(PayloadError, match=refused):
            check_json_shape(value)
