"""Phone numbers: any common US format (or E.164) in, E.164 out, with a reason when invalid."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

from common.masking import masked_phone

DEFAULT_REGION = "US"
_NANP_COUNTRY_CODE = 1

_TOO_SHORT = phonenumbers.ValidationResult.TOO_SHORT
_TOO_LONG = phonenumbers.ValidationResult.TOO_LONG
_LOCAL_ONLY = phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY
_PROBE_EXCHANGES = ("234", "456", "555", "789", "867", "975")


def normalize_phone(raw: object) -> str:
    """The number in E.164 ("+14155552671"); ValueError saying why when it is not a valid number."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError(f"expected a phone number as text, got {type(raw).__name__}")
    text = str(raw).strip()
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except NumberParseException:
        # Error messages go back to the provider and into the event: never the number itself.
        # The reasons below name the area code, the usual culprit, on their own.
        raise ValueError(f"{masked_phone(text)} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            f"{masked_phone(text)} is not a valid {_label(number)}: {_invalid_reason(number)}"
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def parse_e164(phone_e164: str) -> PhoneNumber | None:
    """The parsed number for an E.164 string, or None when it does not parse as a valid number."""
    try:
        number = phonenumbers.parse(phone_e164, None)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _label(number: PhoneNumber) -> str:
    return "US phone number" if number.country_code == _NANP_COUNTRY_CODE else "phone number"


def _invalid_reason(number: PhoneNumber) -> str:
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == _TOO_SHORT:
        return "too few digits"
    if possible == _TOO_LONG:
        return "too many digits"
    if possible == _LOCAL_ONLY:
        return "a local number without its area code"
    national = phonenumbers.national_significant_number(number)
    if number.country_code != _NANP_COUNTRY_CODE or len(national) != 10:
        return "no such number exists in its numbering plan"
    area, exchange = national[:3], national[3:6]
    if area[0] in "01":
        return f"area code {area} does not exist (area codes never start with {area[0]})"
    if area[1:] == "11":
        return f"{area} is a service code, not an area code"
    if not _area_code_in_service(area):
        return f"area code {area} is not assigned to any US state, territory or NANP country"
    if exchange[0] in "01":
        return f"its exchange does not exist (exchanges never start with {exchange[0]})"
    return f"no such number is in service in area code {area}"


def _area_code_in_service(area: str) -> bool:
    # phonenumbers validates whole numbers only, so try the area code with ordinary exchanges.
    probes = (f"+1{area}{exchange}4567" for exchange in _PROBE_EXCHANGES)
    return any(phonenumbers.is_valid_number(phonenumbers.parse(probe)) for probe in probes)
