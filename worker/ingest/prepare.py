"""The entry point of the pure ingest layer: a parsed payload and a compiled mapping in, a
PreparedLead out, with every invalid field reported and nothing raised for bad content."""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.payloads import PayloadError, parse_json_value
from worker.ingest.conversions import is_blank, to_event_time
from worker.ingest.expressions import Expression
from worker.ingest.hygiene import OFF, Hygiene, blocked_value
from worker.ingest.lead_fields import (
    CONSENT_PREFIX,
    METADATA,
    METADATA_PREFIX,
    MIN_REENGAGEMENT_DAYS,
    WRITABLE_FIELDS,
)
from worker.ingest.mapping import CompiledMapping, CompiledRule
from worker.ingest.normalize import check_storable, normalize_target
from worker.ingest.types import FieldError, PreparedLead

# Payload keys that are never copied into metadata as unmapped keys.
_NOT_UNMAPPED = frozenset({*WRITABLE_FIELDS, METADATA, MIN_REENGAGEMENT_DAYS})


def prepare_lead(
    mapping: CompiledMapping, payload: dict[str, Any], hygiene: Hygiene = OFF
) -> PreparedLead:
    """Map, convert and normalize one payload; invalid fields become errors, never exceptions.

    ``hygiene`` holds the organization's placeholders (taken as missing) and blocked identifiers
    (kept out of the values, listed in ``blocked``).

    Precedence in ``metadata``: unmapped top-level keys, then the payload's ``metadata`` object,
    then ``metadata.KEY`` rules. Defaults of ``metadata.KEY`` rules are kept in
    ``defaults["metadata"]`` as an object, to be merged under the metadata on create.
    """
    lead = PreparedLead()
    if not isinstance(payload, dict):
        got = type(payload).__name__
        lead.errors.append(FieldError("payload", f"expected a JSON object, got {got}"))
        return lead
    payload = decode_payload(lead, mapping, payload)
    mapped_metadata: dict[str, Any] = {}
    for rule in mapping.rules:
        _apply_rule(lead, mapped_metadata, rule, payload, hygiene)
    for name in (*WRITABLE_FIELDS, MIN_REENGAGEMENT_DAYS):
        # Standard field names at the top level are taken as they are unless a rule maps them.
        value = payload.get(name)
        if name in mapping.targets or is_blank(value) or hygiene.is_placeholder(value):
            continue
        if not _blocked(lead, hygiene, name, value):
            _apply_value(lead, mapped_metadata, name, value)
    lead.metadata = _payload_metadata(lead, mapping, payload) | mapped_metadata
    if mapping.event_time is not None:
        lead.event_time = _event_time(lead, mapping.event_time, payload)
    return lead


def _event_time(
    lead: PreparedLead, expression: Expression, payload: dict[str, Any]
) -> dt.datetime | None:
    """The payload's event time; None (with a warning: receive order is used) when unreadable."""
    found = expression.search(payload)
    try:
        if is_blank(found):
            raise ValueError(f"no value at {expression.text}")
        return to_event_time(found)
    except ValueError as error:
        lead.warnings.append(
            {"field": "event_time", "reason": f"{error}; ordered by receipt instead"}
        )
        return None


def decode_payload(
    lead: PreparedLead, mapping: CompiledMapping, payload: dict[str, Any]
) -> dict[str, Any]:
    """The payload with each ``decode`` key's JSON text parsed; a bad one is an error on KEY.

    A value that is already an object or a list (a relay that sent it decoded) is kept.
    """
    if not mapping.decode:
        return payload
    decoded = dict(payload)
    for key in mapping.decode:
        value = payload.get(key)
        if not isinstance(value, str) or is_blank(value):
            continue  # absent or already structured: the rules judge what they find
        try:
            decoded[key] = parse_json_value(value, f"the value of {key}")
        except PayloadError as error:
            lead.errors.append(FieldError(key, f"{error} (decode: json)"))
            del decoded[key]  # neither mapped nor copied into metadata as broken text
    return decoded


