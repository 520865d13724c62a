"""``leadgate config stats|hold|release``: a config's health, and holding its events."""

from __future__ import annotations

import uuid

import click
import redis

from common.redis_client import RedisClient, redis_for
from common.settings import SettingsError, get_settings
from leadgate.cli import records
from leadgate.cli.configs import config_group
from leadgate.cli.context import admin_session
from leadgate.cli.output import emit, emit_json, say
from worker.configs import get_config
from worker.health.holds import hold_config, release_config
from worker.health.presence import forget_recent
from worker.health.stats import DEFAULT_WINDOW, WINDOWS, config_stats


def _redis() -> RedisClient | None:
    try:
        return redis_for(get_settings().locks_redis_url)
    except SettingsError:
        return None  # no Redis known: stats without the path shares


@config_group.command("stats")
@click.argument("config_id", type=click.UUID)
@click.option("--window", type=click.Choice(list(WINDOWS)), default=DEFAULT_WINDOW,
              show_default=True, help="How far back to look.")  # fmt: skip
def config_stats_command(config_id: uuid.UUID, window: str) -> None:
    """Print what the config's events became over the window, and which paths came (JSON)."""
    with admin_session(read_only=True) as session:
        stats = config_stats(session, _redis(), records.get_config(session, config_id), window)
    emit_json(stats)


@config_group.command("hold")
@click.argument("config_id", type=click.UUID)
def config_hold(config_id: uuid.UUID) -> None:
    """Hold a config: payloads are still accepted, their events wait until it is released."""
    with admin_session() as session:
        changed = hold_config(get_config(session, config_id, for_update=True))
    say(f"config {config_id} " + ("is held now" if changed else "was held already"))


@config_group.command("release")
@click.argument("config_id", type=click.UUID)
def config_release(config_id: uuid.UUID) -> None:
    """Release a config: its held events are processed in receive order; prints how many."""
    settings = get_settings()
    with admin_session() as session:
        config = get_config(session, config_id, for_update=True)
        released = release_config(session, config, settings.stuck_after_seconds)
    client = _redis()
    if client is not None:
        try:
            forget_recent(client, config_id)
        except redis.RedisError as error:
            say(f"drift window kept: {error}")
    from webhook.broker import enqueue_event  # Celery loads only for the commands that publish

    unsent = sum(not enqueue_event(event_id) for event_id in released)
    say(f"released config {config_id}: {len(released)} held events sent on")
    if unsent:
        say(f"{unsent} could not be published now; the sweeper will send them")
    emit(len(released))
