"""Identifier hygiene: placeholder values that count as missing, and identifiers never matched.

Providers fill required form fields with ``N/A``, ``0000000000`` or ``noemail@none.com``. A
placeholder is treated as no value at all, so a mapping's ``from`` list moves on to its next
expression; a blocked phone number or email is neither matched on nor stored, and the event
says so. Both lists are built in, and each organization adds its own (see
``worker.blocked_identifiers``). Everything here is pure: the lists come in a ``Hygiene``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from common.masking import masked_email, masked_phone

PHONE = "phone_number"
EMAIL = "email"
PLACEHOLDER = "placeholder"
# What an organization's list may hold: a phone number, an email (or "@domain"), a placeholder.
KINDS = (PHONE, EMAIL, PLACEHOLDER)

BUILTIN_PLACEHOLDERS = frozenset({"n/a", "none", "null", "-", "unknown", "test"})
_BUILTIN_PHONES = frozenset({"1234567890", "5555555555"})
# NANP's fictional numbers: any area code, exchange 555, line 0100 to 0199.
_FICTIONAL_PHONE = re.compile(r"\d{3}55501\d\d")
_BUILTIN_EMAILS = frozenset({"test@test.com"})
_PLACEHOLDER_LOCAL_PARTS = frozenset({"noemail", "none", "na", "no"})
# RFC 2606: the example second-level domains and the reserved top-level ones.
_EXAMPLE_DOMAINS = frozenset({"example.com", "example.org", "example.net"})
_RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost"})
_NATIONAL_DIGITS = 10


@dataclass(frozen=True)
class Hygiene:
    """One organization's own lists, on top of the built-in ones (values already normalized)."""

    placeholders: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()  # E.164
    emails: frozenset[str] = frozenset()  # lower-cased addresses, or "@domain" for a whole domain
    # The example numbers (555-01XX) and domains (RFC 2606) are blocked too, unless switched off.
    reserved: bool = True
    # False: no hygiene at all (a pure caller that judges the mapping alone, as before hygiene).
    enabled: bool = True

    def is_placeholder(self, value: object) -> bool:
        """True for a text value that only stands in for a missing one (any case, trimmed)."""
        if not self.enabled or not isinstance(value, str):
            return False
        text = value.strip().casefold()
        return not text or text in BUILTIN_PLACEHOLDERS or text in self.placeholders

    def blocked_reason(self, target: str, value: object) -> str | None:
        """Why ``value`` may not be ``target`` (a phone number or email); None when it may."""
        if not self.enabled or not isinstance(value, str | int) or isinstance(value, bool):
            return None
        if target == PHONE:
            return self._phone_reason(str(value))
        if target == EMAIL:
            return self._email_reason(str(value))
        return None

    def _phone_reason(self, text: str) -> str | None:
        digits = re.sub(r"\D", "", text)
        national = (
            digits[1:] if len(digits) == _NATIONAL_DIGITS + 1 and digits[0] == "1" else digits
        )
        if len(national) == _NATIONAL_DIGITS and len(set(national)) == 1:
            return "a placeholder number (one digit repeated)"
        if national in _BUILTIN_PHONES:
            return "a placeholder number"
        if (
            self.reserved
            and len(national) == _NATIONAL_DIGITS
            and _FICTIONAL_PHONE.fullmatch(national)
        ):
            return "a fictional number (555-01XX)"
        candidates = {f"+{digits}", f"+1{national}"} if digits else set()
        if candidates & self.phones:
            return "on the organization's blocked list"
        return None

    def _email_reason(self, text: str) -> str | None:
        address = text.strip().lower()
        local, at, domain = address.rpartition("@")
        if not at:
            return None
        if address in _BUILTIN_EMAILS:
            return "a placeholder address"
        if local in _PLACEHOLDER_LOCAL_PARTS:
            return "a placeholder address"
        if self.reserved and (
            domain in _EXAMPLE_DOMAINS or domain.rpartition(".")[2] in _RESERVED_TLDS
        ):
            return "at a reserved example domain (RFC 2606)"
        if address in self.emails or f"@{domain}" in self.emails:
            return "on the organization's blocked list"
        return None


BUILTIN = Hygiene()
OFF = Hygiene(enabled=False)


@dataclass(frozen=True)
class BlockedValue:
    """An identifier a payload gave and hygiene refused: which field, masked, and why."""

    field: str
    masked: str
    reason: str

    def warning(self) -> dict[str, Any]:
        """The note recorded on the event."""
        return {
            "field": self.field,
            "reason": f"{self.masked} is a blocked identifier ({self.reason}): "
            "not used to match and not stored",
        }


def blocked_value(target: str, value: object, reason: str) -> BlockedValue:
    """The refused identifier with its value masked, as events and logs may show it."""
    text = str(value).strip()
    masked = masked_phone(text) if target == PHONE else masked_email(text)
    return BlockedValue(target, masked, reason)
