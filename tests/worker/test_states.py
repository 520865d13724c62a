"""US state normalization of worker/ingest/states.py."""

from __future__ import annotations

import pytest

from models.enums import US_STATE_CODES
from worker.ingest.states import STATE_ALIASES, STATE_NAMES, normalize_state


def test_every_code_has_a_name() -> None:
    assert len(US_STATE_CODES) == 59
    assert set(STATE_NAMES) == set(US_STATE_CODES)


@pytest.mark.parametrize("code", US_STATE_CODES)
def test_every_code_in_any_case(code: str) -> None:
    assert normalize_state(code) == code
    assert normalize_state(code.lower()) == code
    assert normalize_state(code.capitalize()) == code
    assert normalize_state(f"  {code.lower()} ") == code


@pytest.mark.parametrize(("code", "name"), sorted(STATE_NAMES.items()))
def test_every_full_name_in_any_case_and_spacing(code: str, name: str) -> None:
    assert normalize_state(name) == code
    assert normalize_state(name.lower()) == code
    assert normalize_state(name.upper()) == code
    assert normalize_state("  " + "   ".join(name.split()) + " ") == code


@pytest.mark.parametrize(("alias", "code"), sorted(STATE_ALIASES.items()))
def test_aliases(alias: str, code: str) -> None:
    assert normalize_state(alias) == code
    assert normalize_state(alias.lower()) == code


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("California", "CA"),
        ("new york", "NY"),
        ("District of Columbia", "DC"),
        ("Puerto Rico", "PR"),
        ("Armed Forces Europe", "AE"),
        ("Armed Forces Americas", "AA"),
        ("Armed Forces Pacific", "AP"),
        ("U.S. Virgin Islands", "VI"),
        ("Virgin Islands", "VI"),
        ("US Virgin Islands", "VI"),
        ("Northern Mariana Islands", "MP"),
        ("American Samoa", "AS"),
        ("Guam", "GU"),
        ("il", "IL"),
        ("Illinois", "IL"),
        ("Wisconsin", "WI"),
        ("Washington", "WA"),
        ("Washington, D.C.", "DC"),
        ("washington dc", "DC"),
        ("new   HAMPSHIRE", "NH"),
    ],
)
def test_examples(raw: str, code: str) -> None:
    assert normalize_state(raw) == code


@pytest.mark.parametrize(
    "raw", ["Calif", "Cal.", "XX", "C", "ZZZ", "New", "Yorkshire", "Ontario", "", "   ", "U.S."]
)
def test_unknown_states_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a US state or territory code or name"):
        normalize_state(raw)


@pytest.mark.parametrize("raw", [None, 6, True, ["CA"], {"state": "CA"}])
def test_other_types_are_refused(raw: object) -> None:
    with pytest.raises(ValueError, match="expected a state code or name as text"):
        normalize_state(raw)
