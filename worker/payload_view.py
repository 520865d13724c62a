"""An event's stored payload in the shape the mapping's rules see it: parsed and decoded."""

from __future__ import annotations

from typing import Any

from common.payloads import merge_query, read_body
from models import IngestionConfig, IngestionEvent
from models.enums import AuthMode
from worker.config_credentials import key_path_parts
from worker.ingest.mapping import CompiledMapping, compiled_mapping_for
from worker.ingest.prepare import decode_payload
from worker.ingest.types import PreparedLead


def decoded_shape(mapping: CompiledMapping, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload after the mapping's ``decode`` rules; a key that does not parse stays text.

    The dry run, the impact report and the stored-payload view all show this shape: the one
    the rules run on (the parse error itself is the dry run's and the event's field error).
    """
    decoded = decode_payload(PreparedLead(), mapping, payload)
    # The rules never see a value that does not parse; a person reading the payload should,
    # to see what the provider sent.
    unparsed = {
        key: payload[key] for key in mapping.decode if key in payload and key not in decoded
    }
    return decoded | unparsed


def _without_key(payload: dict[str, Any], path: str) -> dict[str, Any]:
    # The key is removed before a payload is stored; should a decoded value carry one at the
    # same path, it is removed here too, so no view ever shows it.
    parts = key_path_parts(path)
    shown = dict(payload)
    node = shown
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return shown
        node[part] = node = dict(child)
    node.pop(parts[-1], None)
    return shown


def decoded_event_payload(event: IngestionEvent, config: IngestionConfig) -> dict[str, Any]:
    """The event's body (with its query string) after the config's current ``decode`` rules.

    PayloadError, saying why, when the stored body cannot be read.
    """
    body = read_body(event.raw_body, event.content_type)
    payload = merge_query(body.payload, event.query_string)
    mapping = compiled_mapping_for(config.id, config.version, config.mapping)
    shown = decoded_shape(mapping, payload)
    if config.auth_mode == AuthMode.payload_key and config.payload_key_path:
        shown = _without_key(shown, config.payload_key_path)
    return shown
