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
from console.access import db, own_config
from console.blueprint import bp
from webhook.broker import enqueue_event
from worker.health.holds import hold_config, release_config
from worker.health.presence import forget_recent

log = logging.getLogger(__name__)


def stats_redis() -> RedisClient:
    """The Redis the path-presence counters live in (the locks' Redis)."""
    return redis_for(get_settings().locks_redis_url)


@bp.post("/configs/<config_id>/hold")
def hold(config_id: str) -> Response:
    """Hold the config: payloads are still accepted, their events wait until it is released."""
    config = own_config(config_id, for_update=True)
    changed = hold_config(config)
    db().commit()
    flash("Config held: its new events wait until it is released." if changed else "Already held.")
    return redirect(url_for("console.config", config_id=config_id), code=303)


@bp.post("/configs/<config_id>/release")
def release(config_id: str) -> Response:
    """Lift the hold and send the held events on, oldest first, with the current mapping."""
    session = db()
    config = own_config(config_id, for_update=True)
    released = release_config(session, config, get_settings().stuck_after_seconds)
    session.commit()
    try:
        # The operator has looked: drift is judged afresh from the next events.
        forget_recent(stats_redis(), config.id)
    except redis.RedisError as error:
        log.warning("release of config %s: drift window kept (%s)", config.id, error)
    # Published in receive order once committed; what the broker cannot take, the sweeper will.
    unsent = sum(not enqueue_event(event_id) for event_id in released)
    if unsent:
        log.warning("release of config %s: %d events left for the sweeper", config.id, unsent)
    count = len(released)
    flash(f"Config released: {count} held event{'' if count == 1 else 's'} sent on.")
    return redirect(url_for("console.config", config_id=config_id), code=303)
