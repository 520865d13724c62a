"""Provider credentials of a config: checked, sealed (hash or encryption) and rotated.

Plain functions on a config row that never commit. A payload key is stored as its SHA-256
digest (it only has to be compared); a signing secret must be used to compute an HMAC, so it is
encrypted with LEADGATE_SECRET_KEY. Changing either keeps the old one valid for a grace period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.encryption import SecretKeyError, encrypt_secret
from common.tokens import hash_token
from models import IngestionConfig
from models.base import utcnow
from models.enums import AuthMode
from webhook.provider_auth import SIGNATURE_ENCODINGS, key_path_parts

# An unsalted digest of a short key falls to a dictionary; a provider's key is pasted, not typed.
MIN_PAYLOAD_KEY_LENGTH = 16
NO_PREFIX = "none"

_PAYLOAD_KEY_OPTIONS = ("payload_key_path", "payload_key")
_SIGNATURE_OPTIONS = (
    "signature_header",
    "signature_encoding",
    "signature_prefix",
    "signing_secret",
)


class CredentialError(ValueError):
    """Credential options that do not fit the config; the message names the option and why."""


@dataclass
class CredentialOptions:
    """Provider credential options; None leaves a value as it is."""

    payload_key_path: str | None = None
    payload_key: str | None = None
    signature_header: str | None = None
    signature_encoding: str | None = None
    signature_prefix: str | None = None  # "none" for a bare digest
    signing_secret: str | None = None
    # How secrets are sealed and how long a replaced one stays valid (from the settings).
    secret_keys: tuple[str, ...] = ()
    grace: dt.timedelta = dt.timedelta(hours=24)

    def given(self, names: tuple[str, ...]) -> list[str]:
        """The option names among ``names`` that were given, as CLI flags."""
        return [f"--{name.replace('_', '-')}" for name in names if getattr(self, name) is not None]


def _check_values(options: CredentialOptions) -> None:
    if options.payload_key_path is not None:
        try:
            key_path_parts(options.payload_key_path)
        except ValueError as error:
            raise CredentialError(f"--payload-key-path: {error}") from None
    if options.payload_key is not None and len(options.payload_key) < MIN_PAYLOAD_KEY_LENGTH:
        raise CredentialError(
            f"--payload-key must be at least {MIN_PAYLOAD_KEY_LENGTH} characters long "
            f"(got {len(options.payload_key)}); use a long random value"
        )
    encoding = options.signature_encoding
    if encoding is not None and encoding not in SIGNATURE_ENCODINGS:
        raise CredentialError(f"--signature-encoding must be base64 or hex, got {encoding!r}")
    header = options.signature_header
    if header is not None and (not header.strip() or not header.isascii() or " " in header):
        raise CredentialError(f"--signature-header must be an HTTP header name, got {header!r}")
    if options.signing_secret is not None and not options.signing_secret:
        raise CredentialError("--signing-secret must not be empty")


def _check_mode(mode: AuthMode, options: CredentialOptions) -> None:
    misplaced = {
        AuthMode.payload_key: options.given(_SIGNATURE_OPTIONS),
        AuthMode.signature: options.given(_PAYLOAD_KEY_OPTIONS),
    }.get(mode, options.given(_PAYLOAD_KEY_OPTIONS + _SIGNATURE_OPTIONS))
    if misplaced:
        raise CredentialError(f"{', '.join(misplaced)} do not go with --auth {mode.value}")


def _rotate(
    config: IngestionConfig,
    previous_column: str,
    old: str | None,
    now: dt.datetime,
    grace: dt.timedelta,
) -> None:
    setattr(config, previous_column, old)
    config.previous_secret_expires_time = now + grace if old is not None else None


def apply_credentials(
    config: IngestionConfig, mode: AuthMode, options: CredentialOptions
) -> list[str]:
    """Set ``config``'s credential for ``mode`` from ``options``; returns what changed.

    A new payload key or signing secret replaces the old one, which stays valid for
    ``options.grace``; a mode left without its credential is refused with the missing flags.
    """
    _check_values(options)
    _check_mode(mode, options)
    _require_complete(config, mode, options)  # before anything is sealed or changed
    now = utcnow()
    changed: list[str] = []
    if options.payload_key_path is not None and options.payload_key_path != config.payload_key_path:
        config.payload_key_path = options.payload_key_path
        changed.append("payload_key_path")
    if options.payload_key is not None:
        digest = hash_token(options.payload_key)
        if digest != config.payload_key_hash:
            _rotate(
                config, "previous_payload_key_hash", config.payload_key_hash, now, options.grace
            )
            config.payload_key_hash = digest
            changed.append("payload_key")
    for name in ("signature_header", "signature_encoding"):
        value = getattr(options, name)
        if value is not None and value != getattr(config, name):
            setattr(config, name, value)
            changed.append(name)
    if options.signature_prefix is not None:
        prefix = None if options.signature_prefix.lower() == NO_PREFIX else options.signature_prefix
        if prefix != config.signature_prefix:
            config.signature_prefix = prefix
            changed.append("signature_prefix")
    if options.signing_secret is not None:
        try:
            sealed = encrypt_secret(options.signing_secret, options.secret_keys)
        except SecretKeyError as error:
            raise CredentialError(f"--signing-secret: {error}") from None
        _rotate(config, "previous_signing_secret", config.signing_secret, now, options.grace)
        config.signing_secret = sealed
        changed.append("signing_secret")
    if mode == AuthMode.signature and config.signature_encoding is None:
        config.signature_encoding = "base64"
        changed.append("signature_encoding")
    return changed


def _require_complete(config: IngestionConfig, mode: AuthMode, options: CredentialOptions) -> None:
    # Flag → whether it was given now or is already stored on the config.
    needed = {
        AuthMode.payload_key: {
            "--payload-key-path": options.payload_key_path or config.payload_key_path,
            "--payload-key": options.payload_key or config.payload_key_hash,
        },
        AuthMode.signature: {
            "--signature-header": options.signature_header or config.signature_header,
            "--signing-secret": options.signing_secret or config.signing_secret,
        },
    }.get(mode, {})
    missing = [flag for flag, value in needed.items() if not value]
    if missing:
        raise CredentialError(f"--auth {mode.value} needs {' and '.join(missing)}")


def credential_summary(config: IngestionConfig) -> dict[str, object]:
    """What a config's credential is, for display: never a secret, nor its digest."""
    summary: dict[str, object] = {}
    if config.auth_mode == AuthMode.payload_key:
        summary["payload_key_path"] = config.payload_key_path
    if config.auth_mode == AuthMode.signature:
        summary |= {
            "signature_header": config.signature_header,
            "signature_encoding": config.signature_encoding,
            "signature_prefix": config.signature_prefix,
        }
    expires = config.previous_secret_expires_time
    if expires is not None and expires > utcnow():
        summary["previous_secret_valid_until"] = expires.isoformat()
    return summary
