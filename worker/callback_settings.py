"""A config's provider outcome callback: its URL checked, its signing key issued and rotated.

Plain functions on a config row that never commit; the config service (``worker.configs``)
calls them for the CLI and the HTTP API alike. The key is a Standard Webhooks ``whsec_`` key,
shown once when it is issued and stored as a Fernet token under LEADGATE_SECRET_KEY (it must be
used to sign, so it cannot be hashed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.encryption import SecretKeyError, encrypt_secret
from models import IngestionConfig
from models.base import utcnow
from worker.outbound.addresses import UnsafeAddress, check_url
from worker.outbound.signing import ROTATION_OVERLAP, generate_secret

MAX_CALLBACK_URL_LENGTH = 2048


class CallbackError(ValueError):
    """A callback option that cannot be saved; ``field`` names it, the message says why."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class CallbackOptions:
    """What a request asks of the callback; None and False leave it as it is."""

    url: str | None = None
    # Remove the URL and its keys (the API's ``"callback_url": null``, the CLI's empty value).
    clear: bool = False
    rotate_secret: bool = False
    # How the key is sealed and whether private addresses may be named (from the settings).
    secret_keys: tuple[str, ...] = ()
    allow_private: bool = False
    # Set by ``apply_callback`` when it issues a key: shown once, in that answer.
    issued_secret: str | None = None


def check_callback_url(value: str, allow_private: bool) -> str:
    """The trimmed URL, or a CallbackError saying why it cannot be a callback URL."""
    url = value.strip()
    if not url:
        raise CallbackError(
            "callback_url must be an http(s) URL, or null to remove it", "callback_url"
        )
    if len(url) > MAX_CALLBACK_URL_LENGTH:
        raise CallbackError(
            f"callback_url must be at most {MAX_CALLBACK_URL_LENGTH} characters", "callback_url"
        )
    if any(character.isspace() or ord(character) < 32 for character in url):
        raise CallbackError(
            "callback_url must not contain spaces or control characters", "callback_url"
        )
    try:
        # Checked again before every send: a DNS answer can change in between.
        check_url(url, allow_private, must_resolve=False)
    except UnsafeAddress as error:
        raise CallbackError(f"callback_url: {error}", "callback_url") from None
    return url


def _seal(secret: str, options: CallbackOptions) -> str:
    try:
        return encrypt_secret(secret, options.secret_keys)
    except SecretKeyError as error:
        raise CallbackError(f"callback_url: {error}", "callback_url") from None


def _issue(config: IngestionConfig, options: CallbackOptions, keep_previous: bool) -> None:
    secret = generate_secret()
    sealed = _seal(secret, options)
    now = utcnow()
    if keep_previous and config.callback_secret is not None:
        # The old key signs beside the new one for a day, so the receiver can switch any time.
        config.previous_callback_secret = config.callback_secret
        config.previous_callback_secret_expires_time = now + ROTATION_OVERLAP
    else:
        config.previous_callback_secret = None
        config.previous_callback_secret_expires_time = None
    config.callback_secret = sealed
    options.issued_secret = secret


def apply_callback(config: IngestionConfig, options: CallbackOptions) -> list[str]:
    """Set, change, clear or re-key the config's callback; the names of what changed.

    A first URL issues a key; a new URL keeps the key; removing the URL drops its keys (a URL
    set again later gets a new one); a rotation issues a new key and keeps the old one signing
    for 24 hours.
    """
    if options.clear and (options.url is not None or options.rotate_secret):
        raise CallbackError("a callback cannot be removed and set in one request", "callback_url")
    if options.clear:
        if config.callback_url is None:
            return []
        config.callback_url = None
        config.callback_secret = None
        config.previous_callback_secret = None
        config.previous_callback_secret_expires_time = None
        return ["callback_url"]
    changed: list[str] = []
    if options.url is not None:
        url = check_callback_url(options.url, options.allow_private)
        if url != config.callback_url:
            config.callback_url = url
            changed.append("callback_url")
        if config.callback_secret is None:
            _issue(config, options, keep_previous=False)
            changed.append("callback_secret")
    if options.rotate_secret:
        if config.callback_url is None:
            raise CallbackError(
                "rotate_callback_secret needs a callback_url on the config",
                "rotate_callback_secret",
            )
        if "callback_secret" not in changed:
            _issue(config, options, keep_previous=True)
            changed.append("callback_secret")
    return changed


def callback_summary(config: IngestionConfig, now: dt.datetime) -> dict[str, object]:
    """The callback as a config's answer shows it: the URL, never a key."""
    expires = config.previous_callback_secret_expires_time
    return {
        "callback_url": config.callback_url,
        "previous_callback_secret_valid_until": (
            expires.isoformat() if expires is not None and expires > now else None
        ),
    }
