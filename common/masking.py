"""Masking personal values (phone numbers, emails) and tokens wherever a message shows one.

One rule for every place: an error message that goes back to a provider and into an event, a log
line, a CLI's output. A masked value says what it is and that it is masked, so that
``phone '(•••) •••-••71' (masked)`` never reads as a formatting bug in the data.
"""

from __future__ import annotations

import re

HIDDEN = "•"
# A received value longer than this is cut: a message quotes a value, it does not carry one.
_QUOTE_LIMIT = 60
# With fewer digits than a local number has, the last two are too much of it to show.
_MIN_DIGITS_TO_SHOW_TAIL = 7
_TOKEN_PREFIX_LENGTH = 7  # "lg_" and four characters: what `leadgate token list` shows

# The safety net of free text (logs): emails, phone-like digit runs and tokens, whoever wrote them.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w-])\+?1?[\s.(-]*\d{3}[\s.)-]*\d{3}[\s.-]*\d{4}(?![\w-])")
_TOKEN = re.compile(r"\blg_[A-Za-z0-9_-]{5,}")


def _quoted(text: str) -> str:
    # Cut before quoting, so the quote still closes; repr shows control characters as escapes.
    return repr(text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "…")


def _label(kind: str, hidden: str) -> str:
    return f"{kind} {_quoted(hidden)} (masked)"


def hidden_phone(text: str) -> str:
    """``(•••) •••-••71``: letters and digits hidden but the last two digits.

    The punctuation stays, so a provider still sees the format it sent; letters are hidden too,
    since a phone field may hold an email or a name.
    """
    digits = [index for index, char in enumerate(text) if char.isdigit()]
    shown = set(digits[-2:]) if len(digits) >= _MIN_DIGITS_TO_SHOW_TAIL else set()
    return "".join(
        char if index in shown or not char.isalnum() else HIDDEN for index, char in enumerate(text)
    )


def masked_phone(text: str) -> str:
    """``phone '(•••) •••-••71' (masked)``: the phone hidden as ``hidden_phone`` hides it."""
    return _label("phone", hidden_phone(text))


def hidden_email(text: str) -> str:
    """``j•••@example.com``: the first character and the domain are kept."""
    local, at, domain = text.partition("@")
    return local[:1] + HIDDEN * 3 + at + domain


def masked_email(text: str) -> str:
    """``email 'j•••@example.com' (masked)``: the email hidden as ``hidden_email`` hides it."""
    return _label("email", hidden_email(text))


def masked_token(text: str) -> str:
    """``token 'lg_AbCd•••' (masked)``: the prefix that names a token, never the secret."""
    return _label("token", text[:_TOKEN_PREFIX_LENGTH] + HIDDEN * 3)


def mask_text(text: str) -> str:
    """Free text with every email, phone number and token in it masked as above."""
    text = _EMAIL.sub(lambda found: masked_email(found.group()), text)
    text = _PHONE.sub(lambda found: masked_phone(found.group()), text)
    return _TOKEN.sub(lambda found: masked_token(found.group()), text)
