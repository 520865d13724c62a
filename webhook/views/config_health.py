"""A config's health over HTTP: its stats, and holding and releasing it.

The same services as ``leadgate config stats|hold|release`` (``worker.health``).
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, jsonify, request, url_for

from common.redis_client import RedisClient, redis_for
from common.settings import get_settings
from webhook.auth import authenticate
from webhook.broker import REPLAY_UNSENT, enqueue_replay_job
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.test_mode import include_test
from webhook.views.configs import _own_config
from worker.configs import Author, config_as_dict
from worker.health.holds import hold_config
from worker.health.presence import forget_recent
from worker.health.stats import DEFAULT_WINDOW, UnknownWindow, config_stats
from worker.release_jobs import start_release, stop_release
from worker.replay_jobs import fail_replay_job, replay_job_as_dict

bp = Blueprint("config_health", __name__, url_prefix="/api/ingestion-configs")
log = logging.getLogger(__name__)


def _redis() -> RedisClient:
    return redis_for(get_settings().locks_redis_url)


@bp.get("/<config_id>/stats/")
def stats(config_id: str) -> Response:
    """What the config's events became over ``window`` (1h, 24h or 7d), and which paths came.

    Test events are left out unless ``?include_test=true``.
    """
    session = request_session()
    config = _own_config(session, authenticate(session), config_id)
    window = request.args.get("window") or DEFAULT_WINDOW
    with_test = include_test()
    try:
        # The caller owns the config: its quarantined values show as its own lists show them.
        stats = config_stats(
            session, _redis(), config, window, reveal_values=True, include_test=with_test
        )
        return jsonify(stats)
    except UnknownWindow as error:
        raise ApiError(400, f"{error}.", {"window": [str(error)]}) from None


@bp.post("/<config_id>/hold/")
def hold(config_id: str) -> Response:
    """Hold the config: it keeps accepting payloads, whose events wait until it is released."""
    session = request_session()
    config = _own_config(session, authenticate(session), config_id, for_update=True)
    hold_config(config)
    # Held again while a release runs: the operator wants it stopped, not the hold lifted.
    stop_release(session, config.id)
    answer = config_as_dict(config)
    session.commit()
    return jsonify(answer)


@bp.post("/<config_id>/release/")
def release(config_id: str) -> Response:
    """Start the job that runs the held events in receive order with the current mapping."""
    session = request_session()
    caller = authenticate(session)
    config = _own_config(session, caller, config_id, for_update=True)
    assert caller.token_id is not None  # authenticate() always names the token
    job, started = start_release(
        session, config, Author.token(caller.token_id), get_settings().stuck_after_seconds
    )
    session.commit()
    try:
        # The operator has looked: drift is judged afresh from the next events.
        forget_recent(_redis(), config.id)
    except redis.RedisError as error:
        log.warning("release of config %s: drift window kept (%s)", config.id, error)
    # Sent only after the commit, so the worker finds the job; a release under way runs already.
    if started and not enqueue_replay_job(job.id):
        fail_replay_job(session, job.id, REPLAY_UNSENT)
        session.commit()
        raise ApiError(503, "The broker is unreachable; retry later.", headers={"Retry-After": "5"})
    response = jsonify(replay_job_as_dict(job))
    response.status_code = 202
    response.headers["Location"] = url_for("replays.get_replay", job_id=str(job.id))
    return response
