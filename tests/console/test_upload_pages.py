"""Uploads in the console: a CSV from a form, its progress page and its error file."""

from __future__ import annotations

import csv
import io
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Upload, UploadStatus
from tests.console.conftest import csrf_token, sign_in
from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess
from tests.support.uploads import csv_text

pytestmark = pytest.mark.integration

HEADER = ["phone", "email"]
ROWS = [["+14155552671", "first@example.com"], ["not a phone", "bad@example.com"]]


def _text(client: FlaskClient, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, answer.get_data(as_text=True)[:2000]
    return answer.get_data(as_text=True)


def _send(client: FlaskClient, config: object, content: bytes, name: str = "may.csv") -> str:
    """Post the upload form with a file, as a browser does; the Location it answers with."""
    form = _text(client, "/console/uploads/")
    answer = client.post(
        "/console/uploads/",
        data={
            "csrf_token": csrf_token(form),
            "config": str(config),
            "file": (io.BytesIO(content), name, "text/csv"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    location: str = answer.headers["Location"]
    return location


def _uploads(session: Session, tenant: Tenant) -> int:
    count = session.scalar(
        select(func.count()).where(Upload.organization_id == tenant.organization_id)
    )
    return int(count or 0)


def _wait_until_done(session: Session, upload_id: str) -> Upload:
    deadline = time.monotonic() + 60
    while True:
        session.expire_all()
        upload = session.get(Upload, upload_id)
        assert upload is not None
        if upload.status in (UploadStatus.done, UploadStatus.failed):
            return upload
        assert time.monotonic() < deadline, upload.status
        time.sleep(0.1)


def test_upload_a_csv_follow_it_and_download_its_error_file(
    console: FlaskClient,
    tenant: Tenant,
    committed_session: Session,
    celery_worker: ServiceProcess,
) -> None:
    sign_in(console, tenant.token)
    page_url = _send(console, tenant.config_id, csv_text(HEADER, ROWS))
    upload_id = page_url.split("/")[-2]
    assert page_url == f"/console/uploads/{upload_id}/"
    upload = _wait_until_done(committed_session, upload_id)
    assert upload.status == UploadStatus.done and upload.config_id == tenant.config_id
    assert (upload.rows_done, upload.rows_failed) == (2, 1)

    page = _text(console, page_url)
    assert "2 of 2 rows done, 1 failed." in page
    assert "phone_number: 1" in page and "http-equiv" not in page
    assert "may.csv" in _text(console, "/console/uploads/")
    progress = console.get(f"{page_url}progress.json").get_json()
    assert progress["finished"] is True and progress["has_errors"] is True
    assert (progress["done"], progress["total"]) == (2, 2)
    assert progress["count_text"] == "2 of 2 rows done, 1 failed."
    download = console.get(f"{page_url}errors.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert 'filename="may-errors.csv"' in download.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert row["phone"] == "not a phone" and row["error_field"] == "phone_number"


def test_a_form_without_a_file_or_token_names_what_is_missing(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    sign_in(console, tenant.token)
    form = _text(console, "/console/uploads/")
    empty = console.post(
        "/console/uploads/",
        data={"csrf_token": csrf_token(form), "config": str(tenant.config_id)},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 400
    assert "file: choose a CSV file to upload" in empty.get_data(as_text=True)
    unknown = console.post(
        "/console/uploads/",
        data={
            "csrf_token": csrf_token(form),
            "config": "no such config",
            "file": (io.BytesIO(b"phone\r\n1\r\n"), "a.csv"),
        },
        content_type="multipart/form-data",
    )
    assert unknown.status_code == 404 and "config: no ingestion config" in unknown.get_data(
        as_text=True
    )
    unsigned = console.post(
        "/console/uploads/",
        data={"config": str(tenant.config_id), "file": (io.BytesIO(b"phone\r\n1\r\n"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert unsigned.status_code == 400
    assert _uploads(committed_session, tenant) == 0


def test_the_size_limit_holds_for_the_form(
    console_app: Flask, console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    console_app.config["UPLOAD_MAX_BYTES"] = 100
    sign_in(console, tenant.token)
    too_big = csv_text(HEADER, [[f"+1415555{i:04d}", f"p{i}@example.com"] for i in range(20)])
    page_url = _send(console, tenant.config_id, too_big)
    upload = _wait_until_done(committed_session, page_url.split("/")[-2])
    assert upload.status == UploadStatus.failed
    assert "larger than the limit of 100 bytes" in (upload.failure_reason or "")
    assert "larger than the limit of 100 bytes" in _text(console, page_url)
    # Far past the limit: refused before the body is read, and no upload is made.
    form = _text(console, "/console/uploads/")
    huge = console.post(
        "/console/uploads/",
        data={
            "csrf_token": csrf_token(form),
            "config": str(tenant.config_id),
            "file": (io.BytesIO(b"x" * 200_000), "huge.csv"),
        },
        content_type="multipart/form-data",
    )
    assert huge.status_code == 413
    assert _uploads(committed_session, tenant) == 1


def test_a_file_that_is_not_csv_fails_the_upload_with_its_reason(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    sign_in(console, tenant.token)
    page_url = _send(console, tenant.config_id, b"\xff\xfe\x00binary", "photo.csv")
    page = _text(console, page_url)
    assert 'id="upload-failure"' in page and "The upload failed" in page
    assert "0 of ? rows done, 0 failed." in page


def test_another_organizations_upload_is_404(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    sign_in(console, tenant.token)
    page_url = _send(console, tenant.config_id, b"\xff not csv", "mine.csv")
    other = make_tenant(committed_session)
    committed_session.commit()
    intruder = console.application.test_client()
    sign_in(intruder, other.token)
    assert intruder.get(page_url).status_code == 404
    assert intruder.get(f"{page_url}errors.csv").status_code == 404
    assert intruder.get(f"{page_url}progress.json").status_code == 404
    assert "mine.csv" not in _text(intruder, "/console/uploads/")
    assert intruder.get("/console/uploads/not-a-uuid/").status_code == 404
