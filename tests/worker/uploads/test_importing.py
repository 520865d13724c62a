"""The import task with a real worker: an import that cannot go on fails its upload, saying why."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from common.settings import get_settings
from models import Upload, UploadStatus
from tests.support.factories import make_tenant
from webhook.broker import enqueue_upload
from worker.uploads.csv_rows import inspect_file
from worker.uploads.service import accept_file, claim_signed_url, create_upload
from worker.uploads.storage import receive_file, upload_path

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("celery_worker")]


def test_an_import_whose_file_is_gone_fails_the_upload(
    committed_session: Session, tmp_path: Path
) -> None:
    tenant = make_tenant(committed_session)
    source = tmp_path / "leads.csv"
    source.write_text("phone_number,email\n+14155550142,gone@example.com\n", encoding="utf-8")
    upload = create_upload(committed_session, tenant.organization_id, str(tenant.config_id), "x")
    claim_signed_url(committed_session, upload.id)
    stored = upload_path(get_settings().upload_dir, upload.id)
    with source.open("rb") as stream:
        received = receive_file(stream, stored, 10_000)
    accept_file(committed_session, upload, received, inspect_file(stored))
    committed_session.commit()
    stored.unlink()

    assert enqueue_upload(upload.id)
    deadline = time.monotonic() + 30
    while True:
        committed_session.expire_all()
        found = committed_session.get(Upload, upload.id)
        assert found is not None
        if found.status != UploadStatus.processing or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert found.status == UploadStatus.failed
    assert found.failure_reason is not None and "upload the file again" in found.failure_reason
    assert found.rows_done == 0
