"""Phone number normalization of worker/ingest/phones.py."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.masking import masked_phone
from worker.ingest.phones import normalize_phone, parse_e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(415) 555-2671", "+14155552671"),
        ("415-555-2671", "+14155552671"),
        ("415.555.2671", "+14155552671"),
        ("415 555 2671", "+14155552671"),
        ("4155552671", "+14155552671"),
        ("+14155552671", "+14155552671"),
        ("14155552671", "+14155552671"),
        ("1-415-555-2671", "+14155552671"),
        ("1 (415) 555-2671", "+14155552671"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("+1.415.555.2671", "+14155552671"),
        ("  (415) 555-2671  ", "+14155552671"),
        ("(415)555-2671", "+14155552671"),
        (4155552671, "+14155552671"),
        (14155552671, "+14155552671"),
        ("(917) 555-0123", "+19175550123"),
        ("917-555-0123", "+19175550123"),
        ("(202) 456-1111", "+12024561111"),
        ("2024561111", "+12024561111"),
        ("650-253-0000", "+16502530000"),
        ("212.736.5000", "+12127365000"),
        ("312.867.5309", "+13128675309"),
        ("+13128675309", "+13128675309"),
        ("(646) 200-3311", "+16462003311"),
        ("+18042221111", "+18042221111"),
        ("(800) 555-0199", "+18005550199"),
        ("(787) 555-1234", "+17875551234"),  # Puerto Rico
        ("(671) 555-1234", "+16715551234"),  # Guam
        ("+44 20 7946 0958", "+442079460958"),  # E.164 of another country is accepted
    ],
)
def test_normalize_phone_accepts_common_us_formats(raw: object, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("(123) 456-7890", "area code 123 does not exist"),
        ("123-456-7890", "area code 123 does not exist"),
        ("(023) 456-7890", "area code 023 does not exist"),
        ("(555) 123-4567", "area code 555 is not assigned"),
        ("555-555-5555", "area code 555 is not assigned"),
        ("(999) 555-2671", "area code 999 is not assigned"),
        ("(370) 555-2671", "area code 370 is not assigned"),
        ("(911) 555-2671", "911 is a service code"),
        ("(415) 055-2671", "exchange does not exist (exchanges never start with 0)"),
        ("(415) 155-2671", "exchange does not exist (exchanges never start with 1)"),
        ("(555) 055-4567", "area code 555 is not assigned"),
        ("555-2671", "a local number without its area code"),
        ("911", "too few digits"),
        ("+1415555267", "too few digits"),
        ("+141555526711", "too many digits"),
        ("415555267112345", "too many digits"),
    ],
)
def test_normalize_phone_refuses_invalid_numbers_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match="is not a valid US phone number") as raised:
        normalize_phone(raw)
    assert reason in str(raised.value)
    assert masked_phone(raw.strip()) in str(raised.value)


def test_the_documented_example_message() -> None:
    expected = (
        "phone '(•••) •••-••90' (masked) is not a valid US phone number:"
        " area code 123 does not exist"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}"):
        normalize_phone("(123) 456-7890")


@pytest.mark.parametrize("raw", ["not a phone", "", "   ", "+", "call me", "@@@"])
def test_normalize_phone_refuses_text_that_is_no_number(raw: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalize_phone(raw)


@pytest.mark.parametrize("raw", [None, True, 4155552671.0, ["4155552671"], {"n": "4155552671"}])
def test_normalize_phone_refuses_other_types(raw: object) -> None:
    with pytest.raises(ValueError, match="expected a phone number as text"):
        normalize_phone(raw)


def test_parse_e164() -> None:
    assert parse_e164("+14155552671") is not None
    assert parse_e164("4155552671") is None
    assert parse_e164("+11234567890") is None


@given(st.text(max_size=40) | st.integers())
def test_normalize_phone_only_ever_raises_value_error(raw: object) -> None:
    try:
        result = normalize_phone(raw)
    except ValueError as error:
        message = str(error)
        assert message
    else:
        assert result.startswith("+")
        assert result[1:].isdigit()
        assert normalize_phone(result) == result


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("(123) 456-7890", "phone '(•••) •••-••90' (masked)"),
        ("+1 (555) 234-5678", "phone '+• (•••) •••-••78' (masked)"),
        ("1-212-055-0199", "phone '•-•••-•••-••99' (masked)"),
        ("415-555-26", "phone '•••-•••-26' (masked)"),
        ("jane@example.com", "phone '••••@•••••••.•••' (masked)"),
    ],
)
def test_error_messages_never_carry_the_whole_number(raw: str, shown: str) -> None:
    with pytest.raises(ValueError, match="phone number") as raised:
        normalize_phone(raw)
    message = str(raised.value)
    assert message.startswith(shown)
    digits = "".join(char for char in raw if char.isdigit())
    assert raw not in message
    assert not digits or digits[-7:-2] not in "".join(c for c in message if c.isdigit())
