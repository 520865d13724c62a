"""Email addresses: trimmed, lower-cased and syntax-checked (no DNS look-ups)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from common.masking import masked_email


def normalize_email(raw: object) -> str:
    """The address trimmed and lower-cased; ValueError saying why when it is not a valid address."""
    if not isinstance(raw, str):
        raise ValueError(f"expected an email address as text, got {type(raw).__name__}")
    address = raw.strip().lower()
    try:
        validated = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        # Error messages go back to the provider and into the event: never the address itself.
        reason = str(error).replace(address, "the address")
        raise ValueError(
            f"{masked_email(address)} is not a valid email address: {reason}"
        ) from None
    # The library's normal form (IDNA-checked domain, Unicode NFC) keeps equal addresses equal.
    return validated.normalized
