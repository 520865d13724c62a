"""The CLI's provider-credential options: the click flags and the CredentialOptions they make.

Checking, sealing and rotating credentials is the config service's
(``worker.config_credentials``); this module only reads flags and the settings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import click

from common.settings import get_settings
from models.enums import AuthMode
from worker.config_credentials import CREDENTIAL_OPTIONS, SIGNATURE_ENCODINGS, CredentialOptions

AUTH_MODES = [mode.value for mode in AuthMode]


def credential_decorators(command: Callable[..., None]) -> Callable[..., None]:
    """Add --auth, the credential flags and --ignore-file-parts to a command."""
    for option in reversed(
        [
            click.option("--auth", "auth", type=click.Choice(AUTH_MODES), default=None,
                         help="How providers authenticate (--open is short for --auth open)."),
            click.option("--payload-key-path", default=None, metavar="PATH",
                         help="payload-key: where the payload carries the key (google_key)."),
            click.option("--payload-key", default=None, metavar="SECRET",
                         envvar="LEADGATE_PAYLOAD_KEY", show_envvar=True,
                         help="payload-key: the shared key (stored as a hash)."),
            click.option("--signature-header", default=None, metavar="NAME",
                         help="signature: the header with the body's HMAC-SHA256."),
            click.option("--signature-encoding", type=click.Choice(list(SIGNATURE_ENCODINGS)),
                         default=None, help="signature: how the digest is written (base64)."),
            click.option("--signature-prefix", default=None, metavar="PREFIX|none",
                         help="signature: text before the digest, e.g. sha256= (none)."),
            click.option("--signing-secret", default=None, metavar="SECRET",
                         envvar="LEADGATE_SIGNING_SECRET", show_envvar=True,
                         help="signature: the HMAC secret (encrypted with LEADGATE_SECRET_KEY)."),
            click.option("--ignore-file-parts/--refuse-file-parts", default=None,
                         help="multipart bodies: drop file parts, or refuse them with 415."),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


def credential_options(given: dict[str, Any], defaults: dict[str, Any]) -> CredentialOptions:
    """CredentialOptions from the CLI's values, over a template's defaults; sealed per settings."""
    settings = get_settings()
    values: dict[str, Any] = {
        name: given[name] if given[name] is not None else defaults.get(name)
        for name in CREDENTIAL_OPTIONS
    }
    return CredentialOptions(
        **values,
        secret_keys=settings.secret_keys,
        grace=dt.timedelta(seconds=settings.secret_grace_seconds),
    )


def auth_mode(auth: str | None, open_auth: bool | None, default: str | None) -> AuthMode | None:
    """The mode --auth names, or --open's; both at once must agree."""
    shorthand = None if open_auth is None else (AuthMode.open if open_auth else AuthMode.token)
    chosen = AuthMode(auth) if auth is not None else None
    if chosen is not None and shorthand is not None and chosen != shorthand:
        raise click.UsageError(
            f"--auth {chosen.value} contradicts --{'open' if open_auth else 'token-auth'}"
        )
    picked = chosen or shorthand
    return picked if picked is not None else (AuthMode(default) if default else None)
