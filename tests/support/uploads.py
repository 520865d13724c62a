"""Uploading files in tests: ask for a signed URL, PUT the bytes, wait for the import's end."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

# A fixed Fernet key for the tests' app: it signs the upload URLs.
SECRET_KEY = "J0l2sqQ8Y7yWm3wWQe5nG3Hxq2o8mV7r3bT6vV0XoUQ="


def csv_text(header: list[str], rows: list[list[str]], delimiter: str = ",") -> bytes:
    """A CSV file's bytes (CRLF line ends, as spreadsheets write them)."""
    lines = [delimiter.join(header), *(delimiter.join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def create_upload(
    client: FlaskClient, token: str, source: str, filename: str = "leads.csv"
) -> TestResponse:
    """POST /api/ingestion/upload/."""
    return client.post(
        "/api/ingestion/upload/",
        json={"source": source, "filename": filename},
        headers={"Authorization": f"Token {token}"},
    )


def put_file(client: FlaskClient, signed_url: str, content: bytes) -> TestResponse:
    """PUT the file to its signed URL, without a token."""
    parts = urlsplit(signed_url)
    return client.put(f"{parts.path}?{parts.query}", data=content, content_type="text/csv")


def wait_for_upload(
    client: FlaskClient, token: str, upload_id: str, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll the upload until it is done or failed; fail the test if it is not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(
            f"/api/ingestion/uploads/{upload_id}/", headers={"Authorization": f"Token {token}"}
        )
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        if body["status"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, f"upload still {body['status']}: {body}"
        time.sleep(0.1)


def upload_file(
    client: FlaskClient, token: str, source: str, content: bytes
) -> tuple[TestResponse, str]:
    """Create an upload and PUT ``content`` to it; the PUT's answer and the upload's id."""
    created = create_upload(client, token, source)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    return put_file(client, body["signed_url"], content), body["id"]
