"""From payload to PreparedLead: worker/ingest/prepare.py, on tables and on the shared cases."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.enums import LeadStatus, StatusOutcome, StatusReason
from worker.ingest.lead_fields import METADATA_PREFIX, MIN_REENGAGEMENT_DAYS, WRITABLE_FIELDS
from worker.ingest.mapping import MappingConfigError, compile_mapping
from worker.ingest.normalize import check_storable
from worker.ingest.prepare import prepare_lead
from worker.ingest.types import PreparedLead

# CI clones the repository into another folder with a copy of shared/ beside it.
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CASES = sorted((SHARED / "payloads" / "cases").glob("*.json"))


def prepare(mapping: dict[str, Any], payload: Any) -> PreparedLead:
    return prepare_lead(compile_mapping(mapping), payload)


def error_fields(lead: PreparedLead) -> list[str]:
    return [error.field for error in lead.errors]


def test_standard_format_with_an_empty_mapping() -> None:
    lead = prepare(
        {},
        {
            "phone_number": "(415) 555-2671",
            "email": " Jane.Doe@Example.COM ",
            "external_id": 1001,
            "us_state": "california",
            "lead_source": "Web",
            "status": "  Lost ",
            "status_outcome": "WARM_TRANSFER",
            "status_reason": "manual",
            "lead_type": "7",
            "representative": 3,
            "sms_dnc": "no",
            "call_dnc": True,
            "next_call_time": "2026-11-02T14:05:00",
            "call_schedule_start_time": "2026-11-02T09:00:00-05:00",
            "next_call_time_reason": "asked",
            "min_reengagement_days": "30",
        },
    )
    assert lead.errors == []
    assert lead.values == {
        "phone_number": "+14155552671",
        "email": "jane.doe@example.com",
        "external_id": "1001",
        "us_state": "CA",
        "lead_source": "Web",
        "status": LeadStatus.LOST,
        "status_outcome": StatusOutcome.warm_transfer,
        "status_reason": StatusReason.MANUAL,
        "lead_type": 7,
        "representative": 3,
        "sms_dnc": False,
        "call_dnc": True,
        "next_call_time": dt.datetime(2026, 11, 2, 14, 5, tzinfo=dt.UTC),
        "call_schedule_start_time": dt.datetime(2026, 11, 2, 14, tzinfo=dt.UTC),
        "next_call_time_reason": "asked",
    }
    assert lead.min_reengagement_days == 30
    assert lead.metadata == {}
    assert lead.defaults == {}


@pytest.mark.parametrize("empty", [None, "", "   ", [], {}])
def test_empty_standard_fields_are_left_out(empty: object) -> None:
    payload = {name: empty for name in WRITABLE_FIELDS} | {MIN_REENGAGEMENT_DAYS: empty}
    lead = prepare({}, payload)
    assert lead.values == {}
    assert lead.errors == []
    assert lead.min_reengagement_days is None
    assert lead.metadata == {}


def test_every_invalid_field_is_reported() -> None:
    lead = prepare(
        {},
        {
            "phone_number": "(123) 456-7890",
            "email": "not-an-email",
            "us_state": "Calif",
            "external_id": "x" * 300,
            "status": "WON",
            "lead_type": "twelve",
            "call_dnc": "maybe",
            "next_call_time": "soon",
            "min_reengagement_days": -1,
            "metadata": "not an object",
        },
    )
    assert sorted(error_fields(lead)) == sorted(
        [
            "phone_number",
            "email",
            "us_state",
            "external_id",
            "status",
            "lead_type",
            "call_dnc",
            "next_call_time",
            "min_reengagement_days",
            "metadata",
        ]
    )
    assert lead.values == {}
    assert not lead.ok


def test_read_only_fields_at_the_top_level_are_unmapped_keys() -> None:
    payload = {"id": 5, "timezone": "Europe/Paris", "campaign": 9, "created_time": "x"}
    assert prepare({}, payload).metadata == payload
    assert prepare({}, payload).values == {}
    assert prepare({"unmapped": "ignore"}, payload).metadata == {}


def test_a_rule_replaces_the_top_level_field_of_the_same_name() -> None:
    lead = prepare(
        {"fields": {"phone_number": "contact.phone"}},
        {"phone_number": "(202) 456-1111", "contact": {"phone": "415-555-2671"}, "email": "a@b.co"},
    )
    assert lead.values == {"phone_number": "+14155552671", "email": "a@b.co"}
    assert lead.metadata == {}
    lead = prepare({"fields": {"phone_number": "contact.phone"}}, {"phone_number": "2024561111"})
    assert lead.values == {}


@pytest.mark.parametrize(
    ("mapping", "payload", "metadata"),
    [
        ({}, {"first_name": "Lee", "zip": "60601"}, {"first_name": "Lee", "zip": "60601"}),
        ({"unmapped": "ignore"}, {"first_name": "Lee"}, {}),
        (
            {"fields": {"email": "contact.email"}},
            {"contact": {"email": "a@b.co"}, "x": 1},
            {"x": 1},
        ),
        (
            {"fields": {"email": "field_data[?name=='email'].values[0] | [0]"}},
            {"field_data": []},
            {},
        ),
        (
            {"fields": {"metadata.y": '"odd.key".x'}},
            {"odd.key": {"x": 1}, "odd": 2},
            {"odd": 2, "y": 1},
        ),
        (
            {"fields": {"metadata.n": {"template": "{a.b} {c}"}}},
            {"a": {}, "c": "z", "d": 4},
            {"n": "z", "d": 4},
        ),
        (
            {"fields": {"metadata.n": {"from": ["a", "b.c"]}}},
            {"b": {"c": 1}, "e": 5},
            {"n": 1, "e": 5},
        ),
        ({"fields": {"metadata.n": "[a, b]"}}, {"a": 1, "c": 3}, {"n": [1, None], "c": 3}),
        ({"fields": {"metadata.n": "@"}}, {"a": 1}, {"n": {"a": 1}}),
        ({"idempotency_key": "event.id"}, {"event": {"id": "e1"}, "k": "v"}, {"k": "v"}),
        ({"fields": {"lead_source": {"value": "web"}}}, {"lead_source": "x", "k": "v"}, {"k": "v"}),
        ({}, {"phone_number": "2024561111", "min_reengagement_days": 3}, {}),
        ({}, {"nested": {"deep": [1, {"x": None}]}}, {"nested": {"deep": [1, {"x": None}]}}),
        ({}, {"blank": None, "empty": ""}, {"blank": None, "empty": ""}),
    ],
)
def test_unmapped_keys_and_the_root_key_rule(
    mapping: dict[str, Any], payload: dict[str, Any], metadata: dict[str, Any]
) -> None:
    lead = prepare(mapping, payload)
    assert lead.metadata == metadata
    assert [error for error in lead.errors if error.field.startswith("metadata")] == []


def test_metadata_object_merge_precedence() -> None:
    mapping = {"fields": {"metadata.source": "src", "metadata.unset": "nothing.here"}}
    lead = prepare(
        mapping,
        {
            "src": "rule",
            "source": "unmapped",
            "unset": "unmapped",
            "note": "unmapped",
            "metadata": {"source": "object", "note": "object", "unset": "object", "kept": 1},
        },
    )
    # metadata.KEY rules win over the metadata object, which wins over plain unmapped keys.
    assert lead.metadata == {"source": "rule", "note": "object", "unset": "object", "kept": 1}


@pytest.mark.parametrize("unmapped", ["metadata", "ignore"])
def test_metadata_object_is_merged_in_both_modes(unmapped: str) -> None:
    lead = prepare({"unmapped": unmapped}, {"metadata": {"property_value": 725000}})
    assert lead.metadata == {"property_value": 725000}


@pytest.mark.parametrize("bad", ["text", 5, [1, 2], True])
def test_metadata_that_is_not_an_object_is_an_error(bad: object) -> None:
    lead = prepare({}, {"metadata": bad, "k": "v"})
    assert error_fields(lead) == ["metadata"]
    assert lead.metadata == {"k": "v"}


def test_a_rule_reading_metadata_takes_it_as_provider_data() -> None:
    lead = prepare({"fields": {"metadata.note": "metadata"}}, {"metadata": "just text"})
    assert lead.errors == []
    assert lead.metadata == {"note": "just text"}


def test_unstorable_metadata_is_reported_per_key() -> None:
    payload = {"ok": 1, "bad": "a\x00b", "nan": float("nan"), "": "\x00", "metadata": {"k\x00": 1}}
    lead = prepare({}, payload)
    assert sorted(error_fields(lead)) == [
        "metadata.''",
        "metadata.'k\\x00'",
        "metadata.bad",
        "metadata.nan",
    ]
    assert lead.metadata == {"ok": 1}


def test_conversion_errors_name_the_field_and_the_expression() -> None:
    lead = prepare(
        {"fields": {"metadata.loan_amount": {"from": "loan.amount", "type": "number"}}},
        {"loan": {"amount": "abc"}},
    )
    assert [error.as_dict() for error in lead.errors] == [
        {
            "field": "metadata.loan_amount",
            "message": "cannot convert 'abc' (from loan.amount) to number",
        }
    ]


def test_conversion_error_names_the_expression_of_a_from_list_that_gave_the_value() -> None:
    lead = prepare(
        {"fields": {"lead_type": {"from": ["t1", "t2"], "type": "integer"}}}, {"t2": "1.5"}
    )
    assert lead.errors[0].message == "cannot convert '1.5' (from t2) to integer"


@pytest.mark.parametrize(
    ("rule", "payload", "value"),
    [
        ({"from": "a", "type": "integer"}, {"a": " 12 "}, 12),
        ({"from": "a", "type": "number"}, {"a": "1.5"}, 1.5),
        ({"from": "a", "type": "number"}, {"a": "450000"}, 450000),
        ({"from": "a", "type": "boolean"}, {"a": "Off"}, False),
        ({"from": "a", "type": "string"}, {"a": 1001}, "1001"),
        ({"from": "a", "type": "date"}, {"a": "2026-11-02T14:05:00Z"}, "2026-11-02"),
        ({"from": "a", "type": "datetime"}, {"a": "2026-11-02T14:05"}, "2026-11-02T14:05:00+00:00"),
        ({"from": "a"}, {"a": {"raw": [1]}}, {"raw": [1]}),
        ({"template": "{a} {b}"}, {"a": "x", "b": 2}, "x 2"),
        ({"value": {"fixed": True}}, {}, {"fixed": True}),
    ],
)
def test_metadata_rules_with_types(
    rule: dict[str, Any], payload: dict[str, Any], value: Any
) -> None:
    lead = prepare({"fields": {"metadata.v": rule}}, payload)
    assert lead.errors == []
    assert lead.metadata["v"] == value


def test_datetime_rules_on_standard_fields_give_aware_datetimes() -> None:
    lead = prepare(
        {"fields": {"next_call_time": {"from": "when", "type": "datetime"}}},
        {"when": "2026-11-02 14:05"},
    )
    assert lead.values["next_call_time"] == dt.datetime(2026, 11, 2, 14, 5, tzinfo=dt.UTC)


def test_defaults_go_to_defaults_only_when_nothing_was_found() -> None:
    mapping = {
        "fields": {
            "call_dnc": {"from": "flags.dnc", "type": "boolean", "default": False},
            "status": {"from": "s", "default": "open"},
            "metadata.tier": {"from": "tier", "default": "basic"},
        }
    }
    missing = prepare(mapping, {"flags": {}})
    assert missing.values == {}
    assert missing.defaults == {
        "call_dnc": False,
        "status": LeadStatus.OPEN,
        "metadata": {"tier": "basic"},
    }
    assert missing.metadata == {}
    found = prepare(mapping, {"flags": {"dnc": "yes"}, "s": "closed", "tier": "gold"})
    assert found.values == {"call_dnc": True, "status": LeadStatus.CLOSED}
    assert found.defaults == {}
    assert found.metadata == {"tier": "gold"}
    invalid = prepare(mapping, {"flags": {"dnc": "maybe"}})
    assert error_fields(invalid) == ["call_dnc"]
    assert "call_dnc" not in invalid.defaults


@pytest.mark.parametrize("missing", [{}, {"contact": {}}, {"contact": {"phone": "  "}}])
def test_required_fields(missing: dict[str, Any]) -> None:
    mapping = {
        "fields": {
            "phone_number": {"from": ["contact.phone", "contact.mobile"], "required": True},
            "metadata.name": {"template": "{contact.first} {contact.last}", "required": True},
        }
    }
    lead = prepare(mapping, missing)
    assert [error.as_dict() for error in lead.errors] == [
        {
            "field": "phone_number",
            "message": "required: no value at contact.phone or contact.mobile",
        },
        {
            "field": "metadata.name",
            "message": "required: no value at template '{contact.first} {contact.last}'",
        },
    ]
    ok = prepare(mapping, {"contact": {"mobile": "4155552671", "last": "Doe"}})
    assert ok.errors == []
    assert ok.values == {"phone_number": "+14155552671"}
    assert ok.metadata == {"name": "Doe"}


def test_min_reengagement_days_rule() -> None:
    mapping = {"fields": {"min_reengagement_days": "options.days"}}
    assert prepare(mapping, {"options": {"days": "14"}}).min_reengagement_days == 14
    lead = prepare(mapping, {"options": {"days": "soon"}, "min_reengagement_days": 3})
    assert lead.min_reengagement_days is None
    assert error_fields(lead) == ["min_reengagement_days"]


def test_a_payload_that_is_not_an_object_is_an_error() -> None:
    lead = prepare_lead(compile_mapping({}), [1, 2])  # type: ignore[arg-type]
    assert error_fields(lead) == ["payload"]


def test_form_bodies_with_repeated_keys() -> None:
    form = urllib.parse.parse_qs("phone=4155552671&tag=a&tag=b&email=a%40b.co&email=c%40d.co")
    payload = {key: values[0] if len(values) == 1 else values for key, values in form.items()}
    lead = prepare({"fields": {"phone_number": "phone", "email": "email[0]"}}, payload)
    assert lead.values == {"phone_number": "+14155552671", "email": "a@b.co"}
    assert lead.metadata == {"tag": ["a", "b"]}
    assert error_fields(prepare({}, {"email": ["a@b.co", "c@d.co"]})) == ["email"]


# --- The shared provider cases ---------------------------------------------------------------

_DIRECT_FIELDS = ("phone_number", "email", "external_id", "us_state", "lead_source")


def _case_steps() -> list[Any]:
    steps = []
    for path in CASES:
        case = json.loads(path.read_text())
        for index, step in enumerate(case["steps"]):
            if step["expect"].get("status") in ("done", "failed"):
                steps.append(
                    pytest.param(case["config"]["mapping"], step, id=f"{path.stem}-{index}")
                )
    return steps


def _step_payload(step: dict[str, Any]) -> dict[str, Any]:
    body = step["body"]
    if isinstance(body, dict):
        return body
    assert step.get("content_type") == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs(body, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in form.items()}


def test_the_shared_cases_are_there() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"no shared/ directory beside the repository at {SHARED}")
    assert len(CASES) >= 4
    names = {path.stem for path in CASES}
    assert {"facebook-lead-ads", "form-encoded-provider", "nested-json-upsert-lifecycle"} <= names


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared/ directory beside the repository")
@pytest.mark.parametrize(("mapping", "step"), _case_steps())
def test_shared_case_step(mapping: dict[str, Any], step: dict[str, Any]) -> None:
    lead = prepare(mapping, _step_payload(step))
    expect = step["expect"]
    if expect["status"] == "failed":
        # A create without a phone number is refused by the matcher, not here.
        allowed = set(expect["errors"])
        assert set(error_fields(lead)) <= allowed
        assert allowed - set(error_fields(lead)) <= {"phone_number"}
        return
    assert lead.errors == []
    created = expect["action"] == "created"
    expected_lead = expect.get("lead", {})
    for name in _DIRECT_FIELDS:
        if name not in expected_lead:
            continue
        if name in lead.values or (created and expected_lead[name] is not None):
            assert lead.values[name] == expected_lead[name], name
    for name in ("lead_type", "status"):
        if name in lead.values:
            assert lead.values[name] == expected_lead.get(name, lead.values[name]), name
    for name in ("call_dnc", "sms_dnc"):  # sticky: a payload's true always shows
        if lead.values.get(name) is True:
            assert expected_lead.get(name, True) is True, name
    expected_metadata = {
        key: value
        for key, value in expected_lead.get("metadata", {}).items()
        if key != "timezone"  # the applier derives it
    }
    for key, value in lead.metadata.items():
        if key in expected_metadata:
            assert value == expected_metadata[key], key
    if created:
        assert expected_metadata.items() <= lead.metadata.items()


# --- Properties ------------------------------------------------------------------------------

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats()
    | st.text(max_size=30)
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_known_keys = st.sampled_from(
    [*WRITABLE_FIELDS, "metadata", MIN_REENGAGEMENT_DAYS, "contact", "lead", "loan", "field_data"]
)
_payloads = st.dictionaries(_known_keys | st.text(max_size=12), _json_values, max_size=8)

_MAPPINGS: list[dict[str, Any]] = [
    {},
    {"unmapped": "ignore"},
    {
        "fields": {
            "external_id": "leadgen_id",
            "email": "field_data[?name=='email'].values[0] | [0]",
            "phone_number": "field_data[?name=='phone_number'].values[0] | [0]",
            "us_state": "field_data[?name=='state'].values[0] | [0]",
            "lead_source": {"value": "facebook"},
        },
        "unmapped": "ignore",
    },
    {
        "fields": {
            "external_id": {"from": "lead.id", "type": "string"},
            "phone_number": {"from": ["contact.phone", "contact.mobile"]},
            "email": "contact.email",
            "us_state": "address.state",
            "lead_source": {"value": "AcmeMortgage"},
            "status": {"from": "contact.status", "default": "open"},
            "next_call_time": {"from": "lead.when", "type": "datetime"},
            "metadata.full_name": {"template": "{contact.first_name} {contact.last_name}"},
            "metadata.loan_amount": {"from": "loan.amount", "type": "number"},
            "metadata.day": {"from": "lead.day", "type": "date"},
            "metadata.email": "field_data[?name=='email'].values[0] | [0]",
            "metadata.flag": {"from": "lead.flag", "type": "boolean", "required": True},
            "min_reengagement_days": {"from": "lead.days", "type": "integer"},
        },
        "idempotency_key": "lead.event",
    },
    {"fields": {"metadata.everything": "@", "call_dnc": {"from": "*.dnc | [0]"}}},
]
_compiled = [compile_mapping(mapping) for mapping in _MAPPINGS]
_ALLOWED_FIELDS = {*WRITABLE_FIELDS, "metadata", MIN_REENGAGEMENT_DAYS, "payload"}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(_compiled))), _payloads)
def test_any_payload_gives_a_prepared_lead_and_every_error_names_a_field(
    which: int, payload: dict[str, Any]
) -> None:
    mapping = _compiled[which]
    lead = prepare_lead(mapping, payload)
    assert isinstance(lead, PreparedLead)
    for error in lead.errors:
        assert error.field in _ALLOWED_FIELDS or error.field.startswith(METADATA_PREFIX)
        assert len(error.field) > len(METADATA_PREFIX) or error.field in _ALLOWED_FIELDS
        assert error.message.strip()
        check_storable(error.as_dict())  # the event row can hold every error
    assert set(lead.values) <= set(WRITABLE_FIELDS)
    check_storable(lead.metadata)
    if "phone_number" in lead.values:
        assert lead.values["phone_number"].startswith("+")
    for name in ("next_call_time", "call_schedule_start_time"):
        if name in lead.values:
            assert lead.values[name].tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_any_json_value_as_a_payload_never_raises(payload: Any) -> None:
    lead = prepare_lead(_compiled[3], payload)
    assert all(error.field and error.message for error in lead.errors)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _json_values, max_size=4) | _json_values)
def test_compile_mapping_refuses_any_bad_mapping_with_a_mapping_error(mapping: Any) -> None:
    try:
        compile_mapping(mapping)
    except MappingConfigError as error:
        problems = error.problems
        assert problems
        assert all(problem.strip() for problem in problems)


# --- decode: a top-level key's JSON text parsed before the rules run ---------------------

UNBOUNCE_MAPPING: dict[str, Any] = {
    "decode": {"data.json": "json"},
    "fields": {
        "phone_number": '"data.json".phone_number[0]',
        "email": '"data.json".email[0]',
    },
}


def test_a_decoded_key_is_mapped_as_the_object_its_text_holds() -> None:
    text = json.dumps({"phone_number": ["4155552671"], "email": ["Ann@Example.com"]})

    lead = prepare(UNBOUNCE_MAPPING, {"data.json": text, "page_id": "p-1"})

    assert lead.errors == []
    assert lead.values == {"phone_number": "+14155552671", "email": "ann@example.com"}
    # The decoded key is read by the rules, so it is not copied into metadata as text.
    assert lead.metadata == {"page_id": "p-1"}


@pytest.mark.parametrize(
    "text", ['{"phone_number": [', "NaN", '{"a": 1} trailing'], ids=["cut", "nan", "trailing"]
)
def test_a_value_that_does_not_decode_is_an_error_naming_the_key(text: str) -> None:
    lead = prepare(UNBOUNCE_MAPPING, {"data.json": text})

    assert error_fields(lead) == ["data.json"]
    assert "(decode: json)" in lead.errors[0].message
    assert "data.json" not in lead.metadata


def test_an_already_structured_value_is_taken_as_it_is() -> None:
    lead = prepare(UNBOUNCE_MAPPING, {"data.json": {"phone_number": ["4155552671"]}})

    assert lead.errors == []
    assert lead.values == {"phone_number": "+14155552671"}


def test_decode_runs_before_unmapped_keys_are_copied() -> None:
    mapping = {"decode": {"rawRequest": "json"}, "fields": {"phone_number": "tel"}}

    lead = prepare(mapping, {"tel": "4155552671", "rawRequest": '{"q3_note": "call after 5"}'})

    assert lead.metadata == {"rawRequest": {"q3_note": "call after 5"}}
