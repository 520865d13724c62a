"""How long an ingestion answer waits (webhook/outcome.py): one maximum, the documented one."""

from __future__ import annotations

import pytest
from flask import Flask

from webhook.errors import ApiError
from webhook.openapi_document import openapi_document
from webhook.outcome import MAX_WAIT_SECONDS, requested_wait


def _wait(app: Flask, query: str = "", prefer: str | None = None) -> float:
    headers = {"Prefer": prefer} if prefer is not None else {}
    with app.test_request_context("/?" + query, headers=headers):
        return requested_wait()


@pytest.mark.parametrize(
    ("query", "prefer", "seconds"),
    [
        ("", None, 0.0),
        ("wait=", None, 0.0),
        ("wait=2.5", None, 2.5),
        ("wait=30", None, 30.0),
        ("", "wait=12", 12.0),
        ("", "respond-async, wait=30", 30.0),
        # A preference is honoured as far as it can be (RFC 7240), never refused.
        ("", "wait=60", 30.0),
        # The query parameter wins over the header.
        ("wait=1", "wait=20", 1.0),
    ],
)
def test_requested_wait(app: Flask, query: str, prefer: str | None, seconds: float) -> None:
    assert _wait(app, query, prefer) == seconds


@pytest.mark.parametrize("query", ["wait=30.5", "wait=60", "wait=1e9"])
def test_a_wait_query_above_the_maximum_is_refused(app: Flask, query: str) -> None:
    with pytest.raises(ApiError) as refused:
        _wait(app, query)
    assert refused.value.status == 400
    assert refused.value.errors == {"wait": ["must be at most 30"]}


@pytest.mark.parametrize("query", ["wait=soon", "wait=nan", "wait=-1"])
def test_a_wait_that_is_no_duration_is_refused(app: Flask, query: str) -> None:
    with pytest.raises(ApiError) as refused:
        _wait(app, query)
    assert refused.value.status == 400 and "wait" in (refused.value.errors or {})


def test_the_document_states_the_same_maximum() -> None:
    operation = openapi_document()["paths"]["/api/lead-ingestion/{config_uuid}/upsert/"]["post"]
    wait = next(p for p in operation["parameters"] if p["name"] == "wait")
    assert wait["schema"]["maximum"] == MAX_WAIT_SECONDS
