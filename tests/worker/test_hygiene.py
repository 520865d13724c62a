"""Identifier hygiene as pure rules: placeholders, blocked identifiers, what decide does."""

from __future__ import annotations

import pytest

from models import IngestionConfig
from models.enums import Endpoint, EventAction
from worker.ingest.decision import EventOrder, decide
from worker.ingest.hygiene import BUILTIN, Hygiene
from worker.ingest.mapping import compile_mapping
from worker.ingest.matching import LeadsInPlay
from worker.ingest.prepare import prepare_lead

MAPPING = {
    "fields": {
        "phone_number": {"from": ["contact.phone", "contact.mobile"]},
        "email": "contact.email",
        "external_id": "id",
        "metadata.city": {"from": ["city", "town"]},
    }
}


def _config() -> IngestionConfig:
    return IngestionConfig(
        organization_id=1,
        campaign_id=1,
        name="c",
        mapping=MAPPING,
        match_keys=["external_id", "phone_number", "email"],
        standard_api=False,
    )


@pytest.mark.parametrize("value", ["N/A", "n/a", " none ", "NULL", "-", "Unknown", "TEST", "   "])
def test_builtin_placeholders_count_as_missing(value: str) -> None:
    assert BUILTIN.is_placeholder(value)


@pytest.mark.parametrize("value", ["Jane", "nobody", "n/a2", 0, None])
def test_real_values_are_not_placeholders(value: object) -> None:
    assert not BUILTIN.is_placeholder(value)


def test_organization_placeholders_add_to_the_builtin_ones() -> None:
    hygiene = Hygiene(placeholders=frozenset({"declined"}))
    assert hygiene.is_placeholder("DECLINED") and hygiene.is_placeholder("N/A")
    assert not BUILTIN.is_placeholder("declined")


@pytest.mark.parametrize(
    "phone",
    ["0000000000", "(222) 222-2222", "+1 999 999 9999", "1234567890", "555-555-5555",
     "(415) 555-0123", "1-212-555-0199"],
)  # fmt: skip
def test_builtin_blocked_phones(phone: str) -> None:
    assert BUILTIN.blocked_reason("phone_number", phone) is not None


@pytest.mark.parametrize("phone", ["(202) 456-1111", "+14155552671", "415-555-0200"])
def test_real_phones_are_not_blocked(phone: str) -> None:
    assert BUILTIN.blocked_reason("phone_number", phone) is None


@pytest.mark.parametrize(
    "email",
    ["test@test.com", "NoEmail@none.com", "none@gmail.com", "na@x.org", "no@y.com",
     "jane@example.com", "j@example.org", "j@example.net", "j@site.test", "j@host.invalid",
     "j@a.example", "j@localhost"],
)  # fmt: skip
def test_builtin_blocked_emails(email: str) -> None:
    assert BUILTIN.blocked_reason("email", email) is not None


@pytest.mark.parametrize("email", ["jane@gmail.com", "nora@none.com", "j@examples.com"])
def test_real_emails_are_not_blocked(email: str) -> None:
    assert BUILTIN.blocked_reason("email", email) is None


def test_organization_lists_block_numbers_addresses_and_domains() -> None:
    hygiene = Hygiene(
        phones=frozenset({"+12024561111"}), emails=frozenset({"ops@acme.io", "@spam.io"})
    )
    assert hygiene.blocked_reason("phone_number", "(202) 456-1111") is not None
    assert hygiene.blocked_reason("email", " OPS@acme.io") is not None
    assert hygiene.blocked_reason("email", "anyone@spam.io") is not None
    assert hygiene.blocked_reason("email", "dev@acme.io") is None


def test_a_placeholder_moves_the_from_list_on() -> None:
    payload = {
        "contact": {"phone": "N/A", "mobile": "(202) 456-1111"},
        "city": "none",
        "town": "Reno",
    }
    prepared = prepare_lead(compile_mapping(MAPPING), payload, BUILTIN)
    assert prepared.values["phone_number"] == "+12024561111"
    assert prepared.metadata["city"] == "Reno"
    assert not prepared.errors


def test_an_organization_placeholder_moves_the_from_list_on() -> None:
    payload = {"contact": {"phone": "declined", "mobile": "(202) 456-1111"}}
    hygiene = Hygiene(placeholders=frozenset({"declined"}))
    prepared = prepare_lead(compile_mapping(MAPPING), payload, hygiene)
    assert prepared.values["phone_number"] == "+12024561111"
    assert not prepared.errors


def test_a_blocked_identifier_is_left_out_and_warned_about_masked() -> None:
    payload = {"id": "a-1", "contact": {"phone": "(202) 456-1111", "email": "noemail@none.com"}}
    prepared = prepare_lead(compile_mapping(MAPPING), payload, BUILTIN)
    assert "email" not in prepared.values
    decision = decide(prepared, LeadsInPlay(), _config(), Endpoint.upsert, EventOrder.newest())
    assert decision.action == EventAction.created
    assert "email" not in decision.values or decision.values["email"] is None
    [warning] = decision.warnings
    assert warning["field"] == "email"
    assert "blocked identifier" in warning["reason"]
    assert "noemail@" not in warning["reason"]  # masked
    assert "n•••@none.com" in warning["reason"]


def test_a_top_level_blocked_phone_is_left_out_too() -> None:
    prepared = prepare_lead(compile_mapping({}), {"phone_number": "0000000000"}, BUILTIN)
    assert "phone_number" not in prepared.values and not prepared.errors
    assert prepared.blocked[0].field == "phone_number"


def test_a_create_left_without_a_valid_phone_fails_naming_the_blocked_number() -> None:
    payload = {"id": "a-2", "contact": {"phone": "5555555555", "email": "jane@gmail.com"}}
    prepared = prepare_lead(compile_mapping(MAPPING), payload, BUILTIN)
    decision = decide(prepared, LeadsInPlay(), _config(), Endpoint.upsert, EventOrder.newest())
    assert decision.failed
    [error] = decision.errors
    assert error.field == "phone_number"
    assert "blocked identifier" in error.message and "required to create" in error.message
    assert "5555555555" not in error.message


def test_reserved_numbers_and_domains_pass_when_the_organization_allows_them() -> None:
    allowing = Hygiene(reserved=False)
    assert allowing.blocked_reason("email", "jane@example.com") is None
    assert allowing.blocked_reason("phone_number", "(415) 555-0123") is None
    # The placeholders stay blocked: no organization has a use for them.
    assert allowing.blocked_reason("email", "noemail@none.com") is not None
    assert allowing.blocked_reason("phone_number", "0000000000") is not None


def test_without_hygiene_the_mapping_alone_decides() -> None:
    payload = {"contact": {"phone": "N/A", "mobile": "(202) 456-1111", "email": "na@x.org"}}
    prepared = prepare_lead(compile_mapping(MAPPING), payload)
    assert prepared.values["email"] == "na@x.org"
    assert "phone_number" in {error.field for error in prepared.errors}
