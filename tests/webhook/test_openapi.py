"""The OpenAPI document describes exactly the app's routes."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient


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
