"""Error answers of webhook/errors.py: JSON every time, with the headers HTTP requires."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support.factories import Tenant


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/leads/", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("DELETE", "/api/leads/1/", {"GET", "HEAD", "OPTIONS", "PATCH"}),
        ("GET", "/api/lead-ingestion/{config}/upsert/", {"POST", "OPTIONS"}),
        ("TRACE", "/api/ingestion-events/", {"GET", "HEAD", "OPTIONS"}),
        ("POST", "/healthz", {"GET", "HEAD", "OPTIONS"}),
        ("PATCH", "/metrics", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_method_not_allowed_names_the_allowed_methods(
    client: FlaskClient, tenant: Tenant, method: str, path: str, allowed: set[str]
) -> None:
    answer = client.open(path.format(config=tenant.config_id), method=method)
    assert answer.status_code == 405
    # RFC 9110 15.5.6: a 405 MUST carry Allow with the target's methods.
    assert {part.strip() for part in answer.headers["Allow"].split(",")} == allowed
    assert answer.mimetype == "application/json"
    assert answer.get_json()["detail"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_path_without_its_slash_is_redirected_in_json(
    client: FlaskClient, tenant: Tenant, method: str
) -> None:
    path = f"/api/lead-ingestion/{tenant.config_id}/upsert" if method == "POST" else "/api/leads"
    answer = client.open(path + "?wait=1", method=method, json={"phone_number": "2024561111"})
    assert answer.status_code == 308
    assert answer.mimetype == "application/json"
    location = answer.headers["Location"]
    assert location.endswith(path + "/?wait=1")
    assert location in answer.get_json()["detail"]


def test_an_unknown_path_is_a_json_404(client: FlaskClient) -> None:
    answer = client.get("/no/such/page")
    assert answer.status_code == 404
    assert answer.mimetype == "application/json"
    assert answer.get_json() == {"detail": answer.get_json()["detail"]}
