"""US states, territories and military mail codes: a code or a full name in, the code out."""

from __future__ import annotations

import re

from worker.ingest.conversions import shown

# The 59 codes of models.enums.US_STATE_CODES with their USPS names.
STATE_NAMES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AS": "American Samoa",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe",
    "AP": "Armed Forces Pacific",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "GU": "Guam",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "MP": "Northern Mariana Islands",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "PR": "Puerto Rico",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VI": "U.S. Virgin Islands",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
}

# Other names in common use for the same places.
STATE_ALIASES: dict[str, str] = {
    "Washington DC": "DC",
    "Virgin Islands": "VI",
    "US Virgin Islands": "VI",
    "United States Virgin Islands": "VI",
    "Commonwealth of the Northern Mariana Islands": "MP",
    "Armed Forces Europe, the Middle East, and Canada": "AE",
    "Armed Forces Middle East": "AE",
    "Armed Forces Canada": "AE",
    "Armed Forces Africa": "AE",
}

_COMMAS = re.compile(r"[,;]")


def _name_key(name: str) -> str:
    # "U.S. Virgin Islands" and "us virgin islands", "Washington, D.C." and "washington dc" meet.
    return " ".join(_COMMAS.sub(" ", name.replace(".", "")).split()).casefold()


_CODE_BY_NAME: dict[str, str] = {
    _name_key(name): code
    for name, code in [
        *((name, code) for code, name in STATE_NAMES.items()),
        *STATE_ALIASES.items(),
    ]
}


def normalize_state(raw: object) -> str:
    """The two-letter code for a code ("il") or full name ("new york"); ValueError otherwise."""
    if not isinstance(raw, str):
        raise ValueError(f"expected a state code or name as text, got {type(raw).__name__}")
    code = raw.strip().upper()
    if code in STATE_NAMES:
        return code
    by_name = _CODE_BY_NAME.get(_name_key(raw))
    if by_name is None:
        raise ValueError(f"{shown(raw.strip())} is not a US state or territory code or name")
    return by_name
