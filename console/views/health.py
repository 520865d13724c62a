"""A config's health in the console: its stats over a window, and holding and releasing it.

The same services as the API's /hold/, /release/ and /stats/ (``worker.health``).
"""

from __future__ import annotations

import logging

import redis
from flask import flash, redirect, url_for
from werkzeug.wrappers import Response

from common.redis_client import RedisClient, redis_for
from common.settings import get_settings
from console.access import caller, db, own_config
from console.blueprint import bp
from webhook.broker import REPLAY_UNSENT, enqueue_replay_job
from worker.configs import Author
from worker.health.holds import hold_config
from worker.health.presence import forget_recent
from worker.release_jobs import start_release, stop_release
from worker.replay_jobs import fail_replay_job

log = logging.getLogger(__name__)


def stats_redis() -> RedisClient:
    """The Redis the path-presence counters live in (the locks' Redis)."""
    return redis_for(get_settings().locks_redis_url)


@bp.post("/configs/<config_id>/hold")
def hold(config_id: str) -> Response:
    """Hold the config: payloads are still accepted, their events wait until it is released."""
    session = db()
    config = own_config(config_id, for_update=True)
    changed = hold_config(config)
    # Held again while a release runs: the operator wants it stopped, not the hold lifted.
    stop_release(session, config.id)
    session.commit()
    flash("Config held: its new events wait until it is released." if changed else "Already held.")
    return redirect(url_for("console.config", config_id=config_id), code=303)


@bp.post("/configs/<config_id>/release")
def release(config_id: str) -> Response:
    """Start the job that runs the held events in receive order; its page follows it."""
    session = db()
    config = own_config(config_id, for_update=True)
    token_id = caller().token_id
    assert token_id is not None  # a console session is always signed in with a token
    job, started = start_release(
        session, config, Author.token(token_id), get_settings().stuck_after_seconds
    )
    session.commit()
    try:
        # The operator has looked: drift is judged afresh from the next events.
        forget_recent(stats_redis(), config.id)
    except redis.RedisError as error:
        log.warning("release of config %s: drift window kept (%s)", config.id, error)
    # Sent only after the commit, so the worker finds the job; a release under way runs already.
    if started and not enqueue_replay_job(job.id):
        fail_replay_job(session, job.id, REPLAY_UNSENT)
        session.commit()
        flash("The broker is unreachable: the release did not start. Try again shortly.")
        return redirect(url_for("console.config", config_id=config_id), code=303)
    flash("Release started: the held events run in receive order." if started else
          "A release of this config is already running.")  # fmt: skip
    return redirect(url_for("console.replay_job", job_id=job.id), code=303)
