"""Ingestion configs of the caller's organization, and their mapping versions.

Every change goes through the config service (``worker.configs``), as the CLI's do, so both
refuse the same things with the same words.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionConfig
from webhook.auth import Caller, authenticate
from webhook.config_body import read_config_body
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.query_args import int_arg, text_arg
from worker.configs import (
    Author,
    ConfigError,
    ConfigOptions,
    MappingRefused,
    check_message,
    config_as_dict,
    create_config,
    get_config,
    update_config,
    validate_mapping,
)
from worker.mapping_impact import (
    DEFAULT_SAMPLE,
    MAX_SAMPLE,
    impact_of_save,
    mapping_impact,
    needs_confirmation,
)
from worker.mapping_versions import get_version, restore_version, version_as_dict, versions_of

bp = Blueprint("configs", __name__, url_prefix="/api/ingestion-configs")


def issued_secret(options: ConfigOptions) -> dict[str, str]:
    """The callback key a save issued, for its answer only: it is never shown again."""
    secret = options.callback.issued_secret
    return {"callback_secret": secret} if secret is not None else {}


def _refused(error: ConfigError) -> ApiError:
    """A service refusal as a 400 naming the field (every bad rule, for a mapping)."""
    if isinstance(error, MappingRefused):
        return ApiError(400, "The mapping was refused.", {"mapping": error.problems})
    return ApiError(400, f"{error}.", {error.field or "body": [str(error)]})


def _own_config(
    session: Session, caller: Caller, config_id: str, for_update: bool = False
) -> IngestionConfig:
    try:
        parsed = uuid.UUID(config_id)
    except ValueError:
        raise ApiError(404, "No such ingestion config.") from None
    try:
        # Another organization's config is reported as missing, so ids reveal nothing.
        return get_config(session, parsed, caller.organization_id, for_update=for_update)
    except ConfigError:
        raise ApiError(404, "No such ingestion config.") from None


def _author(caller: Caller) -> Author:
    assert caller.token_id is not None  # authenticate() always names the token
    return Author.token(caller.token_id)


@bp.get("/")
def list_configs() -> Response:
    """Configs of the caller's organization, oldest first."""
    session = request_session()
    caller = authenticate(session)
    statement = (
        select(IngestionConfig)
        .where(IngestionConfig.organization_id == caller.organization_id)
        .order_by(IngestionConfig.created_time, IngestionConfig.id)
    )
    return jsonify(paginate(session, statement, config_as_dict))


@bp.post("/")
def create() -> Response:
    """A new config for one of the organization's campaigns; its mapping is version 1."""
    session = request_session()
    caller = authenticate(session)
    body, options = read_config_body(creating=True)
    try:
        config = create_config(
            session, body["campaign"], options, _author(caller), caller.organization_id
        )
    except ConfigError as error:
        raise _refused(error) from None
    answer = config_as_dict(config) | issued_secret(options)
    session.commit()
    response = jsonify(answer)
    response.status_code = 201
    response.headers["Location"] = url_for("configs.get_one", config_id=answer["id"])
    return response


@bp.get("/<config_id>/")
def get_one(config_id: str) -> Response:
    """One config of the caller's organization."""
    session = request_session()
    caller = authenticate(session)
    return jsonify(config_as_dict(_own_config(session, caller, config_id)))


@bp.patch("/<config_id>/")
def change(config_id: str) -> Response:
    """Change the keys the body names; a new mapping is saved as the next mapping version.

    A new mapping is first run against the config's recent events: the answer carries that
    impact report, and one that shows new failures is refused (409, nothing saved) unless
    ``confirm=true``.
    """
    session = request_session()
    caller = authenticate(session)
    # Another organization's config is a 404 whatever the body holds.
    config = _own_config(session, caller, config_id, for_update=True)
    _, options = read_config_body(creating=False)
    confirm, sample = _flag_arg("confirm"), _sample()
    try:
        report = None
        if options.mapping is not None:
            report = impact_of_save(session, config, options.mapping, sample)
        if needs_confirmation(report) and not confirm:
            session.rollback()
            return _refused_for_failures(report)
        update_config(config, options, _author(caller))
    except ConfigError as error:
        session.rollback()
        raise _refused(error) from None
    answer = config_as_dict(config) | issued_secret(options)
    answer |= {"impact": report} if report is not None else {}
    session.commit()
    return jsonify(answer)


@bp.post("/<config_id>/mapping-impact/")
def impact(config_id: str) -> Response:
    """What saving the body's ``mapping`` would do to the config's recent events; saves nothing."""
    session = request_session()
    caller = authenticate(session)
    config = _own_config(session, caller, config_id)
    body, options = read_config_body(creating=False)
    if options.mapping is None:
        raise ApiError(400, "mapping: required.", {"mapping": ["required"]})
    extra = sorted(body.keys() - {"mapping"})
    if extra:
        raise ApiError(400, "Only mapping is read here.", {key: ["not read here"] for key in extra})
    sample = _sample()
    try:
        validate_mapping(options.mapping)
        report = mapping_impact(session, config, options.mapping, sample)
    except ConfigError as error:
        raise _refused(error) from None
    finally:
        session.rollback()
    return jsonify(report)


def _refused_for_failures(report: dict[str, Any] | None) -> Response:
    response = jsonify(
        {
            "detail": "The new mapping would fail events that succeeded; nothing was saved. "
            "Send confirm=true to save it anyway.",
            "impact": report,
        }
    )
    response.status_code = 409
    return response


def _flag_arg(name: str) -> bool:
    raw = (text_arg(name) or "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise ApiError(400, f"{name} must be true or false.", {name: ["expected true or false"]})
    return raw in ("true", "1")


def _sample() -> int:
    return int_arg("sample", maximum=MAX_SAMPLE) or DEFAULT_SAMPLE


@bp.get("/<config_id>/versions/")
def list_versions(config_id: str) -> Response:
    """The config's mapping versions, newest first."""
    session = request_session()
    config = _own_config(session, authenticate(session), config_id)
    return jsonify(paginate(session, versions_of(config), version_as_dict))


@bp.get("/<config_id>/versions/<int:version>/")
def get_one_version(config_id: str, version: int) -> Response:
    """One mapping version of the config."""
    session = request_session()
    config = _own_config(session, authenticate(session), config_id)
    try:
        return jsonify(version_as_dict(get_version(session, config, version)))
    except ConfigError:
        raise ApiError(404, "No such mapping version.") from None


@bp.post("/<config_id>/versions/<int:version>/restore/")
def restore(config_id: str, version: int) -> Response:
    """Save an earlier version's mapping again, as the config's next version."""
    session = request_session()
    caller = authenticate(session)
    config = _own_config(session, caller, config_id, for_update=True)
    try:
        get_version(session, config, version)
    except ConfigError:
        raise ApiError(404, "No such mapping version.") from None
    # The message rides in an optional JSON body, not the query string: a URL has a length limit
    # the server enforces before any view runs.
    body = request.get_json(silent=True)
    given = body.get("message") if isinstance(body, dict) else None
    if given is not None and not isinstance(given, str):
        raise ApiError(400, "The message must be a string.", {"message": ["must be a string"]})
    try:
        message = check_message(given)
    except ConfigError as error:
        raise _refused(error) from None
    try:
        saved = restore_version(session, config, version, _author(caller), message)
    except ConfigError as error:
        session.rollback()
        raise ApiError(409, f"{error}.") from None
    answer = version_as_dict(saved)
    session.commit()
    response = jsonify(answer)
    response.status_code = 201
    return response
