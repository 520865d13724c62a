"""Uploads: send a CSV to a config from a form, follow its import, download its error file.

The file goes through the upload service (``worker.uploads``) step by step as the API's signed
PUT does: the upload is created and its one delivery claimed, the file is streamed to storage
under the size limit, checked, accepted and handed to the workers.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from console.access import db, organization_id
from console.blueprint import bp
from models import IngestionConfig, Upload, UploadStatus
from webhook.broker import enqueue_upload
from worker.uploads.csv_rows import FileRejected, inspect_file
from worker.uploads.error_file import committed_part, download_name
from worker.uploads.service import (
    UploadRefused,
    accept_file,
    claim_signed_url,
    create_upload,
    fail_upload,
    upload_of,
    upload_summary,
)
from worker.uploads.storage import FileTooLarge, errors_path, receive_file, upload_path

# The newest uploads listed on the Uploads page.
LISTED_UPLOADS = 100


def _upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def own_upload(upload_id: str) -> Upload:
    """The organization's upload; 404 for another organization's or none."""
    try:
        parsed = uuid.UUID(upload_id)
    except ValueError:
        abort(404)
    upload = upload_of(db(), organization_id(), parsed)
    if upload is None:
        abort(404)
    return upload


def _uploads_page(status: int = 200, **values: object) -> tuple[str, int]:
    session = db()
    configs = list(
        session.scalars(
            select(IngestionConfig)
            .where(
                IngestionConfig.organization_id == organization_id(),
                ~IngestionConfig.standard_api,
            )
            .order_by(IngestionConfig.created_time, IngestionConfig.id)
        )
    )
    uploads = session.scalars(
        select(Upload)
        .where(Upload.organization_id == organization_id())
        .order_by(Upload.created_time.desc(), Upload.id)
        .limit(LISTED_UPLOADS)
    )
    names = {str(config.id): config.name for config in configs}
    return render_template(
        "console/uploads.html",
        configs=configs,
        uploads=[upload_summary(upload) for upload in uploads],
        names=names,
        limit=current_app.config["UPLOAD_MAX_BYTES"],
        **values,
    ), status


@bp.get("/uploads/")
def uploads() -> tuple[str, int]:
    """The organization's uploads, newest first, and the form that sends a new one."""
    return _uploads_page()


def store_file(upload: Upload, file: FileStorage) -> None:
    """Stream the form's file to storage, check it and start its import (or fail the upload)."""
    session = db()
    target = upload_path(_upload_dir(), upload.id)
    try:
        received = receive_file(file.stream, target, current_app.config["UPLOAD_MAX_BYTES"])
    except FileTooLarge as error:
        fail_upload(session, upload, str(error))
        session.commit()
        return
    try:
        layout = inspect_file(target)
    except FileRejected as error:
        target.unlink(missing_ok=True)
        fail_upload(session, upload, str(error), received)
        session.commit()
        return
    accept_file(session, upload, received, layout)
    session.commit()
    # A failed publish loses nothing: the uploads sweeper starts a processing upload later.
    enqueue_upload(upload.id)


@bp.post("/uploads/")
def create_upload_file() -> Response | tuple[str, int]:
    """Create an upload for the chosen config from the form's CSV file and start its import."""
    session = db()
    file = request.files.get("file")
    config = request.form.get("config", "")
    if file is None or not file.filename:
        return _uploads_page(400, errors={"file": "choose a CSV file to upload"}, chosen=config)
    try:
        upload = create_upload(session, organization_id(), config, file.filename)
    except UploadRefused as error:
        session.rollback()
        return _uploads_page(error.status, errors={error.field: str(error)}, chosen=config)
    # The form is this upload's one delivery of its file, as a signed URL's single PUT is.
    claimed = claim_signed_url(session, upload.id)
    assert claimed  # created a moment ago in this transaction: awaiting its file, unexpired
    session.commit()
    store_file(upload, file)
    session.refresh(upload)
    if upload.status == UploadStatus.failed:
        flash(f"The upload failed: {upload.failure_reason}.")
    else:
        flash(f"{upload.filename} uploaded: its {upload.rows_total} rows are being imported.")
    return redirect(url_for("console.upload", upload_id=upload.id), code=303)


def upload_progress_of(upload: Upload) -> dict[str, Any]:
    """The upload as its page and progress bar read it: the API's summary plus how far it is."""
    total = upload.rows_total or 0
    shown_total = "?" if upload.rows_total is None else str(upload.rows_total)
    failed = upload.rows_failed
    return upload_summary(upload) | {
        "done": upload.rows_done,
        "total": total,
        "finished": upload.status in (UploadStatus.done, UploadStatus.failed),
        "finished_time": upload.finished_time.isoformat() if upload.finished_time else None,
        "by_action": dict(sorted(upload.actions.items())),
        "count_text": f"{upload.rows_done} of {shown_total} rows done, {failed} failed.",
        "has_errors": upload.errors_bytes > 0,
    }


@bp.get("/uploads/<upload_id>/")
def upload(upload_id: str) -> str:
    """One upload's progress: status, rows done and failed, counts by action and field."""
    found = own_upload(upload_id)
    config = db().get(IngestionConfig, found.config_id)
    return render_template("console/upload.html", upload=upload_progress_of(found), config=config)


@bp.get("/uploads/<upload_id>/progress.json")
def upload_progress(upload_id: str) -> Response:
    """The upload's progress as JSON, for the page's progress bar."""
    return jsonify(upload_progress_of(own_upload(upload_id)))


@bp.get("/uploads/<upload_id>/errors.csv")
def upload_errors(upload_id: str) -> Response:
    """The rows that failed so far, with error_field and error_message, ready to fix."""
    found = own_upload(upload_id)
    path = errors_path(_upload_dir(), found.id)
    if found.errors_bytes == 0 or not path.exists():
        abort(404, "This upload has no failed rows.")
    return Response(
        committed_part(path, found.errors_bytes),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{download_name(found.filename)}"'},
    )
