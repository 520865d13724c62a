"""Email normalization of worker/ingest/emails.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.ingest.emails import normalize_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("x@example.com", "x@example.com"),
        (" Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("PAT@example.com", "pat@example.com"),
        ("maria.lopez@example.org", "maria.lopez@example.org"),
        ("first_name@example.com", "first_name@example.com"),
        ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
        ("\tlee@example.com\n", "lee@example.com"),
        ("o'brien@example.com", "o'brien@example.com"),
        ("user@BÜCHER.de", "user@bücher.de"),
    ],
)
def test_normalize_email(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "not-an-email",
        "bad@@example",
        "bad@@example.com",
        "@example.com",
        "user@",
        "user@localhost",
        "user@example",
        "two words@example.com",
        "user@exa mple.com",
        "user@.example.com",
        "user..dots@example.com",
        "a@b.invalid",
        "",
        "x" * 300 + "@example.com",
    ],
)
def test_normalize_email_refuses_invalid_addresses(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a valid email address"):
        normalize_email(raw)


def test_message_masks_the_address_and_names_the_reason() -> None:
    with pytest.raises(
        ValueError, match=r"^email 'n•••' \(masked\) is not a valid email address: .*@-sign"
    ):
        normalize_email("not-an-email")
    with pytest.raises(ValueError, match="invalid characters") as raised:
        normalize_email("jane.doe@exa mple.com")
    assert "jane.doe" not in str(raised.value)
    assert "email 'j•••@exa mple.com' (masked)" in str(raised.value)


@pytest.mark.parametrize("raw", [None, 5, True, ["a@example.com"], {"email": "a@example.com"}])
def test_normalize_email_refuses_other_types(raw: object) -> None:
    with pytest.raises(ValueError, match="expected an email address as text"):
        normalize_email(raw)


@given(st.text(max_size=60))
def test_normalize_email_only_ever_raises_value_error(raw: str) -> None:
    try:
        result = normalize_email(raw)
    except ValueError as error:
        message = str(error)
        assert message
    else:
        assert result == result.strip()
        assert "@" in result
        assert normalize_email(result) == result
