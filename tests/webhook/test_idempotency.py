"""One rule for a request's idempotency key, whether it comes from the header or a payload path."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhook.idempotency import MAX_IDEMPOTENCY_KEY_LENGTH, idempotency_key


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"event_id": "evt-1"}, "evt-1"),
        ({"event_id": " evt-1 "}, "evt-1"),
        ({"event_id": 1001}, "1001"),
        ({"event_id": 10.0}, "10"),
        ({"event_id": 10.5}, "10.5"),
        ({"event_id": True}, "true"),
        ({"event_id": {"b": 1}}, None),
        ({"event_id": ["a"]}, None),
        ({"event_id": ""}, None),
        ({"event_id": "   "}, None),
        ({"event_id": None}, None),
        ({}, None),
        ({"other": "x"}, None),
    ],
)
def test_the_key_at_the_configs_path(payload: dict[str, Any], key: str | None) -> None:
    assert idempotency_key(None, "event_id", payload) == key


def test_the_header_wins_and_a_blank_header_falls_back_to_the_path() -> None:
    payload = {"event_id": "from-path"}
    assert idempotency_key(" from-header ", "event_id", payload) == "from-header"
    assert idempotency_key("   ", "event_id", payload) == "from-path"
    assert idempotency_key(None, None, payload) is None
    assert idempotency_key("", None, payload) is None


@pytest.mark.parametrize("path", ["a[", 42, ""])
def test_a_path_that_cannot_be_used_gives_no_key(path: object) -> None:
    assert idempotency_key(None, path, {"a": "x"}) is None


@pytest.mark.parametrize(
    "text",
    ["k" * (MAX_IDEMPOTENCY_KEY_LENGTH + 1), "a\x00b"],
    ids=["over-long", "nul"],
)
def test_a_key_the_column_cannot_hold_is_digested_alike_from_either_source(text: str) -> None:
    from_header = idempotency_key(text, None, {})
    from_path = idempotency_key(None, "meta.id", {"meta": {"id": text}})
    assert from_header == from_path == _digest(text)


def test_a_key_of_the_columns_size_is_kept_as_it_is() -> None:
    text = "k" * MAX_IDEMPOTENCY_KEY_LENGTH
    assert idempotency_key(text, None, {}) == idempotency_key(None, "id", {"id": text}) == text


def test_a_lone_surrogate_from_a_json_escape_is_digested() -> None:
    assert idempotency_key(None, "id", {"id": "x\ud800"}) == _digest("x\ud800")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=5), _json, max_size=4), st.sampled_from(["id", "a.b", "@"]))
def test_any_payload_gives_a_storable_key_or_none(payload: dict[str, Any], path: str) -> None:
    key = idempotency_key(None, path, payload)
    if key is not None:
        assert 0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH
        assert "\x00" not in key
        key.encode("utf-8")
