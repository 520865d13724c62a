"""The console's blueprint: sign-in required, CSRF on every change, its own security headers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from common.settings import Settings
from console.sessions import RedisSessionInterface, shared_secret_key
from webhook.errors import ApiError

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
csrf = CSRFProtect()

# Scripts and styles come from our own static files only: no inline script or style runs.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Room for a multipart form's own parts (boundaries, headers, the CSRF token) beside its file.
FORM_OVERHEAD_BYTES = 64 * 1024


def register_console(app: Flask, settings: Settings) -> None:
    """Serve the console on ``app`` at /console/, with sessions in the settings' Redis."""
    from console import views  # noqa: F401 - the views attach their routes to ``bp``

    defaults: dict[str, Any] = {
        "CONSOLE_REDIS_URL": settings.locks_redis_url,
        "CONSOLE_SESSION_SECONDS": settings.console_session_seconds,
        "CONSOLE_SIGNIN_ATTEMPTS": settings.console_signin_attempts,
        # CSRF is checked on the console's requests only (below); the API authenticates by
        # token header, which a browser never sends on its own.
        "WTF_CSRF_CHECK_DEFAULT": False,
        # The token lives as long as the server-side session that holds it.
        "WTF_CSRF_TIME_LIMIT": None,
    }
    for name, value in defaults.items():
        app.config.setdefault(name, value)
    app.config.setdefault("CONSOLE_SECRET_KEY", settings.console_secret_key)
    app.session_interface = RedisSessionInterface()
    csrf.init_app(app)
    app.register_blueprint(bp)


@bp.before_request
def check_csrf() -> None:
    """Refuse a state-changing request without the session's CSRF token (form or header)."""
    if not current_app.config.get("SECRET_KEY"):
        # Read on the first console request, not at start: the API must boot without Redis.
        configured = current_app.config["CONSOLE_SECRET_KEY"]
        current_app.config["SECRET_KEY"] = shared_secret_key(current_app, configured)
    if request.method in STATE_CHANGING:
        # The largest console form is an upload's: anything bigger is refused (413) before its
        # body is read, since checking the CSRF token parses the form.
        limit: int = current_app.config["UPLOAD_MAX_BYTES"]
        request.max_content_length = limit + FORM_OVERHEAD_BYTES
        csrf.protect()


@bp.after_request
def add_console_headers(response: Response) -> Response:
    """The console's Content-Security-Policy (the API's forbids everything a page needs)."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # Over HTTPS the CSRF check wants the Referer of a same-origin form; the API's no-referrer
    # would refuse every post. Other origins still get nothing.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.errorhandler(CSRFError)
def refused_without_csrf(error: CSRFError) -> tuple[str, int]:
    """A form posted without its token (or with a stale one): nothing was changed."""
    return render_template(
        "console/error.html", title="Form refused", reason=error.description
    ), 400


@bp.errorhandler(ApiError)
def refused_by_api_rule(error: ApiError) -> tuple[str, int]:
    """A refusal of a rule shared with the API (a bad filter, an unknown id) as a page."""
    return render_template("console/error.html", title="Refused", reason=error.detail), error.status


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int]:
    """Any other HTTP error as a page, never a stack trace."""
    code = error.code or 500
    return render_template("console/error.html", title=error.name, reason=error.description), code
