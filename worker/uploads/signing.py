"""Signed upload URLs: the signature names one upload and is made with the service's key."""

from __future__ import annotations

import uuid

from itsdangerous import BadSignature, URLSafeTimedSerializer

# How long a signed URL is valid.
URL_LIFETIME_SECONDS = 3600
# Keeps these signatures from being valid for any other use of the same key.
_SALT = "leadgate.upload-url"


class SignatureRefused(ValueError):
    """The signature is wrong, expired or names another upload."""


def _serializer(secret_keys: tuple[str, ...]) -> URLSafeTimedSerializer:
    if not secret_keys:
        raise LookupError("LEADGATE_SECRET_KEY is not set; it signs upload URLs")
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
