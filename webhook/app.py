"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from leadgate.logs import configure_logging
from leadgate.settings import get_settings
from webhook.errors import register_error_handlers


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the webhook app; ``test_config`` overrides settings in tests."""
    configure_logging()
    app = Flask(__name__)
    settings = get_settings()
    app.config.update(
        MAX_BODY_BYTES=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from webhook import db
    from webhook.views import events, health, ingest, leads, openapi

    db.init_app(app)
    for blueprint in (health.bp, ingest.bp, events.bp, leads.bp, openapi.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    return app
