"""File ingestion over HTTP with a real worker: signed URL, PUT, chunked import, error file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Lead, Upload
from tests.support.factories import Tenant, make_tenant
from tests.support.uploads import (
    SECRET_KEY,
    create_upload,
    csv_text,
    put_file,
    upload_file,
    wait_for_upload,
)
from worker.uploads.storage import upload_path

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("celery_worker")]

HEADER = ["phone_number", "email", "lead_source"]


@pytest.fixture
def app(app: Flask) -> Flask:
    """The webhook app with a key to sign upload URLs."""
    app.config["SECRET_KEYS"] = (SECRET_KEY,)
    return app


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _phone(index: int) -> str:
    return f"+1415555{index:04d}"


def _leads(session: Session, tenant: Tenant) -> list[Lead]:
    session.expire_all()
    return list(
        session.scalars(
            select(Lead).where(Lead.organization_id == tenant.organization_id).order_by(Lead.id)
        )
    )


def _events(session: Session, tenant: Tenant) -> int:
    return int(
        session.scalar(
            select(func.count()).where(IngestionEvent.organization_id == tenant.organization_id)
        )
        or 0
    )


def _error_rows(client: FlaskClient, tenant: Tenant, upload_id: str) -> list[dict[str, str]]:
    response = client.get(f"/api/ingestion/uploads/{upload_id}/errors.csv", headers=_auth(tenant))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_a_file_is_imported_row_by_row_with_counts_and_an_error_file(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    rows = [[_phone(i), f"p{i}@example.com", f"Name{i}"] for i in range(1, 6)]
    rows.insert(2, [_phone(90), "x@example.com", "Too", "many"])  # ragged: row 3
    rows.insert(4, [])  # empty: row 5
    rows.append(["not a phone", "bad@example.com", "Bad"])  # row 8: the event fails
    created = create_upload(client, tenant.token, str(tenant.config_id), "may-leads.csv")
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "awaiting_upload"
    assert "/api/ingestion/uploads/" in body["signed_url"] and "signature=" in body["signed_url"]
    assert dt.datetime.fromisoformat(body["expires_at"]) > dt.datetime.now(dt.UTC)

    put = put_file(client, body["signed_url"], csv_text(HEADER, rows))
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["rows_total"] == 8
    done = wait_for_upload(client, tenant.token, body["id"])

    assert done["status"] == "done"
    assert done["rows_done"] == 8 and done["rows_failed"] == 3
    assert done["actions"] == {"created": 5, "failed": 3}
    assert done["failed_fields"] == {"phone_number": 1, "row": 2}
    assert done["timings"]["finished_time"] is not None
    assert [lead.lead_source for lead in _leads(committed_session, tenant)] == [
        f"Name{i}" for i in range(1, 6)
    ]
    errors = _error_rows(client, tenant, body["id"])
    assert [row["lead_source"] for row in errors] == ["Too", "", "Bad"]
    assert [row["error_field"] for row in errors] == ["row", "row", "phone_number"]
    assert "more fields" not in errors[0]["error_message"]
    assert "4 fields" in errors[0]["error_message"]
    assert errors[1]["error_message"] == "the row is empty"


def test_semicolon_and_tab_files_with_a_bom_are_read(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    for index, delimiter in enumerate((";", "\t")):
        content = b"\xef\xbb\xbf" + csv_text(
            HEADER, [[_phone(index + 1), f"d{index}@example.com", "Anne; Marie"]], delimiter
        ).replace(b"Anne; Marie", b'"Anne; Marie"')
        put, upload_id = upload_file(client, tenant.token, str(tenant.config_id), content)
        assert put.status_code == 200, put.get_json()
        assert wait_for_upload(client, tenant.token, upload_id)["actions"] == {"created": 1}
    assert [lead.lead_source for lead in _leads(committed_session, tenant)] == ["Anne; Marie"] * 2


def test_rows_of_one_person_apply_in_file_order(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    rows = [[_phone(7), "same@example.com", f"Version{i}"] for i in range(1, 41)]
    put, upload_id = upload_file(
        client, tenant.token, str(tenant.config_id), csv_text(HEADER, rows)
    )
    assert put.status_code == 200
    done = wait_for_upload(client, tenant.token, upload_id)
    assert done["actions"] == {"created": 1, "updated": 39}
    leads = _leads(committed_session, tenant)
    assert len(leads) == 1 and leads[0].lead_source == "Version40"


def test_the_same_file_uploaded_twice_changes_nothing(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    content = csv_text(HEADER, [[_phone(i), f"t{i}@example.com", "T"] for i in range(1, 4)])
    _, first = upload_file(client, tenant.token, str(tenant.config_id), content)
    assert wait_for_upload(client, tenant.token, first)["actions"] == {"created": 3}
    before = [(lead.id, lead.modified_time) for lead in _leads(committed_session, tenant)]
    events = _events(committed_session, tenant)

    _, second = upload_file(client, tenant.token, str(tenant.config_id), content)
    again = wait_for_upload(client, tenant.token, second)

    assert again["status"] == "done"
    assert again["actions"] == {"already_imported": 3}
    assert [(lead.id, lead.modified_time) for lead in _leads(committed_session, tenant)] == before
    assert _events(committed_session, tenant) == events


def test_a_config_may_be_named_by_its_name(client: FlaskClient, committed_session: Session) -> None:
    named = make_tenant(committed_session, name=f"files-{uuid.uuid4().hex[:6]}")
    committed_session.commit()
    response = create_upload(client, named.token, _config_name(committed_session, named))
    assert response.status_code == 201


def _config_name(session: Session, tenant: Tenant) -> str:
    config = session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    return config.name


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filename": "a.csv"}, "source"),
        ({"source": "no such config", "filename": "a.csv"}, "source"),
        ({"source": None, "filename": ""}, "source"),
    ],
)
def test_a_bad_create_names_the_field(
    client: FlaskClient, tenant: Tenant, body: dict[str, object], field: str
) -> None:
    response = client.post("/api/ingestion/upload/", json=body, headers=_auth(tenant))
    assert response.status_code in (400, 404)
    assert field in response.get_json()["errors"]


def test_a_blank_filename_is_refused(client: FlaskClient, tenant: Tenant) -> None:
    response = create_upload(client, tenant.token, str(tenant.config_id), " ")
    assert response.status_code == 400
    assert "filename" in response.get_json()["errors"]


def test_another_organizations_config_and_upload_are_404(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    assert create_upload(client, other.token, str(tenant.config_id)).status_code == 404
    content = csv_text(HEADER, [["", "", "x"]])
    _, upload_id = upload_file(client, tenant.token, str(tenant.config_id), content)
    wait_for_upload(client, tenant.token, upload_id)
    for path in (
        f"/api/ingestion/uploads/{upload_id}/",
        f"/api/ingestion/uploads/{upload_id}/errors.csv",
    ):
        response = client.get(path, headers=_auth(other))
        assert response.status_code == 404
        assert "x" not in response.get_data(as_text=True).replace("text", "")
    assert client.get(f"/api/ingestion/uploads/{upload_id}/").status_code == 401


def test_a_wrong_signature_is_403_and_stores_nothing(
    app: Flask, client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    body = create_upload(client, tenant.token, str(tenant.config_id)).get_json()
    tampered = body["signed_url"][:-3] + (
        "aaa" if not body["signed_url"].endswith("aaa") else "bbb"
    )
    response = put_file(client, tampered, csv_text(HEADER, [[_phone(1), "", ""]]))
    assert response.status_code == 403
    unsigned = put_file(client, body["signed_url"].split("?")[0] + "?signature=", b"a,b\r\n")
    assert unsigned.status_code == 403
    upload = committed_session.get(Upload, uuid.UUID(body["id"]))
    assert upload is not None and upload.file_received_time is None
    assert not upload_path(app.config["UPLOAD_DIR"], upload.id).exists()
    # The right signature still works afterwards.
    assert put_file(client, body["signed_url"], csv_text(HEADER, [])).status_code == 200


def test_another_uploads_signature_is_403(client: FlaskClient, tenant: Tenant) -> None:
    first = create_upload(client, tenant.token, str(tenant.config_id)).get_json()
    second = create_upload(client, tenant.token, str(tenant.config_id)).get_json()
    signature = first["signed_url"].split("?")[1]
    url = second["signed_url"].split("?")[0] + "?" + signature
    assert put_file(client, url, csv_text(HEADER, [])).status_code == 403


def test_an_expired_signature_is_403(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    body = create_upload(client, tenant.token, str(tenant.config_id)).get_json()
    committed_session.execute(
        update(Upload)
        .where(Upload.id == uuid.UUID(body["id"]))
        .values(expires_time=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    committed_session.commit()
    response = put_file(client, body["signed_url"], csv_text(HEADER, []))
    assert response.status_code == 403
    assert "expired" in response.get_json()["detail"]


def test_a_used_signature_is_403(client: FlaskClient, tenant: Tenant) -> None:
    body = create_upload(client, tenant.token, str(tenant.config_id)).get_json()
    content = csv_text(HEADER, [[_phone(3), "", "Once"]])
    assert put_file(client, body["signed_url"], content).status_code == 200
    assert put_file(client, body["signed_url"], content).status_code == 403


def test_a_file_over_the_limit_is_413_and_fails_the_upload(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    app.config["UPLOAD_MAX_BYTES"] = 100
    content = csv_text(HEADER, [[_phone(i), "", "Big"] for i in range(20)])
    put, upload_id = upload_file(client, tenant.token, str(tenant.config_id), content)
    assert put.status_code == 413
    assert "100 bytes" in put.get_json()["detail"]
    shown = wait_for_upload(client, tenant.token, upload_id)
    assert shown["status"] == "failed" and "100 bytes" in shown["failure_reason"]
    assert not upload_path(app.config["UPLOAD_DIR"], uuid.UUID(upload_id)).exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\r\nphone_number,email\r\n", "no header row"),
        (b"+14155550100,a@example.com\r\n+14155550101,b@example.com\r\n", "no header row"),
        (b"phone_number,lead_source\r\n+14155550100,Ren\xe9\r\n", "not UTF-8"),
        (b"phone_number,phone_number\r\n1,2\r\n", "twice"),
    ],
)
def test_a_file_that_is_no_csv_with_a_header_fails_the_upload(
    client: FlaskClient, tenant: Tenant, content: bytes, reason: str
) -> None:
    put, upload_id = upload_file(client, tenant.token, str(tenant.config_id), content)
    assert put.status_code == 400
    assert reason in put.get_json()["errors"]["file"][0]
    shown = wait_for_upload(client, tenant.token, upload_id)
    assert shown["status"] == "failed" and reason in shown["failure_reason"]


def test_without_leadgate_secret_key_urls_are_signed_with_a_key_of_the_upload_dir(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    app.config["SECRET_KEYS"] = ()
    body = create_upload(client, tenant.token, str(tenant.config_id)).get_json()
    key_file = Path(app.config["UPLOAD_DIR"]) / ".signing-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    content = csv_text(HEADER, [[_phone(30), "k@example.com", "Keyed"]])
    assert put_file(client, body["signed_url"], content).status_code == 200
    assert wait_for_upload(client, tenant.token, body["id"])["actions"] == {"created": 1}
    # A URL signed with LEADGATE_SECRET_KEY is no good under the directory's key.
    app.config["SECRET_KEYS"] = (SECRET_KEY,)
    other = create_upload(client, tenant.token, str(tenant.config_id)).get_json()
    app.config["SECRET_KEYS"] = ()
    assert put_file(client, other["signed_url"], content).status_code == 403


def test_error_file_of_an_upload_without_failures_is_404(
    client: FlaskClient, tenant: Tenant
) -> None:
    content = csv_text(HEADER, [[_phone(11), "ok@example.com", "Fine"]])
    _, upload_id = upload_file(client, tenant.token, str(tenant.config_id), content)
    assert wait_for_upload(client, tenant.token, upload_id)["rows_failed"] == 0
    response = client.get(f"/api/ingestion/uploads/{upload_id}/errors.csv", headers=_auth(tenant))
    assert response.status_code == 404


def test_the_error_file_uploaded_again_once_fixed_applies_the_rows(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    content = csv_text(HEADER, [["bad", "fix@example.com", "Fixme"]])
    _, upload_id = upload_file(client, tenant.token, str(tenant.config_id), content)
    wait_for_upload(client, tenant.token, upload_id)
    response = client.get(f"/api/ingestion/uploads/{upload_id}/errors.csv", headers=_auth(tenant))
    fixed = response.get_data().replace(b"bad,", (_phone(12) + ",").encode())
    _, again = upload_file(client, tenant.token, str(tenant.config_id), fixed)
    assert wait_for_upload(client, tenant.token, again)["actions"] == {"created": 1}
    lead = _leads(committed_session, tenant)[0]
    assert lead.lead_source == "Fixme" and "error_field" not in lead.lead_metadata


def test_a_config_whose_file_endpoint_is_create_discards_duplicate_rows(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    changed = client.patch(
        f"/api/ingestion-configs/{tenant.config_id}/",
        json={"file_endpoint": "create"},
        headers=_auth(tenant),
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["file_endpoint"] == "create"
    rows = [[_phone(21), "c@example.com", "First"], [_phone(21), "c@example.com", "Second"]]
    _, upload_id = upload_file(client, tenant.token, str(tenant.config_id), csv_text(HEADER, rows))
    assert wait_for_upload(client, tenant.token, upload_id)["actions"] == {
        "created": 1,
        "duplicate": 1,
    }
    assert [lead.lead_source for lead in _leads(committed_session, tenant)] == ["First"]


def test_a_file_endpoint_that_is_neither_create_nor_upsert_is_refused(
    client: FlaskClient, tenant: Tenant
) -> None:
    response = client.patch(
        f"/api/ingestion-configs/{tenant.config_id}/",
        json={"file_endpoint": "patch"},
        headers=_auth(tenant),
    )
    assert response.status_code == 400
    assert "file_endpoint" in response.get_json()["errors"]


def test_a_put_to_an_upload_that_does_not_exist_is_404(client: FlaskClient, tenant: Tenant) -> None:
    body = create_upload(client, tenant.token, str(tenant.config_id)).get_json()
    signature = body["signed_url"].split("?")[1]
    response = put_file(client, f"/api/ingestion/uploads/{uuid.uuid4()}/file/?{signature}", b"a\n")
    assert response.status_code == 404
    assert (
        put_file(client, "/api/ingestion/uploads/not-a-uuid/file/?signature=x", b"").status_code
        == 404
    )