def _blocked(lead: PreparedLead, hygiene: Hygiene, target: str, value: object) -> bool:
    """True (and the value listed in ``lead.blocked``) when hygiene refuses it for ``target``."""
    reason = hygiene.blocked_reason(target, value)
    if reason is None:
        return False
    lead.blocked.append(blocked_value(target, value, reason))
    return True


def _apply_rule(
    lead: PreparedLead,
    mapped_metadata: dict[str, Any],
    rule: CompiledRule,
    payload: dict[str, Any],
    hygiene: Hygiene,
) -> None:
    try:
        found = rule.found_value(payload, hygiene)
        if found is None:
            if rule.required:
                lead.errors.append(FieldError(rule.target, f"required: no value at {rule.source}"))
            elif rule.default is not None:
                _store_default(lead, rule.target, rule.default)
            return
        # Checked on the value as received: most placeholder numbers are not valid numbers.
        if _blocked(lead, hygiene, rule.target, found[0]):
            return
        value = rule.finish(*found)
        if _blocked(lead, hygiene, rule.target, value):
            return
    except ValueError as error:
        lead.errors.append(FieldError(rule.target, str(error)))
        return
    _store(lead, mapped_metadata, rule.target, value)


def _apply_value(
    lead: PreparedLead, mapped_metadata: dict[str, Any], target: str, value: object
) -> None:
    try:
        normalized = normalize_target(target, value)
    except ValueError as error:
        lead.errors.append(FieldError(target, str(error)))
        return
    _store(lead, mapped_metadata, target, normalized)


def _store(lead: PreparedLead, mapped_metadata: dict[str, Any], target: str, value: Any) -> None:
    if target == MIN_REENGAGEMENT_DAYS:
        lead.min_reengagement_days = value
    elif target.startswith(CONSENT_PREFIX):
        lead.consent[target.removeprefix(CONSENT_PREFIX)] = value
    elif target.startswith(METADATA_PREFIX):
        mapped_metadata[target.removeprefix(METADATA_PREFIX)] = value
    else:
        lead.values[target] = value


def _store_default(lead: PreparedLead, target: str, value: Any) -> None:
    if target.startswith(CONSENT_PREFIX):
        lead.consent[target.removeprefix(CONSENT_PREFIX)] = value
    elif target.startswith(METADATA_PREFIX):
        lead.defaults.setdefault(METADATA, {})[target.removeprefix(METADATA_PREFIX)] = value
    else:
        lead.defaults[target] = value


def _payload_metadata(
    lead: PreparedLead, mapping: CompiledMapping, payload: dict[str, Any]
) -> dict[str, Any]:
    """Unmapped top-level keys (when the mapping keeps them) and the payload's metadata object."""
    metadata: dict[str, Any] = {}
    if mapping.unmapped == "metadata":
        for key, value in payload.items():
            if key not in _NOT_UNMAPPED and not mapping.reads(key):
                metadata[key] = value
    given = payload.get(METADATA)
    # A rule that reads `metadata` takes it as provider data, not as the lead's metadata object.
    if given is not None and METADATA not in mapping.read_keys:
        if isinstance(given, dict):
            metadata.update(given)
        else:
            got = type(given).__name__
            lead.errors.append(FieldError(METADATA, f"expected a JSON object, got {got}"))
    for key, value in list(metadata.items()):
        try:
            check_storable([key, value])
        except ValueError as error:
            lead.errors.append(FieldError(_metadata_field(key), str(error)))
            del metadata[key]
    return metadata


def _metadata_field(key: str) -> str:
    try:
        check_storable(key)
    except ValueError:
        return f"{METADATA_PREFIX}{key!r}"  # escaped, so that the error itself can be stored
    return f"{METADATA_PREFIX}{key or repr(key)}"
