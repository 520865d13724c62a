"""Tokens: the organization's API tokens; create one (shown once) and revoke one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from console.access import db, organization_id
from console.blueprint import bp
from worker.api_tokens import issue_token, own_token, revoke_token, tokens_of
from worker.configs import ConfigError


def _page(*, status: int = 200, **values: object) -> tuple[str, int]:
    rows = list(db().scalars(tokens_of(organization_id())))
    return render_template("console/tokens.html", tokens=rows, **values), status


@bp.get("/tokens/")
def tokens() -> tuple[str, int]:
    """The organization's tokens, newest first, by visible prefix only."""
    return _page()


@bp.post("/tokens/")
def create_token() -> tuple[str, int]:
    """A new token, shown in full on this answer only (it is stored as a hash)."""
    name = request.form.get("name", "").strip() or None
    try:
        token, plain = issue_token(db(), organization_id(), name)
    except ConfigError as error:
        db().rollback()
        return _page(status=400, name_error=str(error))
    db().commit()
    return _page(status=201, created=token, plain=plain)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id: int) -> Response:
    """Revoke a token; a console session signed in with it ends at its next request."""
    token = own_token(db(), organization_id(), token_id)
    if token is None:
        abort(404)
    if revoke_token(token):
        db().commit()
        flash(f"Token {token.prefix}… revoked.")
    else:
        flash(f"Token {token.prefix}… was already revoked.")
    return redirect(url_for("console.tokens"))
