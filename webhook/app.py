"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response

from common.logs import configure_logging
from common.settings import get_settings
from webhook.auth import set_cache_ttl
from webhook.errors import register_error_handlers


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the webhook app; ``test_config`` overrides settings in tests."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = Flask(__name__)
    app.config.update(
        MAX_BODY_BYTES=settings.max_body_bytes,
        AUTH_CACHE_SECONDS=settings.auth_cache_seconds,
        SECRET_KEYS=settings.secret_keys,
        SECRET_GRACE_SECONDS=settings.secret_grace_seconds,
        BULK_MAX_ITEMS=settings.bulk_max_items,
        WEBHOOK_ALLOW_PRIVATE=settings.webhook_allow_private,
        UPLOAD_DIR=settings.upload_dir,
        UPLOAD_MAX_BYTES=settings.upload_max_bytes,
    )
    if test_config:
        app.config.update(test_config)
    set_cache_ttl(app.config["AUTH_CACHE_SECONDS"])
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from webhook import db
    from webhook.views import (
        blocked_identifiers,
        callbacks,
        config_health,
        configs,
        events,
        health,
        ingest,
        lead_history,
        lead_types,
        lead_writes,
        leads,
        metrics,
        openapi,
        quarantine,
        replays,
        templates,
        uploads,
        webhooks,
    )

    db.init_app(app)
    blueprints = (
        health.bp,
        ingest.bp,
        events.bp,
        leads.bp,
        lead_writes.bp,
        lead_types.bp,
        configs.bp,
        config_health.bp,
        openapi.bp,
        metrics.bp,
        templates.bp,
        webhooks.bp,
        callbacks.bp,
        uploads.bp,
        replays.bp,
        blocked_identifiers.bp,
        quarantine.bp,
        lead_history.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.after_request(add_security_headers)
    return app


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    # Answers carry personal data; no proxy or browser should keep them.
    "Cache-Control": "no-store",
}


def add_security_headers(response: Response) -> Response:
    """Add the headers every answer carries (unless a view set its own)."""
    headers = response.headers
    # One pass over the few headers already set, rather than a search per header added.
    present = set(headers.keys(lower=True))
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            headers.add(name, value)
    return response
