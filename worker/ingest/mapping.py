"""A config's field mapping (SPEC section 4): checked and compiled once, then its rules evaluated
on each payload. ``compile_mapping`` refuses a bad mapping with every problem listed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from worker.ingest.conversions import TYPE_NAMES, is_blank, shown
from worker.ingest.expressions import Expression, compile_expression, fill_template, parse_template
from worker.ingest.hygiene import OFF, Hygiene
from worker.ingest.lead_fields import MIN_REENGAGEMENT_DAYS, target_problem, types_for_target
from worker.ingest.normalize import convert_and_normalize

UNMAPPED_MODES = ("metadata", "ignore")
_MAPPING_KEYS = ("fields", "unmapped", "idempotency_key", "decode", "event_time")
# How a top-level payload key's text may be decoded before the rules run ("decode" in a mapping).
DECODERS = ("json",)
_RULE_KEYS = ("from", "value", "template", "type", "default", "required")
_SOURCE_KEYS = ("from", "value", "template")
_CACHE_SIZE = 256

_T = TypeVar("_T")


class MappingConfigError(ValueError):
    """A mapping that cannot be saved; ``problems`` names every bad rule and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid mapping: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CompiledRule:
    """One ``fields`` rule: where its value comes from and what is done with it."""

    target: str
    paths: tuple[Expression, ...] = ()  # "from": the first non-blank value wins
    template: str | None = None
    template_parts: tuple[str | Expression, ...] = ()
    constant: Any = None  # "value"; never None when it is the rule's source
    type_name: str | None = None
    required: bool = False
    default: Any = None  # already converted and normalized; None when the rule has none

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """Every compiled expression the rule evaluates."""
        placeholders = [part for part in self.template_parts if isinstance(part, Expression)]
        return (*self.paths, *placeholders)

    @property
    def source(self) -> str:
        """Where the value comes from, for messages: "contact.phone or contact.mobile"."""
        if self.template is not None:
            return f"template {self.template!r}"
        return " or ".join(path.text for path in self.paths) or "value"

    def found_value(self, payload: object, hygiene: Hygiene = OFF) -> tuple[Any, str] | None:
        """The value found and where it came from; None when nothing non-blank was found.

        A placeholder (``N/A``, ``none``...) counts as blank, so the next expression is tried.
        """
        if self.constant is not None:
            return self.constant, "value"
        if self.template is not None:
            text = fill_template(self.template_parts, payload)
            return (text, self.source) if text else None
        for path in self.paths:
            value = path.search(payload)
            if not is_blank(value) and not hygiene.is_placeholder(value):
                return value, path.text
        return None

    def finish(self, value: Any, origin: str) -> Any:
        """Convert a found value to the rule's type and normalize it for the target."""
        return convert_and_normalize(self.target, self.type_name, value, origin)


class CompiledMapping:
    """A checked mapping with every expression compiled, ready to apply to any payload."""

    def __init__(
        self,
        rules: tuple[CompiledRule, ...],
        unmapped: str,
        key_path: Expression | None,
        decode: tuple[str, ...] = (),
        event_time: Expression | None = None,
    ) -> None:
        self.rules = rules
        self.unmapped = unmapped
        # Top-level keys whose JSON text is parsed before the rules run: ("data.json",)
        self.decode = decode
        self.idempotency_key_path: str | None = key_path.text if key_path else None
        # Where the payload says when it happened (ISO 8601 or epoch seconds): I3's order.
        self.event_time = event_time
        self.targets = frozenset(rule.target for rule in rules)
        expressions = [expr for rule in rules for expr in rule.expressions]
        expressions += [key_path] if key_path else []
        expressions += [event_time] if event_time else []
        self.reads_whole_payload = any(expr.reads is None for expr in expressions)
        self.read_keys = frozenset(key for expr in expressions for key in expr.reads or ())

    def reads(self, key: str) -> bool:
        """True when a rule (or the idempotency key) starts from this top-level payload key."""
        return self.reads_whole_payload or key in self.read_keys


def _attempt(problems: list[str], compile_part: Callable[[], _T]) -> _T | None:
    try:
        return compile_part()
    except ValueError as error:
        problems.append(str(error))
        return None


def _compile_paths(problems: list[str], paths: object) -> tuple[Expression, ...]:
    listed = paths if isinstance(paths, list) else [paths]
    if not listed:
        problems.append("from needs at least one expression")
    compiled = [_attempt(problems, partial(compile_expression, path)) for path in listed]
    return tuple(expression for expression in compiled if expression is not None)


def _compile_template(template: object) -> tuple[str | Expression, ...]:
    if not isinstance(template, str) or not template.strip():
        raise ValueError(f"template must be non-empty text, got {shown(template)}")
    return parse_template(template)


def _rule_type(spec: dict[str, Any], target: str, types: frozenset[str] | None) -> str | None:
    type_name = spec.get("type")
    if type_name is not None and type_name not in TYPE_NAMES:
        raise ValueError(f"type {shown(type_name)} is unknown (types: {', '.join(TYPE_NAMES)})")
    if type_name is not None and types is not None and type_name not in types:
        raise ValueError(
            f"type {type_name} cannot give a valid {target} ({', '.join(sorted(types))})"
        )
    return type_name


