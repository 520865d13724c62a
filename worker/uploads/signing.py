"""Signed upload URLs: the signature names one upload and is made with the service's key."""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

# How long a signed URL is valid.
URL_LIFETIME_SECONDS = 3600
# Keeps these signatures from being valid for any other use of the same key.
_SALT = "leadgate.upload-url"


# Where the key is kept when LEADGATE_SECRET_KEY is not set, in the upload directory.
KEY_FILE = ".signing-key"


def signing_keys(secret_keys: tuple[str, ...], upload_dir: Path) -> tuple[str, ...]:
    """The keys upload URLs are signed with: LEADGATE_SECRET_KEY's, else the upload dir's own.

    Without LEADGATE_SECRET_KEY a random key is made once and kept (owner-only) beside the
    uploads: every process that serves uploads shares that directory anyway, since the worker
    reads the files there, so uploads work on a fresh install without leaving URLs unsigned.
    """
    if secret_keys:
        return secret_keys
    path = upload_dir / KEY_FILE
    upload_dir.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made by an earlier request or another process: use theirs
    else:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32))
    key = path.read_text().strip()
    if not key:  # another process created the file and has not written it yet
        raise LookupError("the upload signing key is being created; try again")
    return (key,)


class SignatureRefused(ValueError):
    """The signature is wrong, expired or names another upload."""


def _serializer(secret_keys: tuple[str, ...]) -> URLSafeTimedSerializer:
    if not secret_keys:
        raise LookupError("no key to sign upload URLs with")
    # itsdangerous signs with the last key and accepts every one; ours lists the current first.
    return URLSafeTimedSerializer(list(reversed(secret_keys)), salt=_SALT)


def sign_upload(upload_id: uuid.UUID, secret_keys: tuple[str, ...]) -> str:
    """The signature for the upload's URL."""
    return _serializer(secret_keys).dumps(str(upload_id))


def check_signature(signature: str, upload_id: uuid.UUID, secret_keys: tuple[str, ...]) -> None:
    """Raise SignatureRefused unless ``signature`` was made for this upload within the hour."""
    try:
        signed = _serializer(secret_keys).loads(signature, max_age=URL_LIFETIME_SECONDS)
    except BadSignature:  # SignatureExpired is one of these
        raise SignatureRefused("the signature is not valid for this upload") from None
    if signed != str(upload_id):
        raise SignatureRefused("the signature is not valid for this upload")
