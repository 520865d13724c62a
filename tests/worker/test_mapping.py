"""Compiling and evaluating field mappings: worker/ingest/mapping.py and its expressions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from models.enums import LeadStatus
from worker.ingest import mapping as mapping_module
from worker.ingest.expressions import compile_expression, fill_template, parse_template
from worker.ingest.mapping import (
    CompiledMapping,
    MappingConfigError,
    compile_mapping,
    compiled_mapping_for,
)

SPEC_EXAMPLE: dict[str, Any] = {
    "fields": {
        "phone_number": {"from": ["contact.phone", "contact.mobile"]},
        "email": "contact.email",
        "external_id": {"from": "lead.id", "type": "string"},
        "us_state": "address.state",
        "lead_source": {"value": "AcmeLeads"},
        "call_dnc": {"from": "flags.do_not_call", "type": "boolean", "default": False},
        "metadata.first_name": "contact.first",
        "metadata.full_name": {"template": "{contact.first} {contact.last}"},
        "metadata.loan_amount": {"from": "loan.amount", "type": "number"},
        "metadata.utm_source": {"from": "field_data[?name=='utm_source'].values[0] | [0]"},
    },
    "unmapped": "metadata",
    "idempotency_key": "event_id",
}


def _rule(mapping: CompiledMapping, target: str) -> Any:
    return next(rule for rule in mapping.rules if rule.target == target)


def _problems(mapping: object) -> list[str]:
    with pytest.raises(MappingConfigError) as raised:
        compile_mapping(mapping)  # type: ignore[arg-type]
    return raised.value.problems


def test_empty_mapping_is_the_standard_format() -> None:
    compiled = compile_mapping({})
    assert compiled.rules == ()
    assert compiled.unmapped == "metadata"
    assert compiled.idempotency_key_path is None


def test_spec_example_compiles() -> None:
    compiled = compile_mapping(SPEC_EXAMPLE)
    assert compiled.targets == set(SPEC_EXAMPLE["fields"])
    assert compiled.idempotency_key_path == "event_id"
    assert compiled.read_keys == {
        "contact", "lead", "address", "flags", "loan", "field_data", "event_id"
    }  # fmt: skip
    assert _rule(compiled, "call_dnc").default is False
    assert _rule(compiled, "lead_source").constant == "AcmeLeads"


@pytest.mark.parametrize("unmapped", ["metadata", "ignore"])
def test_unmapped_modes(unmapped: str) -> None:
    assert compile_mapping({"unmapped": unmapped}).unmapped == unmapped


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ([], "mapping: expected a JSON object, got list"),
        ({"field": {}}, "mapping: unknown key 'field'"),
        ({"unmapped": "drop"}, 'unmapped: expected "metadata" or "ignore", got \'drop\''),
        ({"fields": []}, "fields: expected a JSON object, got list"),
        (
            {"idempotency_key": "a["},
            "idempotency_key: JMESPath expression 'a[' does not compile: "
            "Invalid jmespath expression: Incomplete expression at column 2",
        ),
        ({"fields": {"email": "a b"}}, "Unexpected token: b: Parse error at column 2"),
        ({"fields": {"email": '"abc'}}, 'Unclosed " delimiter at column 0'),
        ({"idempotency_key": ""}, "idempotency_key: expected a JMESPath expression"),
        ({"fields": {"email": "a["}}, "fields.email: JMESPath expression 'a[' does not compile"),
        ({"fields": {"email": ""}}, "fields.email: expected a JMESPath expression, got ''"),
        (
            {"fields": {"email": 5}},
            "fields.email: expected an expression or a rule object, got int",
        ),
        ({"fields": {"email": None}}, "fields.email: expected an expression or a rule object"),
        ({"fields": {"email": {"form": "a"}}}, "fields.email: unknown key 'form'"),
        ({"fields": {"email": {}}}, "fields.email: needs exactly one of from, value, template"),
        (
            {"fields": {"email": {"from": "a", "value": "x@example.com"}}},
            "fields.email: needs exactly one of from, value, template; got from and value",
        ),
        ({"fields": {"email": {"from": []}}}, "fields.email: from needs at least one expression"),
        ({"fields": {"email": {"from": ["a", 3]}}}, "fields.email: expected a JMESPath expression"),
        ({"fields": {"email": {"from": ["a", "b["]}}}, "fields.email: JMESPath expression 'b['"),
        ({"fields": {"email": {"from": "nope(a)"}}}, "calls unknown function nope()"),
        ({"fields": {"email": {"from": "length(a, b)"}}}, "calls length() with 2 arguments"),
        ({"fields": {"email": {"from": "join(',')"}}}, "calls join() with 1 arguments"),
        ({"fields": {"email": {"template": ""}}}, "fields.email: template must be non-empty text"),
        ({"fields": {"email": {"template": "{a"}}}, "fields.email: template '{a' has an unpaired"),
        ({"fields": {"email": {"template": "a}"}}}, "has an unpaired '}'"),
        ({"fields": {"email": {"template": "{}"}}}, "expected a JMESPath expression"),
        ({"fields": {"email": {"template": "{a[}"}}}, "JMESPath expression 'a[' does not compile"),
        ({"fields": {"email": {"from": "a", "type": "text"}}}, "type 'text' is unknown"),
        ({"fields": {"email": {"from": "a", "type": "boolean"}}}, "type boolean cannot give"),
        ({"fields": {"call_dnc": {"from": "a", "type": "date"}}}, "type date cannot give"),
        ({"fields": {"email": {"from": "a", "required": "yes"}}}, "required must be true or false"),
        ({"fields": {"email": {"value": None}}}, "value must not be null or empty"),
        ({"fields": {"email": {"value": ""}}}, "value must not be null or empty"),
        ({"fields": {"status": {"value": "WON"}}}, "fields.status: 'WON' is not a lead status"),
        (
            {"fields": {"email": {"value": "nope"}}},
            "fields.email: email 'n•••' (masked) is not a valid email",
        ),
        (
            {"fields": {"metadata.n": {"value": "abc", "type": "number"}}},
            "fields.metadata.n: cannot convert 'abc' (from value) to number",
        ),
        (
            {"fields": {"call_dnc": {"from": "a", "type": "boolean", "default": "maybe"}}},
            "fields.call_dnc: cannot convert 'maybe' (from default) to boolean",
        ),
        ({"fields": {"us_state": {"from": "a", "default": "Calif"}}}, "'Calif' is not a US state"),
        ({"fields": {"email": {"value": "a@example.com", "default": "b@example.com"}}}, "default"),
        ({"fields": {"email": {"from": "a", "required": True, "default": "b@x.com"}}}, "default"),
        ({"fields": {"min_reengagement_days": {"from": "a", "default": 3}}}, "default"),
        ({"fields": {"timezone": "tz"}}, "fields.timezone: timezone is set by the service"),
        ({"fields": {"id": "lead_id"}}, "fields.id: id is set by the service"),
        ({"fields": {"campaign": "c"}}, "fields.campaign: campaign is set by the service"),
        ({"fields": {"created_time": "t"}}, "created_time is set by the service"),
        ({"fields": {"reengagements_count": "n"}}, "reengagements_count is set by the service"),
        ({"fields": {"metadata.": "x"}}, "fields.metadata.: a metadata target needs a key"),
        ({"fields": {"metadata": "x"}}, "fields.metadata: a metadata target needs a key"),
        ({"fields": {"first_name": "x"}}, "fields.first_name: 'first_name' is not a target"),
        ({"fields": {"Email": "x"}}, "'Email' is not a target"),
    ],
)
def test_invalid_mappings_are_refused_naming_the_rule(mapping: object, problem: str) -> None:
    problems = _problems(mapping)
    assert any(problem in found for found in problems), problems


def test_every_problem_is_listed() -> None:
    problems = _problems(
        {
            "fields": {
                "email": "a[",
                "timezone": "tz",
                "metadata.n": {"from": "x", "type": "decimal"},
                "phone_number": "ok.path",
                "status": {"value": "WON", "required": "no"},
            },
            "unmapped": "keep",
            "idempotency_key": "b[",
            "extra": 1,
        }
    )
    prefixes = [problem.split(":")[0] for problem in problems]
    assert sorted(prefixes) == sorted(
        [
            "mapping",
            "unmapped",
            "idempotency_key",
            "fields.email",
            "fields.timezone",
            "fields.metadata.n",
            "fields.status",
            "fields.status",
        ]
    )


def test_error_is_a_value_error_with_every_problem_in_its_text() -> None:
    with pytest.raises(ValueError, match=r"invalid mapping: fields\.email: .*; fields\.id: "):
        compile_mapping({"fields": {"email": "a[", "id": "x"}})


@pytest.mark.parametrize(
    ("target", "rule"),
    [
        ("phone_number", {"from": "p", "type": "integer"}),
        ("external_id", {"from": "p", "type": "number"}),
        ("lead_type", {"from": "p", "type": "integer", "default": "4"}),
        ("representative", {"from": "p", "required": True}),
        ("sms_dnc", {"from": "p", "type": "boolean", "default": "no"}),
        ("next_call_time", {"from": "p", "type": "datetime"}),
        ("call_schedule_start_time", {"template": "{d}T{t}"}),
        ("status", {"value": "  Lost "}),
        ("status_outcome", {"value": "WARM_TRANSFER"}),
        ("status_reason", {"value": "manual"}),
        ("min_reengagement_days", {"from": "days", "type": "integer"}),
        ("metadata.anything", {"value": {"nested": [1, 2]}}),
        ("metadata.when", {"from": "w", "type": "datetime", "default": "2026-01-01"}),
        ("metadata.odd key", '"odd.key".x'),
        ("metadata.x", "@"),
        ("metadata.x", "sort_by(people, &age)[0].name"),
        ("metadata.x", "{a: a, b: b}"),
        ("metadata.x", "join(', ', [a, b])"),
        ("metadata.x", {"template": "{{literal}} {a}"}),
    ],
)
def test_valid_rules(target: str, rule: object) -> None:
    compile_mapping({"fields": {target: rule}})


def test_defaults_are_normalized_when_compiled() -> None:
    compiled = compile_mapping(
        {
            "fields": {
                "status": {"from": "s", "default": "lost"},
                "lead_type": {"from": "t", "default": "4"},
                "metadata.when": {"from": "w", "type": "datetime", "default": "2026-01-01T10:00"},
            }
        }
    )
    assert _rule(compiled, "status").default is LeadStatus.LOST
    assert _rule(compiled, "lead_type").default == 4
    assert _rule(compiled, "metadata.when").default == "2026-01-01T10:00:00+00:00"


@pytest.mark.parametrize(
    ("expression", "keys"),
    [
        ("email", {"email"}),
        ("contact.phone", {"contact"}),
        ("phones[0].number", {"phones"}),
        ('"odd.key".x', {"odd.key"}),
        ('"with space"', {"with space"}),
        ("field_data[?name=='email'].values[0] | [0]", {"field_data"}),
        ("a[*].b", {"a"}),
        ("a[].b", {"a"}),
        ("a[1:2]", {"a"}),
        ("a.*.c", {"a"}),
        ("a || b.c", {"a", "b"}),
        ("a && b", {"a", "b"}),
        ("!a", {"a"}),
        ("a == b", {"a", "b"}),
        ("[a, b.c]", {"a", "b"}),
        ("{x: a, y: b[0]}", {"a", "b"}),
        ("join(', ', [first, last])", {"first", "last"}),
        ("sort_by(people, &age)", {"people"}),
        ("length(items)", {"items"}),
        ("@.foo", {"foo"}),
        ("@ | foo.bar", {"foo"}),
        ("a | b", {"a"}),
        ('`"literal"`', set()),
        ("'raw'", set()),
    ],
)
def test_root_keys(expression: str, keys: set[str]) -> None:
    assert compile_expression(expression).reads == frozenset(keys)


@pytest.mark.parametrize("expression", ["@", "*", "*.phone", "[0]", "[*].a", "keys(@)", "[?a]"])
def test_expressions_reading_the_whole_payload(expression: str) -> None:
    assert compile_expression(expression).reads is None
    assert compile_mapping({"fields": {"metadata.x": expression}}).reads("anything")


def test_mapping_reads_templates_from_lists_and_the_idempotency_key() -> None:
    compiled = compile_mapping(
        {
            "fields": {
                "metadata.full": {"template": '{contact.first} {names[0]} {`"x"`}'},
                "phone_number": {"from": ["p1", "phones.home"]},
            },
            "idempotency_key": "meta.event_id",
        }
    )
    assert compiled.read_keys == {"contact", "names", "p1", "phones", "meta"}
    assert not compiled.reads_whole_payload
    assert compiled.reads("meta")
    assert not compiled.reads("other")


@pytest.mark.parametrize(
    ("template", "payload", "expected"),
    [
        (
            "{contact.first} {contact.last}",
            {"contact": {"first": "Jane", "last": "Doe"}},
            "Jane Doe",
        ),
        ("{contact.first} {contact.last}", {"contact": {"first": "Jane"}}, "Jane"),
        ("{contact.first} {contact.last}", {"contact": {"last": " Doe "}}, "Doe"),
        ("{a}   -   {b}", {"a": "x", "b": "y"}, "x - y"),
        ("{a} {b}", {}, ""),
        ("  {a}\n{b}  ", {"a": "one  two", "b": "three"}, "one two three"),
        ("{n} units", {"n": 3}, "3 units"),
        ("{n}", {"n": 2.5}, "2.5"),
        ("{flag}", {"flag": True}, "true"),
        ("{list}", {"list": [1, "a"]}, '[1, "a"]'),
        ("{{literal}} {a}", {"a": "x"}, "{literal} x"),
        ('Lead {id} from {"odd.key"}', {"id": 7, "odd.key": "web"}, "Lead 7 from web"),
        ("prefix only", {}, "prefix only"),
    ],
)
def test_templates(template: str, payload: dict[str, Any], expected: str) -> None:
    assert fill_template(parse_template(template), payload) == expected
    found = compile_mapping({"fields": {"metadata.t": {"template": template}}}).rules[0]
    assert found.found_value(payload) == (
        (expected, f"template {template!r}") if expected else None
    )


@pytest.mark.parametrize(
    ("paths", "payload", "expected"),
    [
        (["a", "b"], {"a": "1", "b": "2"}, ("1", "a")),
        (["a", "b"], {"b": "2"}, ("2", "b")),
        (["a", "b"], {"a": None, "b": "2"}, ("2", "b")),
        (["a", "b"], {"a": "", "b": "2"}, ("2", "b")),
        (["a", "b"], {"a": "   ", "b": "2"}, ("2", "b")),
        (["a", "b"], {"a": [], "b": "2"}, ("2", "b")),
        (["a", "b"], {"a": {}, "b": "2"}, ("2", "b")),
        (["a", "b"], {"a": 0, "b": "2"}, (0, "a")),
        (["a", "b"], {"a": False, "b": "2"}, (False, "a")),
        (["a", "b"], {"a": "", "b": None}, None),
        (["a.b", "c"], {"a": "not an object", "c": "3"}, ("3", "c")),
        (
            ["contact.phone", "contact.mobile"],
            {"contact": {"mobile": "m"}},
            ("m", "contact.mobile"),
        ),
    ],
)
def test_from_list_takes_the_first_non_blank_value(
    paths: list[str], payload: dict[str, Any], expected: tuple[Any, str] | None
) -> None:
    rule = compile_mapping({"fields": {"metadata.x": {"from": paths}}}).rules[0]
    assert rule.found_value(payload) == expected
    assert rule.source == " or ".join(paths)


def test_a_value_rule_always_finds_its_constant() -> None:
    rule = compile_mapping({"fields": {"lead_source": {"value": "facebook"}}}).rules[0]
    assert rule.found_value({}) == ("facebook", "value")
    assert rule.source == "value"


def test_evaluation_errors_are_value_errors() -> None:
    rule = compile_mapping({"fields": {"metadata.x": "abs(a)"}}).rules[0]
    assert rule.found_value({"a": -2}) == (2, "abs(a)")
    with pytest.raises(ValueError, match="cannot evaluate abs"):
        rule.found_value({"a": "text"})


def test_compiled_mapping_for_caches_per_config_version() -> None:
    config_id = uuid.uuid4()
    first = compiled_mapping_for(config_id, 1, {"fields": {"email": "mail"}})
    again = compiled_mapping_for(config_id, 1, {"fields": {"email": "mail"}})
    assert again is first
    newer = compiled_mapping_for(config_id, 2, {"fields": {"email": "contact.mail"}})
    assert newer is not first
    assert newer.read_keys == {"contact"}
    assert compiled_mapping_for(uuid.uuid4(), 1, {}) is not first


def test_compiled_mapping_for_refuses_bad_mappings_without_caching_them() -> None:
    config_id = uuid.uuid4()
    with pytest.raises(MappingConfigError):
        compiled_mapping_for(config_id, 1, {"fields": {"email": "a["}})
    assert compiled_mapping_for(config_id, 1, {"fields": {"email": "a"}}).read_keys == {"a"}


def test_compiled_mapping_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapping_module, "_CACHE_SIZE", 3)
    ids = [uuid.uuid4() for _ in range(5)]
    compiled = [compiled_mapping_for(config_id, 1, {}) for config_id in ids]
    assert len(mapping_module._cache) <= 3
    assert compiled_mapping_for(ids[-1], 1, {}) is compiled[-1]
    assert compiled_mapping_for(ids[0], 1, {}) is not compiled[0]  # evicted, compiled anew


@pytest.mark.parametrize(
    ("decode", "problem"),
    [
        (["data.json"], 'decode: expected an object such as {"rawRequest": "json"}'),
        ({"data.json": "xml"}, "decode.data.json: expected one of json, got 'xml'"),
        ({"": "json"}, "decode: a key must not be empty"),
    ],
    ids=["not-an-object", "unknown-decoder", "empty-key"],
)
def test_a_bad_decode_is_refused_when_saved(decode: object, problem: str) -> None:
    assert problem in " ".join(_problems({"decode": decode}))


def test_decode_keys_are_compiled_in_order() -> None:
    compiled = compile_mapping({"decode": {"data.json": "json", "rawRequest": "json"}})

    assert compiled.decode == ("data.json", "rawRequest")
    assert compile_mapping({}).decode == ()
