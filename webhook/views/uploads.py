"""File ingestion over HTTP: ask for a signed URL, PUT the CSV there, follow the import.

The PUT needs no token (the signature is the credential, as with Sela's storage URLs). Every
step goes through the upload service (``worker.uploads``), as ``leadgate import`` does.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy.orm import Session

from models import Upload
from webhook.auth import authenticate
from webhook.broker import enqueue_upload
from webhook.db import request_session
from webhook.errors import ApiError
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
from worker.uploads.signing import (
    SignatureRefused,
    check_signature,
    sign_upload,
    signing_keys,
)
from worker.uploads.storage import (
    FileTooLarge,
    errors_path,
    receive_file,
    upload_path,
)

bp = Blueprint("uploads", __name__, url_prefix="/api/ingestion")

_FORBIDDEN = "This upload URL is not valid: its signature is wrong, expired or already used."


def _upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _secret_keys() -> tuple[str, ...]:
    return signing_keys(current_app.config["SECRET_KEYS"], _upload_dir())


def _own_upload(session: Session, organization_id: int, upload_id: str) -> Upload:
    try:
        parsed = uuid.UUID(upload_id)
    except ValueError:
        raise ApiError(404, "No such upload.") from None
    upload = upload_of(session, organization_id, parsed)
    if upload is None:
        raise ApiError(404, "No such upload.")
    return upload


@bp.post("/upload/")
def create() -> Response:
    """Create an upload for one of the caller's configs; 201 with its signed URL."""
    session = request_session()
    caller = authenticate(session)
    assert caller.organization_id is not None
    keys = _secret_keys()
    if not request.is_json:
        raise ApiError(415, "Send {source, filename} as application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.", {"body": ["not a JSON object"]})
    try:
        upload = create_upload(
            session, caller.organization_id, body.get("source"), body.get("filename")
        )
    except UploadRefused as error:
        raise ApiError(error.status, f"{error}.", {error.field: [str(error)]}) from None
    session.commit()
    signed_url = url_for(
        "uploads.put_file",
        upload_id=upload.id,
        signature=sign_upload(upload.id, keys),
        _external=True,
    )
    response = jsonify(
        {
            "id": str(upload.id),
            "signed_url": signed_url,
            "expires_at": upload.expires_time.isoformat(),
            "status": upload.status.value,
        }
    )
    response.status_code = 201
    return response


@bp.put("/uploads/<upload_id>/file/")
def put_file(upload_id: str) -> Response:
    """Receive the upload's CSV (streamed to storage) and start its import; 200 when accepted."""
    try:
        parsed = uuid.UUID(upload_id)
    except ValueError:
        raise ApiError(404, "No such upload.") from None
    session = request_session()
    # As every id of the API: one that names nothing is a 404 (an upload id is a random UUID,
    # so this tells a prober nothing usable); a real one needs its signature.
    if session.get(Upload, parsed) is None:
        raise ApiError(404, "No such upload.")
    try:
        check_signature(request.args.get("signature", ""), parsed, _secret_keys())
    except SignatureRefused:
        raise ApiError(403, _FORBIDDEN) from None
    if not claim_signed_url(session, parsed):
        raise ApiError(403, _FORBIDDEN)
    session.commit()
    upload = session.get(Upload, parsed)
    assert upload is not None
    limit: int = current_app.config["UPLOAD_MAX_BYTES"]
    target = upload_path(_upload_dir(), upload.id)
    if request.content_length is not None and request.content_length > limit:
        reason = f"the file is larger than the limit of {limit} bytes; split it into smaller files"
        fail_upload(session, upload, reason)
        session.commit()
        raise ApiError(413, f"The upload failed: {reason}.")
    try:
        received = receive_file(request.stream, target, limit)
    except FileTooLarge as error:
        fail_upload(session, upload, str(error))
        session.commit()
        raise ApiError(413, f"The upload failed: {error}.") from None
    try:
        layout = inspect_file(target)
    except FileRejected as error:
        target.unlink(missing_ok=True)
        fail_upload(session, upload, str(error), received)
        session.commit()
        raise ApiError(400, f"The upload failed: {error}.", {"file": [str(error)]}) from None
    accept_file(session, upload, received, layout)
    session.commit()
    enqueue_upload(upload.id)
    return jsonify(upload_summary(upload))


@bp.get("/uploads/<upload_id>/")
def show(upload_id: str) -> Response:
    """The upload's status, row counts, counts by action and by failed field, and timings."""
    session = request_session()
    caller = authenticate(session)
    assert caller.organization_id is not None
    upload = _own_upload(session, caller.organization_id, upload_id)
    summary = upload_summary(upload)
    summary["errors_url"] = (
        url_for("uploads.error_file", upload_id=upload.id, _external=True)
        if upload.rows_failed
        else None
    )
    return jsonify(summary)


@bp.get("/uploads/<upload_id>/errors.csv")
def error_file(upload_id: str) -> Response:
    """The rows that failed so far, with error_field and error_message, ready to fix."""
    session = request_session()
    caller = authenticate(session)
    assert caller.organization_id is not None
    upload = _own_upload(session, caller.organization_id, upload_id)
    path = errors_path(_upload_dir(), upload.id)
    if upload.errors_bytes == 0 or not path.exists():
        raise ApiError(404, "This upload has no failed rows.")
    return Response(
        committed_part(path, upload.errors_bytes),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{download_name(upload.filename)}"'},
    )
