"""A lead's IANA time zone: from its state when it has one, else from its phone number."""

from __future__ import annotations

from phonenumbers import timezone as phone_timezones

from worker.ingest.phones import parse_e164

_EASTERN = "America/New_York"
_CENTRAL = "America/Chicago"
_MOUNTAIN = "America/Denver"
_PACIFIC = "America/Los_Angeles"

# One representative zone per state or territory: where most of its people live. The military mail
# codes (AA, AE, AP) name no place, so they are left out and the phone number decides.
ZONE_BY_STATE: dict[str, str] = {
    "AL": _CENTRAL,
    "AK": "America/Anchorage",
    "AS": "Pacific/Pago_Pago",
    "AZ": "America/Phoenix",
    "AR": _CENTRAL,
    "CA": _PACIFIC,
    "CO": _MOUNTAIN,
    "CT": _EASTERN,
    "DE": _EASTERN,
    "DC": _EASTERN,
    "FL": _EASTERN,
    "GA": _EASTERN,
    "GU": "Pacific/Guam",
    "HI": "Pacific/Honolulu",
    "ID": "America/Boise",
    "IL": _CENTRAL,
    "IN": "America/Indiana/Indianapolis",
    "IA": _CENTRAL,
    "KS": _CENTRAL,
    "KY": _EASTERN,
    "LA": _CENTRAL,
    "ME": _EASTERN,
    "MD": _EASTERN,
    "MA": _EASTERN,
    "MI": "America/Detroit",
    "MN": _CENTRAL,
    "MS": _CENTRAL,
    "MO": _CENTRAL,
    "MT": _MOUNTAIN,
    "NE": _CENTRAL,
    "NV": _PACIFIC,
    "NH": _EASTERN,
    "NJ": _EASTERN,
    "NM": _MOUNTAIN,
    "NY": _EASTERN,
    "NC": _EASTERN,
    "ND": _CENTRAL,
    "MP": "Pacific/Saipan",
    "OH": _EASTERN,
    "OK": _CENTRAL,
    "OR": _PACIFIC,
    "PA": _EASTERN,
    "PR": "America/Puerto_Rico",
    "RI": _EASTERN,
    "SC": _EASTERN,
    "SD": _CENTRAL,
    "TN": _CENTRAL,
    "TX": _CENTRAL,
    "UT": _MOUNTAIN,
    "VT": _EASTERN,
    "VI": "America/St_Thomas",
    "VA": _EASTERN,
    "WA": _PACIFIC,
    "WV": _EASTERN,
    "WI": _CENTRAL,
    "WY": _MOUNTAIN,
}

_UNKNOWN_ZONE = "Etc/Unknown"


def timezone_for(us_state: str | None, phone_e164: str | None) -> str | None:
    """The IANA zone of a state code, else of a phone number that has exactly one, else None."""
    if us_state is not None:
        zone = ZONE_BY_STATE.get(us_state.strip().upper())
        if zone is not None:
            return zone
    if not phone_e164:
        return None
    number = parse_e164(phone_e164)
    if number is None:
        return None
    zones = phone_timezones.time_zones_for_number(number)
    if len(zones) == 1 and zones[0] != _UNKNOWN_ZONE:
        return str(zones[0])
    return None
