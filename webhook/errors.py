"""JSON error answers: every error is ``{"detail": ...}``, never an HTML page or a stack trace."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer with a status code, a detail and optional per-field errors."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def error_response(
    status: int,
    detail: str,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON error response."""
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer every error as JSON; hide internals behind a generic 500."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.detail, error.errors, error.headers)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        return error_response(
            error.code or 500, error.description or error.name, headers=_protocol_headers(error)
        )

    app.before_request(_redirect_as_json)

    @app.errorhandler(OperationalError)
    def _database_down(error: OperationalError) -> Response:
        log.warning("database unreachable: %s", type(error.orig).__name__)
        return error_response(
            503, "The database is unreachable; retry later.", headers={"Retry-After": "5"}
        )

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError) -> Response:
        if error.connection_invalidated:
            return error_response(
                503, "The database is unreachable; retry later.", headers={"Retry-After": "5"}
            )
        log.error("database error\n%s", trace_without_values(error))
        return error_response(500, "Internal error.")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.error("unhandled error\n%s", trace_without_values(error))
        return error_response(500, "Internal error.")


def _protocol_headers(error: HTTPException) -> dict[str, str]:
    """The headers HTTP requires with the error (``Allow`` on a 405, RFC 9110 15.5.6), minus the
    ones that describe werkzeug's HTML body, which the JSON answer replaces."""
    return {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in {"content-type", "content-length"}
    }


def _redirect_as_json() -> Response | None:
    """A path without its trailing slash: 308 to the path with it, answered in JSON.

    Flask hands routing redirects straight to werkzeug, whose answer is an HTML page; error
    handlers never see them. ``before_request`` runs before the routing result is acted on.
    """
    redirect = request.routing_exception
    if not isinstance(redirect, RequestRedirect):
        return None
    return error_response(
        redirect.code,
        f"This resource is at {redirect.new_url}; repeat the request there.",
        headers={"Location": redirect.new_url},
    )


def trace_without_values(error: BaseException) -> str:
    """The error's stack, exception types, SQLSTATE and SQL text, but no exception message.

    Messages quote values: SQLAlchemy lists a statement's parameters (a raw body, an email) and
    PostgreSQL repeats the input it refused ('invalid input syntax ...: "jane@example.com"').
    The stack, the types and the statement are what a person needs to find the fault.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        label = type(current).__module__ + "." + type(current).__qualname__
        sqlstate = getattr(current, "sqlstate", None)
        if sqlstate:
            label += f" [SQLSTATE {sqlstate}]"
        if isinstance(current, StatementError) and current.statement:
            label += f"\n[SQL: {current.statement}]"
        parts.append(f"Traceback (most recent call last):\n{frames}{label}")
        current = current.__cause__ or current.__context__
    # Innermost first, as Python prints a chain.
    return "\n\nThe above exception led to:\n\n".join(reversed(parts))
