"""The composition point: the webhook's app with the console registered on it (unless turned off).

``leadgate run`` and the Procfile's ``web`` serve ``console.wsgi:app``; the webhook package never
imports the console, so the API alone is still ``webhook.app.create_app``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from common.settings import get_settings
from console.blueprint import register_console
from webhook.app import create_app


def create_site(test_config: dict[str, Any] | None = None) -> Flask:
    """The webhook app, with the console at /console/ when LEADGATE_CONSOLE is not false."""
    app = create_app(test_config)
    settings = get_settings()
    enabled = app.config.get("CONSOLE_ENABLED", settings.console_enabled)
    if enabled:
        register_console(app, settings)
    return app
