"""The OpenAPI document describes exactly the app's routes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import post_payload
from tests.support.factories import Tenant
from webhook.openapi_document import openapi_document


def _app_operations(app: Flask) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in {"HEAD", "OPTIONS"}:
                operations.add((path.replace("{config_id}", "{config_uuid}"), method.lower()))
    return operations


def test_document_lists_every_route_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    document = answer.get_json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == _app_operations(app)


def test_every_operation_has_an_id_and_responses(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    ids = []
    for item in document["paths"].values():
        for operation in item.values():
            ids.append(operation["operationId"])
            assert operation["responses"], operation["operationId"]
    assert len(ids) == len(set(ids))


def test_document_is_valid_openapi(client: FlaskClient) -> None:
    from openapi_spec_validator import validate

    validate(client.get("/openapi.json").get_json())


def _ingest_responses(endpoint: str) -> dict[str, Any]:
    path = {
        "create": "/api/lead-ingestion/{config_uuid}/",
        "upsert": "/api/lead-ingestion/{config_uuid}/upsert/",
    }
    responses: dict[str, Any] = openapi_document()["paths"][path[endpoint]]["post"]["responses"]
    return responses


@pytest.mark.parametrize("endpoint", ["create", "upsert"])
def test_a_resend_carries_the_documented_replay_header(
    client: FlaskClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    monkeypatch.setattr("webhook.inbox.wake_config", lambda *_: False)
    body = {"phone_number": "2024561111"}
    headers = {"Idempotency-Key": f"resend-{endpoint}"}
    first = post_payload(client, tenant.config_id, endpoint, body, tenant.token, headers=headers)
    again = post_payload(client, tenant.config_id, endpoint, body, tenant.token, headers=headers)
    assert first.status_code == again.status_code == 202
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    declared = _ingest_responses(endpoint)["202"]["headers"]
    assert {"Location", "Idempotent-Replayed"} <= set(declared)


@pytest.mark.parametrize("endpoint", ["create", "upsert"])
def test_query_parameters_are_declared_as_payload_fields(
    client: FlaskClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    monkeypatch.setattr("webhook.inbox.wake_config", lambda *_: False)
    answer = post_payload(
        client,
        tenant.config_id,
        endpoint,
        {"phone_number": "2024561111"},
        tenant.token,
        query="sub_id=aff-9",
    )
    assert answer.status_code == 202
    path = "/api/lead-ingestion/{config_uuid}/" + ("upsert/" if endpoint == "upsert" else "")
    parameters = openapi_document()["paths"][path]["post"]["parameters"]
    free_form = [p for p in parameters if p["in"] == "query" and p["schema"]["type"] == "object"]
    assert len(free_form) == 1 and free_form[0]["explode"] is True
