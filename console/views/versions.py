"""Mapping versions: the list, one version beside the current mapping, and restoring one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from console.access import caller, db, own_config
from console.blueprint import bp
from console.diff import side_by_side
from worker.configs import Author, ConfigError, check_message
from worker.mapping_versions import get_version, restore_version, versions_of


@bp.get("/configs/<config_id>/versions/")
def versions(config_id: str) -> str:
    """The config's mapping versions, newest first."""
    config = own_config(config_id)
    rows = list(db().scalars(versions_of(config)))
    return render_template("console/versions.html", config=config, versions=rows)


@bp.get("/configs/<config_id>/versions/<int:number>/")
def version(config_id: str, number: int) -> str:
    """One version side by side with the mapping the config has now."""
    config = own_config(config_id)
    try:
        found = get_version(db(), config, number)
    except ConfigError:
        abort(404)
    rows = side_by_side(found.mapping, config.mapping)
    return render_template("console/version.html", config=config, version=found, rows=rows)


@bp.post("/configs/<config_id>/versions/<int:number>/restore")
def restore(config_id: str, number: int) -> Response:
    """Save that version's mapping again, as the config's next version."""
    session = db()
    config = own_config(config_id, for_update=True)
    token_id = caller().token_id
    assert token_id is not None
    try:
        get_version(session, config, number)
    except ConfigError:
        abort(404)
    try:
        message = check_message(request.form.get("message"))
        saved = restore_version(session, config, number, Author.token(token_id), message)
    except ConfigError as error:
        session.rollback()
        flash(f"Not restored: {error}.")
        return redirect(url_for("console.version", config_id=config_id, number=number))
    session.commit()
    flash(f"Version {number} restored as version {saved.number}.")
    return redirect(url_for("console.versions", config_id=config_id))
