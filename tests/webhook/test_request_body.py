"""Reading ingestion bodies at the webhook: multipart/form-data fields, file parts, limits."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.common.test_payloads import MULTIPART, multipart_body
from tests.support.api import get_lead, wait_for_event
from tests.support.factories import Tenant, make_tenant

pytestmark = pytest.mark.integration


def _post(client: FlaskClient, tenant: Tenant, body: bytes, content_type: str = MULTIPART) -> Any:
    return client.post(
        f"/api/lead-ingestion/{tenant.config_id}/upsert/",
        data=body,
        content_type=content_type,
        headers={"Authorization": f"Token {tenant.token}"},
    )


def test_a_multipart_body_becomes_a_lead_like_a_form(
    client: FlaskClient, tenant: Tenant, celery_worker: Any
) -> None:
    body = multipart_body(
        ("phone_number", "(415) 555-0142", None), ("email", "Ann@Example.com", None)
    )

    answer = _post(client, tenant, body)

    assert answer.status_code == 202, answer.get_data(as_text=True)
    event = wait_for_event(client, tenant.token, answer.get_json()["id"])
    assert event["status"] == "done", event
    lead = get_lead(client, tenant.token, event["lead_id"])
    assert (lead["phone_number"], lead["email"]) == ("+14155550142", "ann@example.com")


def test_a_file_part_is_a_415_naming_the_field(client: FlaskClient, tenant: Tenant) -> None:
    body = multipart_body(("phone_number", "4155550142", None), ("upload", b"\x00\x01", "a.bin"))

    answer = _post(client, tenant, body)

    assert answer.status_code == 415
    assert answer.get_json()["errors"] == {"upload": ["files are not accepted"]}
    assert "'upload'" in answer.get_json()["detail"]


def test_a_config_that_ignores_file_parts_takes_the_fields(
    client: FlaskClient, committed_session: Session, celery_worker: Any
) -> None:
    tenant = make_tenant(committed_session, ignore_file_parts=True)
    committed_session.commit()
    body = multipart_body(("phone_number", "4155550143", None), ("upload", b"\x00\x01", "a.bin"))

    answer = _post(client, tenant, body)

    assert answer.status_code == 202, answer.get_data(as_text=True)
    event = wait_for_event(client, tenant.token, answer.get_json()["id"])
    assert event["status"] == "done", event
    lead = get_lead(client, tenant.token, event["lead_id"])
    assert "upload" not in lead["metadata"]


def test_a_multipart_body_is_held_to_the_same_size_limit(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, max_body_bytes=200)
    committed_session.commit()
    body = multipart_body(("phone_number", "4155550144", None), ("notes", "x" * 300, None))

    assert _post(client, tenant, body).status_code == 413


def test_a_broken_multipart_body_is_a_400(client: FlaskClient, tenant: Tenant) -> None:
    answer = _post(client, tenant, b"no parts here")

    assert answer.status_code == 400
    assert "closing boundary" in answer.get_json()["detail"]


def test_a_multipart_body_without_a_boundary_is_a_400(client: FlaskClient, tenant: Tenant) -> None:
    answer = _post(client, tenant, multipart_body(("a", "1", None)), "multipart/form-data")

    assert answer.status_code == 400
    assert "boundary" in answer.get_json()["detail"]
