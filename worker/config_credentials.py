"""Provider credentials of a config: checked, sealed (hash or encryption) and rotated.

Plain functions on a config row that never commit; the config service (``worker.configs``)
calls them for the CLI and the HTTP API alike. A payload key is stored as its SHA-256 digest
(it only has to be compared); a signing secret must be used to compute an HMAC, so it is
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

# How a signature header may write the HMAC-SHA256 digest (webhook.provider_auth reads both).
SIGNATURE_ENCODINGS = ("base64", "hex")
# An unsalted digest of a short key falls to a dictionary; a provider's key is pasted, not typed.
MIN_PAYLOAD_KEY_LENGTH = 16
NO_PREFIX = "none"

PAYLOAD_KEY_OPTIONS = ("payload_key_path", "payload_key")
SIGNATURE_OPTIONS = (
    "signature_header",
    "signature_encoding",
    "signature_prefix",
    "signing_secret",
)
CREDENTIAL_OPTIONS = PAYLOAD_KEY_OPTIONS + SIGNATURE_OPTIONS


def key_path_parts(path: str) -> list[str]:
    """``"auth.google_key"`` → ``["auth", "google_key"]``; ValueError for an empty segment."""
    parts = path.split(".")
    if not path or any(not part for part in parts):
        raise ValueError(f"a payload key path is object keys joined by dots, got {path!r}")
    return parts


class CredentialError(ValueError):
    """Credential options that do not fit the config; the message names the option and why.

    ``field`` is the option at fault; the config service passes it on as a ``ConfigError``.
    """

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


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
    # Refusals name options as CLI flags (--payload-key) or, for the HTTP API, as JSON keys.
    flags: bool = True

    def label(self, name: str) -> str:
        """How a refusal names the option ``name``: ``--payload-key`` or ``payload_key``."""
        if name == "auth_mode":
            name = "auth"
        return f"--{name.replace('_', '-')}" if self.flags else name

    def given(self, names: tuple[str, ...]) -> list[str]:
        """The options among ``names`` that were given."""
        return [name for name in names if getattr(self, name) is not None]


def _refuse(options: CredentialOptions, name: str, reason: str) -> CredentialError:
    return CredentialError(f"{options.label(name)} {reason}", name)


def _check_values(options: CredentialOptions) -> None:
    if options.payload_key_path is not None:
        try:
            key_path_parts(options.payload_key_path)
        except ValueError as error:
            raise CredentialError(
                f"{options.label('payload_key_path')}: {error}", "payload_key_path"
            ) from None
    if options.payload_key is not None and len(options.payload_key) < MIN_PAYLOAD_KEY_LENGTH:
        raise _refuse(
            options,
            "payload_key",
            f"must be at least {MIN_PAYLOAD_KEY_LENGTH} characters long "
            f"(got {len(options.payload_key)}); use a long random value",
        )
    encoding = options.signature_encoding
    if encoding is not None and encoding not in SIGNATURE_ENCODINGS:
        raise _refuse(options, "signature_encoding", f"must be base64 or hex, got {encoding!r}")
    header = options.signature_header
    if header is not None and (not header.strip() or not header.isascii() or " " in header):
        raise _refuse(options, "signature_header", f"must be an HTTP header name, got {header!r}")
    if options.signing_secret is not None and not options.signing_secret:
        raise _refuse(options, "signing_secret", "must not be empty")


def _check_mode(mode: AuthMode, options: CredentialOptions) -> None:
    misplaced = {
        AuthMode.payload_key: options.given(SIGNATURE_OPTIONS),
        AuthMode.signature: options.given(PAYLOAD_KEY_OPTIONS),
    }.get(mode, options.given(CREDENTIAL_OPTIONS))
    if misplaced:
        labels = ", ".join(options.label(name) for name in misplaced)
        raise CredentialError(
            f"{labels} do not go with {options.label('auth')} {mode.value}", misplaced[0]
        )


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
    ``options.grace``; a mode left without its credential is refused with the missing options.
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
            raise CredentialError(
                f"{options.label('signing_secret')}: {error}", "signing_secret"
            ) from None
        _rotate(config, "previous_signing_secret", config.signing_secret, now, options.grace)
        config.signing_secret = sealed
        changed.append("signing_secret")
    if mode == AuthMode.signature and config.signature_encoding is None:
        config.signature_encoding = "base64"
        changed.append("signature_encoding")
    return changed


def _require_complete(config: IngestionConfig, mode: AuthMode, options: CredentialOptions) -> None:
    # Option → whether it was given now or is already stored on the config.
    needed = {
        AuthMode.payload_key: {
            "payload_key_path": options.payload_key_path or config.payload_key_path,
            "payload_key": options.payload_key or config.payload_key_hash,
        },
        AuthMode.signature: {
            "signature_header": options.signature_header or config.signature_header,
            "signing_secret": options.signing_secret or config.signing_secret,
        },
    }.get(mode, {})
    missing = [name for name, value in needed.items() if not value]
    if missing:
        labels = " and ".join(options.label(name) for name in missing)
        raise CredentialError(f"{options.label('auth')} {mode.value} needs {labels}", missing[0])


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
