"""Time zones of worker/ingest/timezones.py."""

from __future__ import annotations

import zoneinfo

import pytest

from models.enums import US_STATE_CODES
from worker.ingest.timezones import ZONE_BY_STATE, timezone_for

_MILITARY = ("AA", "AE", "AP")


@pytest.mark.parametrize(
    ("state", "zone"),
    [
        ("CA", "America/Los_Angeles"),
        ("NY", "America/New_York"),
        ("IL", "America/Chicago"),
        ("WI", "America/Chicago"),
        ("AZ", "America/Phoenix"),
        ("HI", "Pacific/Honolulu"),
        ("AK", "America/Anchorage"),
        ("PR", "America/Puerto_Rico"),
        ("GU", "Pacific/Guam"),
        ("AS", "Pacific/Pago_Pago"),
        ("VI", "America/St_Thomas"),
        ("MP", "Pacific/Saipan"),
        ("TX", "America/Chicago"),
        ("CO", "America/Denver"),
        ("DC", "America/New_York"),
    ],
)
def test_zone_from_state(state: str, zone: str) -> None:
    assert timezone_for(state, None) == zone


def test_every_place_has_a_real_zone_and_military_codes_have_none() -> None:
    assert set(ZONE_BY_STATE) == set(US_STATE_CODES) - set(_MILITARY)
    for zone in set(ZONE_BY_STATE.values()):
        zoneinfo.ZoneInfo(zone)


def test_state_wins_over_phone() -> None:
    # A Los Angeles number on a lead living in New York.
    assert timezone_for("NY", "+14155552671") == "America/New_York"


@pytest.mark.parametrize("state", [*_MILITARY, None, "", "ZZ"])
def test_phone_decides_without_a_usable_state(state: str | None) -> None:
    assert timezone_for(state, "+14155552671") == "America/Los_Angeles"
    assert timezone_for(state, "+12127365000") == "America/New_York"
    assert timezone_for(state, "+13128675309") == "America/Chicago"


@pytest.mark.parametrize(
    "phone",
    [
        None,
        "",
        "+18005550199",  # toll free: many zones
        "+11234567890",  # invalid
        "4155552671",  # not E.164
        "garbage",
    ],
)
def test_no_zone(phone: str | None) -> None:
    assert timezone_for(None, phone) is None
    assert timezone_for("AE", phone) is None