def compile_rule(target: str, rule: object) -> CompiledRule:
    """Check and compile one rule; MappingConfigError lists its problems (without the prefix)."""
    types = types_for_target(target)
    problems = [] if types is not None else [target_problem(target)]
    spec = {"from": rule} if isinstance(rule, str) else rule
    if not isinstance(spec, dict):
        got = type(rule).__name__
        raise MappingConfigError([*problems, f"expected an expression or a rule object, got {got}"])
    problems += [
        f"unknown key {key!r} (rule keys: {', '.join(_RULE_KEYS)})"
        for key in spec
        if key not in _RULE_KEYS
    ]
    sources = [key for key in _SOURCE_KEYS if key in spec]
    if len(sources) != 1:
        problems.append(
            f"needs exactly one of from, value, template; got {' and '.join(sources) or 'none'}"
        )
    type_name = _attempt(problems, lambda: _rule_type(spec, target, types))
    required = spec.get("required", False)
    if not isinstance(required, bool):
        problems.append(f"required must be true or false, got {shown(required)}")
    paths = _compile_paths(problems, spec["from"]) if "from" in spec else ()
    template = spec.get("template")
    parts = _attempt(problems, lambda: _compile_template(template)) if "template" in spec else ()
    constant = spec.get("value")
    if "value" in spec and is_blank(constant):
        problems.append("value must not be null or empty")
    elif "value" in spec and types is not None:
        _attempt(problems, lambda: convert_and_normalize(target, type_name, constant, "value"))
    default = spec.get("default")
    if default is not None and ("value" in spec or required or target == MIN_REENGAGEMENT_DAYS):
        problems.append("default goes only with from or template, on a rule that is not required")
    elif default is not None and types is not None:
        default = _attempt(
            problems, lambda: convert_and_normalize(target, type_name, default, "default")
        )
    if problems:
        raise MappingConfigError(problems)
    return CompiledRule(
        target, paths, template, parts or (), constant, type_name, required is True, default
    )


def compile_mapping(mapping: dict[str, Any]) -> CompiledMapping:
    """Check a config's mapping fully and compile it; MappingConfigError lists every problem."""
    if not isinstance(mapping, dict):
        raise MappingConfigError([f"mapping: expected a JSON object, got {type(mapping).__name__}"])
    problems = [
        f"mapping: unknown key {key!r} (keys: {', '.join(_MAPPING_KEYS)})"
        for key in mapping
        if key not in _MAPPING_KEYS
    ]
    unmapped = mapping.get("unmapped", "metadata")
    if unmapped not in UNMAPPED_MODES:
        problems.append(f'unmapped: expected "metadata" or "ignore", got {shown(unmapped)}')
    key_path = None
    if "idempotency_key" in mapping:
        try:
            key_path = compile_expression(mapping["idempotency_key"])
        except ValueError as error:
            problems.append(f"idempotency_key: {error}")
    event_time = None
    if "event_time" in mapping:
        try:
            event_time = compile_expression(mapping["event_time"])
        except ValueError as error:
            problems.append(f"event_time: {error}")
    decode = _attempt(problems, lambda: _decode_keys(mapping.get("decode", {})))
    fields = mapping.get("fields", {})
    if not isinstance(fields, dict):
        problems.append(f"fields: expected a JSON object, got {type(fields).__name__}")
        fields = {}
    rules: list[CompiledRule] = []
    for target, rule in fields.items():
        try:
            rules.append(compile_rule(target, rule))
        except MappingConfigError as error:
            problems += [f"fields.{target}: {problem}" for problem in error.problems]
    if problems:
        raise MappingConfigError(problems)
    return CompiledMapping(tuple(rules), unmapped, key_path, decode or (), event_time)


def _decode_keys(decode: object) -> tuple[str, ...]:
    """``{"data.json": "json"}`` → ``("data.json",)``; ValueError naming each bad entry."""
    if not isinstance(decode, dict):
        raise ValueError(
            f'decode: expected an object such as {{"rawRequest": "json"}}, got {shown(decode)}'
        )
    bad = [
        f"decode.{key}: expected one of {', '.join(DECODERS)}, got {shown(how)}"
        for key, how in decode.items()
        if how not in DECODERS
    ]
    bad += ["decode: a key must not be empty" for key in decode if not key]
    if bad:
        raise ValueError("; ".join(bad))
    return tuple(decode)


_cache: OrderedDict[tuple[object, int], CompiledMapping] = OrderedDict()
_cache_lock = threading.Lock()


def compiled_mapping_for(
    config_id: object, version: int, mapping: dict[str, Any]
) -> CompiledMapping:
    """The compiled mapping of one version of a config, compiled once per process (bounded LRU)."""
    key = (config_id, version)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    compiled = compile_mapping(mapping)  # outside the lock: one slow compile blocks no other
    with _cache_lock:
        _cache[key] = compiled
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled
