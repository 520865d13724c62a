"""A config's health over HTTP: its stats, and holding and releasing it.

The same services as ``leadgate config stats|hold|release`` (``worker.health``).
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, jsonify, request

from common.redis_client import RedisClient, redis_for
from common.settings import get_settings
from webhook.auth import authenticate
from webhook.broker import enqueue_event
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.views.configs import _own_config
from worker.configs import config_as_dict
from worker.health.holds import hold_config, release_config
from worker.health.presence import forget_recent
from worker.health.stats import DEFAULT_WINDOW, UnknownWindow, config_stats

bp = Blueprint("config_health", __name__, url_prefix="/api/ingestion-configs")
log = logging.getLogger(__name__)


def _redis() -> RedisClient:
    return redis_for(get_settings().locks_redis_url)


@bp.get("/<config_id>/stats/")
def stats(config_id: str) -> Response:
    """What the config's events became over ``window`` (1h, 24h or 7d), and which paths came."""
    session = request_session()
    config = _own_config(session, authenticate(session), config_id)
    window = request.args.get("window") or DEFAULT_WINDOW
    try:
        return jsonify(config_stats(session, _redis(), config, window))
    except UnknownWindow as error:
        raise ApiError(400, f"{error}.", {"window": [str(error)]}) from None


@bp.post("/<config_id>/hold/")
def hold(config_id: str) -> Response:
    """Hold the config: it keeps accepting payloads, whose events wait until it is released."""
    session = request_session()
    config = _own_config(session, authenticate(session), config_id, for_update=True)
    hold_config(config)
    answer = config_as_dict(config)
    session.commit()
    return jsonify(answer)


@bp.post("/<config_id>/release/")
def release(config_id: str) -> Response:
    """Lift the hold and send the held events on, oldest first, with the current mapping."""
    session = request_session()
    config = _own_config(session, authenticate(session), config_id, for_update=True)
    released = release_config(session, config, get_settings().stuck_after_seconds)
    answer = config_as_dict(config) | {"released": len(released)}
    session.commit()
    try:
        # The operator has looked: drift is judged afresh from the next events.
        forget_recent(_redis(), config.id)
    except redis.RedisError as error:
        log.warning("release of config %s: drift window kept (%s)", config.id, error)
    # Published in receive order once committed; what the broker cannot take, the sweeper will.
    unsent = sum(not enqueue_event(event_id) for event_id in released)
    if unsent:
        log.warning("release of config %s: %d events left for the sweeper", config.id, unsent)
    return jsonify(answer)
