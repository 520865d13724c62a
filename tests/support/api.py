"""Talking to the webhook from tests: posting payloads and following events to their end."""

from __future__ import annotations

import json
import time
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

ENDPOINT_SUFFIX = {"create": "", "upsert": "upsert/", "dry-run": "dry-run/"}
TERMINAL = {"done", "failed", "dead"}


def post_payload(
    client: FlaskClient,
    config_id: object,
    endpoint: str,
    body: dict[str, Any] | str,
    token: str | None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> TestResponse:
    """POST a payload to one of a config's ingestion endpoints."""
    url = f"/api/lead-ingestion/{config_id}/{ENDPOINT_SUFFIX[endpoint]}"
    if query:
        url += "?" + query
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Token {token}"
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type=content_type, headers=all_headers)


def wait_for_event(
    client: FlaskClient, token: str, event_id: str, timeout: float = 30.0
) -> dict[str, Any]:
    """Poll an event until it is terminal; fail the test if it is not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(
            f"/api/ingestion-events/{event_id}/", headers={"Authorization": f"Token {token}"}
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        event: dict[str, Any] = answer.get_json()
        if event["status"] in TERMINAL:
            return event
        if time.monotonic() > deadline:
            raise AssertionError(f"event {event_id} not terminal after {timeout} s: {event}")
        time.sleep(0.05)


def get_lead(client: FlaskClient, token: str, lead_id: int) -> dict[str, Any]:
    """One lead through the API."""
    answer = client.get(f"/api/leads/{lead_id}/", headers={"Authorization": f"Token {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    lead: dict[str, Any] = answer.get_json()
    return lead


def lead_count(client: FlaskClient, token: str) -> int:
    """How many leads the token's organization has."""
    answer = client.get("/api/leads/", headers={"Authorization": f"Token {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    count: int = answer.get_json()["count"]
    return count


def assert_subset(expected: dict[str, Any], actual: dict[str, Any], path: str = "lead") -> None:
    """Every expected key has the expected value; metadata is compared as a subset."""
    for key, value in expected.items():
        assert key in actual, f"{path}.{key} missing from {actual}"
        if isinstance(value, dict) and isinstance(actual[key], dict):
            assert_subset(value, actual[key], f"{path}.{key}")
        else:
            assert actual[key] == value, f"{path}.{key}: expected {value!r}, got {actual[key]!r}"


def wait_for_replay_job(
    client: FlaskClient, token: str, job_id: str, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll a replay job (a release too) until it ends; fail the test past ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"/api/replays/{job_id}/", headers={"Authorization": f"Token {token}"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        job: dict[str, Any] = answer.get_json()
        if job["status"] != "running":
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"replay job {job_id} still running after {timeout} s: {job}")
        time.sleep(0.05)
