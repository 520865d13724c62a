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
from leadgate.cli.output import CliError, emit, emit_json, say
from worker.configs import Author, get_config
from worker.health.holds import hold_config
from worker.health.presence import forget_recent
from worker.health.stats import DEFAULT_WINDOW, WINDOWS, config_stats
from worker.release_jobs import start_release, stop_release
from worker.replay_jobs import fail_replay_job


def _redis() -> RedisClient | None:
    try:
        return redis_for(get_settings().locks_redis_url)
    except SettingsError:
        return None  # no Redis known: stats without the path shares


@config_group.command("stats")
@click.argument("config_id", type=click.UUID)
@click.option("--window", type=click.Choice(list(WINDOWS)), default=DEFAULT_WINDOW,
              show_default=True, help="How far back to look.")  # fmt: skip
@click.option("--include-test", is_flag=True, help="Count test-mode events too.")
def config_stats_command(config_id: uuid.UUID, window: str, include_test: bool) -> None:
    """Print what the config's events became over the window, and which paths came (JSON)."""
    with admin_session(read_only=True) as session:
        config = records.get_config(session, config_id)
        stats = config_stats(session, _redis(), config, window, include_test=include_test)
    emit_json(stats)


@config_group.command("hold")
@click.argument("config_id", type=click.UUID)
def config_hold(config_id: uuid.UUID) -> None:
    """Hold a config: payloads are still accepted, their events wait until it is released."""
    with admin_session() as session:
        changed = hold_config(get_config(session, config_id, for_update=True))
        # Held again while a release runs: the operator wants it stopped, not the hold lifted.
        stopped = stop_release(session, config_id)
        stopped_id = stopped.id if stopped is not None else None
    say(f"config {config_id} " + ("is held now" if changed else "was held already"))
    if stopped_id is not None:
        say(f"release job {stopped_id} cancelled; the events it had not run stay held")


@config_group.command("release")
@click.argument("config_id", type=click.UUID)
def config_release(config_id: uuid.UUID) -> None:
    """Release a config: a job runs its held events in receive order; prints the job's id."""
    from webhook.broker import REPLAY_UNSENT, enqueue_replay_job  # Celery loads only here

    with admin_session() as session:
        config = get_config(session, config_id, for_update=True)
        job, started = start_release(
            session, config, Author.cli_user(), get_settings().stuck_after_seconds
        )
        job_id, total = job.id, job.total
    client = _redis()
    if client is not None:
        try:
            forget_recent(client, config_id)
        except redis.RedisError as error:
            say(f"drift window kept: {error}")
    # Sent only after the commit, so the worker finds the job it is asked to run.
    if started and not enqueue_replay_job(job_id):
        with admin_session() as session:
            fail_replay_job(session, job_id, REPLAY_UNSENT)
        raise CliError("the broker is unreachable; the release was not started (try again)")
    emit(job_id)
    if started:
        say(f"releasing config {config_id}: job {job_id} runs {total} held events in order")
    else:
        say(f"config {config_id} is being released already by job {job_id}")
    say(f"the hold lifts when none is left; follow it with: leadgate replay show {job_id}")
