"""The mapping editor: a dry run against a payload, the impact report, and saving.

Every step calls the services the HTTP API calls (the dry run, the impact report, the config
service's save), so the console refuses and reports exactly what the API would.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from console.access import caller, db, own_config, own_event
from console.blueprint import bp
from console.views.events import stored_payload
from models import IngestionConfig, IngestionEvent
from worker.configs import (
    Author,
    ConfigError,
    ConfigOptions,
    MappingRefused,
    update_config,
    validate_mapping,
)
from worker.dry_run import dry_run_payload
from worker.ingest.mapping import MappingConfigError
from worker.mapping_impact import impact_of_save, mapping_impact, needs_confirmation

RECENT_EVENTS = 20


class EditorInputError(ValueError):
    """A field of the editor's form that cannot be read; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _read_object(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise EditorInputError(field, f"not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise EditorInputError(field, "must be a JSON object")
    return value


def _recent_events(config: IngestionConfig) -> list[IngestionEvent]:
    return list(
        db().scalars(
            select(IngestionEvent)
            .where(IngestionEvent.config_id == config.id)
            .order_by(IngestionEvent.seq.desc())
            .limit(RECENT_EVENTS)
        )
    )


def _page(config: IngestionConfig, *, status: int = 200, **values: Any) -> tuple[str, int]:
    values.setdefault("mapping_text", json.dumps(config.mapping, indent=2, ensure_ascii=False))
    values.setdefault("payload_text", "")
    page = render_template(
        "console/editor.html", config=config, recent=_recent_events(config), **values
    )
    return page, status


def _dry_run(
    config: IngestionConfig, mapping: dict[str, Any], payload: dict[str, Any]
) -> dict[str, Any]:
    """The dry run's answer, or the mapping's problems as the save would list them."""
    try:
        return {"result": dry_run_payload(db(), config, payload, mapping=mapping)}
    except MappingConfigError as error:
        return {"problems": list(error.problems)}
    finally:
        db().rollback()


@bp.get("/configs/<config_id>/mapping")
def editor(config_id: str) -> tuple[str, int]:
    """The editor, with the current mapping and, when asked, a recent event's payload."""
    config = own_config(config_id)
    payload_text = ""
    chosen = request.args.get("event")
    if chosen:
        payload, reason = stored_payload(own_event(chosen))
        if payload is None:
            return _page(
                config, status=400, input_error={"payload": f"that event's body: {reason}"}
            )
        payload_text = json.dumps(payload, indent=2, ensure_ascii=False)
    return _page(config, payload_text=payload_text, chosen=chosen)


@bp.post("/configs/<config_id>/mapping")
def editor_action(config_id: str) -> tuple[str, int] | BaseResponse:
    """Dry run, impact report or save, as the button pressed says."""
    action = request.form.get("action", "dry-run")
    mapping_text = request.form.get("mapping", "")
    payload_text = request.form.get("payload", "")
    form: dict[str, Any] = {"mapping_text": mapping_text, "payload_text": payload_text}
    config = own_config(config_id, for_update=action == "save")
    try:
        mapping = _read_object(mapping_text, "mapping")
        if action == "dry-run":
            payload = _read_object(payload_text, "payload")
            return _page(config, dry_run=_dry_run(config, mapping, payload), **form)
        if action == "impact":
            validate_mapping(mapping)
            report = mapping_impact(db(), config, mapping)
            db().rollback()
            return _page(config, report=report, **form)
        if action == "save":
            return _save(config, mapping, form)
    except EditorInputError as error:
        return _page(config, status=400, input_error={error.field: str(error)}, **form)
    except MappingRefused as error:
        db().rollback()
        return _page(config, status=400, problems=error.problems, **form)
    except ConfigError as error:
        db().rollback()
        return _page(config, status=400, input_error={error.field or "mapping": str(error)}, **form)
    return _page(config, status=400, input_error={"action": f"unknown action {action!r}"}, **form)


def _save(
    config: IngestionConfig, mapping: dict[str, Any], form: dict[str, Any]
) -> tuple[str, int] | BaseResponse:
    """Save as the API's PATCH does: a report that shows new failures needs a confirmation."""
    session = db()
    report = impact_of_save(session, config, mapping)
    if needs_confirmation(report) and request.form.get("confirm") != "yes":
        session.rollback()
        return _page(config, status=409, report=report, needs_confirm=True, **form)
    message = request.form.get("message") or None
    token_id = caller().token_id
    assert token_id is not None
    changed = update_config(
        config, ConfigOptions(mapping=mapping, message=message), Author.token(token_id)
    )
    session.commit()
    if "mapping" not in changed:
        flash("The mapping is the one the config has; nothing was saved.")
    else:
        summary = f" Impact: {report['summary']}." if report is not None else ""
        flash(f"Saved as mapping version {config.mapping_version}.{summary}")
    return redirect(url_for("console.config", config_id=config.id))


@bp.post("/configs/<config_id>/mapping/dry-run")
def live_dry_run(config_id: str) -> Response:
    """The editor script's live dry run: JSON in (mapping, payload), JSON out; saves nothing."""
    config = own_config(config_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _json_error("body", "must be a JSON object with mapping and payload")
    try:
        mapping = _read_object(str(body.get("mapping", "")), "mapping")
        payload = _read_object(str(body.get("payload", "")), "payload")
    except EditorInputError as error:
        return _json_error(error.field, str(error))
    return jsonify(_dry_run(config, mapping, payload))


def _json_error(field: str, message: str) -> Response:
    response = jsonify({"errors": {field: [message]}})
    response.status_code = 400
    return response
