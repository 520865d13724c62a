"""common/masking.py: one way to show a personal value in a message, and it says it is masked."""

from __future__ import annotations

import pytest

from common.masking import mask_text, masked_email, masked_phone, masked_token


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(415) 555-2671", "phone '(•••) •••-••71' (masked)"),
        ("+14155552671", "phone '+•••••••••71' (masked)"),
        ("415.555.2671", "phone '•••.•••.••71' (masked)"),
        # Too few digits to show any of them.
        ("555-26", "phone '•••-••' (masked)"),
        ("911", "phone '•••' (masked)"),
        # A phone field holding an email or a name shows its shape, not its letters.
        ("call jane", "phone '•••• ••••' (masked)"),
        ("", "phone '' (masked)"),
    ],
)
def test_masked_phone(raw: str, expected: str) -> None:
    assert masked_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane.doe@example.com", "email 'j•••@example.com' (masked)"),
        ("nope", "email 'n•••' (masked)"),
        ("", "email '•••' (masked)"),
    ],
)
def test_masked_email(raw: str, expected: str) -> None:
    assert masked_email(raw) == expected


def test_masked_token_keeps_only_the_listed_prefix() -> None:
    assert masked_token("lg_AbCdEfGhIjKlMnOp") == "token 'lg_AbCd•••' (masked)"


def test_a_long_value_is_cut() -> None:
    shown = masked_phone("4" * 500)
    assert shown == "phone '" + "•" * 60 + "…' (masked)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lead +14155552671 updated", "lead phone '+•••••••••71' (masked) updated"),
        ("phone (415) 555-2671 seen", "phone phone '(•••) •••-••71' (masked) seen"),
        ("mail jane.doe@example.com bounced", "mail email 'j•••@example.com' (masked) bounced"),
        ("token lg_AbCdEfGhIjKl used", "token token 'lg_AbCd•••' (masked) used"),
        ("event 3f2a attempt 2, lead 12345, 0.25 s", "event 3f2a attempt 2, lead 12345, 0.25 s"),
    ],
)
def test_mask_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected


def test_masking_twice_changes_nothing() -> None:
    once = mask_text("a@example.com called from 415-555-2671 with lg_AbCdEfGhIjKl")
    assert mask_text(once) == once
