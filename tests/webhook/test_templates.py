"""``GET /api/mapping-templates/``: the provider templates, for a token of any organization."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support.factories import Tenant

pytestmark = pytest.mark.integration


def test_the_templates_are_listed_with_their_auth_and_needs(
    client: FlaskClient, tenant: Tenant
) -> None:
    answer = client.get(
        "/api/mapping-templates/", headers={"Authorization": f"Token {tenant.token}"}
    )

    assert answer.status_code == 200
    page = answer.get_json()
    assert (page["count"], page["next"], page["previous"]) == (8, None, None)
    by_name = {template["name"]: template for template in page["results"]}
    assert by_name["google-ads"]["auth_mode"] == "payload-key"
    assert by_name["unbounce"]["mapping"]["decode"] == {"data.json": "json"}
    assert all(template["needs"] and template["description"] for template in page["results"])


@pytest.mark.parametrize("header", [None, "Token lg_not-a-real-token", "Bearer x"])
def test_the_templates_need_a_token(client: FlaskClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}

    assert client.get("/api/mapping-templates/", headers=headers).status_code == 401
