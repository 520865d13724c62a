"""Properties at the edges the unit properties in tests/worker do not reach.

tests/worker/test_prepare.py already checks that any payload through a handful of fixed mappings
gives a PreparedLead whose errors name fields, and that any JSON value given to
``compile_mapping`` raises nothing but MappingConfigError. Here:

- arbitrary JSON objects and forms posted to the dry-run endpoint (HTTP, a real database) never
  get a 5xx, and every error in the answer names a field;
- arbitrary *structured* mappings (fields of rule objects with every rule key, good and bad
  expressions, types, defaults) either compile or raise MappingConfigError whose every problem
  names the rule (or top-level key) it is about;
- a mapping that compiles, applied to an arbitrary payload, raises nothing and reports errors
  only on that mapping's targets and the standard fields.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.support.factories import Tenant, make_tenant
from worker.dry_run import WOULD_VALUES
from worker.ingest.conversions import TYPE_NAMES
from worker.ingest.lead_fields import METADATA_PREFIX, MIN_REENGAGEMENT_DAYS, WRITABLE_FIELDS
from worker.ingest.mapping import MappingConfigError, compile_mapping
from worker.ingest.prepare import prepare_lead

pytestmark = pytest.mark.fuzz

# CI replays the same examples every run, so a red build always means a change broke something;
# elsewhere each run explores new ones.
DERANDOMIZE = os.environ.get("CI", "").lower() == "true"

# Fields an error may name whatever the mapping: the standard ones, the payload as a whole.
_STANDARD_ERROR_FIELDS = {*WRITABLE_FIELDS, "metadata", MIN_REENGAGEMENT_DAYS, "payload"}
_TOP_LEVEL_PREFIXES = ("mapping: ", "unmapped: ", "idempotency_key: ", "fields: ")

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_json_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
_looks_like_lead = st.sampled_from(
    [
        "(415) 555-2671",
        "+1 202 456 1111",
        "2024561111",
        "123",
        "Jane.Doe@Example.COM",
        "not-an-email",
        "california",
        "CA",
        "lost",
        "yes",
        "2026-11-02T14:05:00",
        "7",
    ]
)
_payload_keys = st.sampled_from(
    [*WRITABLE_FIELDS, "metadata", MIN_REENGAGEMENT_DAYS, "contact", "lead", "field_data"]
) | st.text(max_size=10)
_payloads = st.dictionaries(_payload_keys, _json_values | _looks_like_lead, max_size=8)

_expressions = st.sampled_from(
    [
        "a",
        "contact.phone",
        "contact.email",
        "field_data[?name=='email'].values[0] | [0]",
        '"odd.key".x',
        "@",
        "*.x | [0]",
        "[a, b]",
        "`1`",
        "length(a)",
        "a[",
        "foo(",
        "a ||",
        "",
        "   ",
        "contact.phone[",
    ]
) | st.text(max_size=12)
_targets = st.sampled_from(
    [
        *WRITABLE_FIELDS,
        MIN_REENGAGEMENT_DAYS,
        "metadata.x",
        "metadata.a.b",
        "metadata.",
        "metadata",
        "id",
        "timezone",
        "campaign",
        "Email",
        "",
    ]
) | st.text(max_size=10)
_types = st.sampled_from([*TYPE_NAMES, "decimal", "String", None]) | _scalars
_templates = st.sampled_from(["{a} {b}", "{contact.first}", "{a[}", "{}", "plain", ""]) | st.text(
    max_size=12
)
_rule_objects = st.fixed_dictionaries(
    {},
    optional={
        "from": _expressions | st.lists(_expressions, max_size=3) | _json_values,
        "value": _json_values | _looks_like_lead,
        "template": _templates | _json_values,
        "type": _types,
        "default": _json_values | _looks_like_lead,
        "required": st.booleans() | _scalars,
        "extra": _json_values,
    },
)
_rules = _expressions | _rule_objects | _json_values
_anything_mappings = st.fixed_dictionaries(
    {},
    optional={
        "fields": st.dictionaries(_targets, _rules, max_size=5) | _json_values,
        "unmapped": st.sampled_from(["metadata", "ignore", "keep", None, 1]),
        "idempotency_key": _expressions | _json_values,
        "extra": _json_values,
    },
)
# Mostly-valid mappings, so that many compile and meet arbitrary payloads.
_good_expressions = st.sampled_from(
    ["a", "contact.phone", "contact.email", "field_data[?name=='email'].values[0] | [0]", "@"]
)
_good_rules = (
    _good_expressions
    | st.fixed_dictionaries(
        {"from": _good_expressions | st.lists(_good_expressions, min_size=1, max_size=3)},
        optional={"required": st.booleans()},
    )
    | st.fixed_dictionaries({"template": st.sampled_from(["{a} {b}", "{contact.first}", "x"])})
)
_good_targets = st.sampled_from([*WRITABLE_FIELDS, MIN_REENGAGEMENT_DAYS]) | st.text(
    min_size=1, max_size=8
).map(lambda key: METADATA_PREFIX + key)
_good_mappings = st.fixed_dictionaries(
    {"fields": st.dictionaries(_good_targets, _good_rules, max_size=6)},
    optional={
        "unmapped": st.sampled_from(["metadata", "ignore"]),
        "idempotency_key": _good_expressions,
    },
)
_mappings = _anything_mappings | _good_mappings


def _names_a_rule(problem: str, mapping: dict[str, Any]) -> bool:
    if problem.startswith(_TOP_LEVEL_PREFIXES):
        return True
    fields = mapping.get("fields")
    targets = fields if isinstance(fields, dict) else {}
    return any(problem.startswith(f"fields.{target}: ") for target in targets)


@settings(max_examples=400, deadline=None, derandomize=DERANDOMIZE)
@given(_mappings, _payloads)
def test_any_structured_mapping_compiles_or_names_the_rule_at_fault(
    mapping: dict[str, Any], payload: dict[str, Any]
) -> None:
    """Compile or MappingConfigError naming rules; a compiled one takes any payload."""
    try:
        compiled = compile_mapping(mapping)
    except MappingConfigError as error:
        problems = error.problems
    else:
        problems = []
    if problems:
        event("refused")
        for problem in problems:
            assert _names_a_rule(problem, mapping), f"{problem!r} names no rule of {mapping!r}"
            assert problem.split(": ", 1)[1].strip(), problem
        return
    event("compiled")
    lead = prepare_lead(compiled, payload)
    allowed = _STANDARD_ERROR_FIELDS | compiled.targets
    for field_error in lead.errors:
        assert field_error.field in allowed or field_error.field.startswith(METADATA_PREFIX), (
            field_error
        )
        assert field_error.message.strip()


# --- The dry-run endpoint ---------------------------------------------------------------------

_DRY_RUN_MAPPING = {
    "fields": {
        "external_id": {"from": "lead.id", "type": "string"},
        "phone_number": {"from": ["contact.phone", "phone_number"]},
        "email": "contact.email",
        "lead_type": {"from": "lead.type", "type": "integer"},
        "call_dnc": {"from": "flags.dnc", "type": "boolean", "default": False},
        "metadata.name": {"template": "{contact.first} {contact.last}"},
        "metadata.amount": {"from": "loan.amount", "type": "number"},
        "metadata.when": {"from": "lead.when", "type": "datetime"},
    },
    "idempotency_key": "lead.event",
}
_DRY_RUN_TARGETS = set(_DRY_RUN_MAPPING["fields"])


@pytest.fixture
def dry_run_tenants(committed_session: Session) -> list[Tenant]:
    """A config on the standard format and one with a mapping of every kind of rule."""
    tenants = [make_tenant(committed_session), make_tenant(committed_session, _DRY_RUN_MAPPING)]
    committed_session.commit()
    return tenants


def _check_dry_run_answer(answer: Any) -> None:
    text = answer.get_data(as_text=True)
    assert answer.status_code < 500, text
    if answer.status_code != 200:
        assert answer.status_code in (400, 413), text
        assert answer.get_json()["detail"], text
        return
    body = answer.get_json()
    assert body["would"] in WOULD_VALUES
    assert (body["would"] == "fail") == bool(body["errors"]), body
    for error in body["errors"]:
        field = error["field"]
        assert field in _STANDARD_ERROR_FIELDS | _DRY_RUN_TARGETS or field.startswith(
            METADATA_PREFIX
        ), error
        assert error["message"].strip(), error


# Each example is an HTTP request against the shared tenants of one test run.
_HTTP_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_HTTP_SETTINGS
@given(which=st.integers(min_value=0, max_value=1), payload=_payloads)
def test_any_json_object_posted_to_dry_run(
    client: FlaskClient, dry_run_tenants: list[Tenant], which: int, payload: dict[str, Any]
) -> None:
    """No 5xx; a 200 answer's errors each name a field, and it would fail exactly then."""
    tenant = dry_run_tenants[which]
    answer = client.post(
        f"/api/lead-ingestion/{tenant.config_id}/dry-run/",
        data=json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Token {tenant.token}"},
    )
    _check_dry_run_answer(answer)


_form_values = st.text(max_size=20) | _looks_like_lead
_forms = st.lists(st.tuples(_payload_keys, _form_values), max_size=8)


@_HTTP_SETTINGS
@given(which=st.integers(min_value=0, max_value=1), pairs=_forms)
def test_any_form_posted_to_dry_run(
    client: FlaskClient, dry_run_tenants: list[Tenant], which: int, pairs: list[tuple[str, str]]
) -> None:
    """Forms, repeated keys and all, get the same guarantees as JSON bodies."""
    from urllib.parse import urlencode

    tenant = dry_run_tenants[which]
    answer = client.post(
        f"/api/lead-ingestion/{tenant.config_id}/dry-run/",
        data=urlencode(pairs),
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Token {tenant.token}"},
    )
    _check_dry_run_answer(answer)
