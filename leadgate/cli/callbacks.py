"""The CLI's provider outcome callback options: the click flags and the CallbackOptions they make.

Checking the URL and issuing keys is the config service's (``worker.callback_settings``).
"""

from __future__ import annotations

from collections.abc import Callable

import click

from common.settings import get_settings
from leadgate.cli.output import say
from worker.callback_settings import CallbackOptions

# The --callback-url value that removes the callback, as "none" clears --lead-type.
NO_CALLBACK = "none"


def callback_decorators(command: Callable[..., None]) -> Callable[..., None]:
    """Add --callback-url and --rotate-callback-secret to a command."""
    for option in reversed(
        [
            click.option("--callback-url", default=None, metavar="URL|none",
                         help="POST each event's outcome here, signed (none removes it)."),
            click.option("--rotate-callback-secret", is_flag=True, default=False,
                         help="Issue a new callback key; the old one signs beside it for 24 h."),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


def callback_options(url: str | None, rotate: bool) -> CallbackOptions:
    """CallbackOptions from the CLI's values, sealed and checked per the settings."""
    settings = get_settings()
    clear = url is not None and url.strip().lower() == NO_CALLBACK
    return CallbackOptions(
        url=None if clear else url,
        clear=clear,
        rotate_secret=rotate,
        secret_keys=settings.secret_keys,
        allow_private=settings.webhook_allow_private,
    )


def show_issued_secret(options: CallbackOptions) -> None:
    """Print a key the save issued: the only time it is shown."""
    if options.issued_secret is not None:
        say(f"callback secret (shown once; verify callbacks with it): {options.issued_secret}")
