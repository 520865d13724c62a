"""The keys that sign a config's outcome callbacks, opened at send time."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from common.encryption import SecretKeyError, decrypt_secret
from models import IngestionConfig
from worker.outbound.signing import signing_secrets


def callback_keys(
    session: Session, config_id: uuid.UUID, secret_keys: tuple[str, ...], now: dt.datetime
) -> tuple[list[str], str | None]:
    """The ``whsec_`` keys that sign now, and why the callback must not be sent (or None).

    A config whose callback URL was removed since the event ended sends nothing more: its owner
    no longer wants callbacks. A key that cannot be opened fails the delivery with the reason
    rather than retrying it forever.
    """
    config = session.get(IngestionConfig, config_id)
    if config is None or config.callback_url is None or config.callback_secret is None:
        return [], "the config no longer has a callback URL"
    try:
        current = decrypt_secret(config.callback_secret, secret_keys).decode("ascii")
        previous = None
        if config.previous_callback_secret is not None:
            previous = decrypt_secret(config.previous_callback_secret, secret_keys).decode("ascii")
    except SecretKeyError as error:
        return [], str(error)
    expires = config.previous_callback_secret_expires_time
    return signing_secrets(current, previous, expires, now), None
