"""``leadgate replay``: run failed or dead events again, with the configs' current mappings."""

from __future__ import annotations

import datetime as dt
import sys
import time
import uuid
from collections.abc import Sequence

import click
from sqlalchemy import select

from leadgate.cli.context import database_url
from leadgate.cli.output import CliError, emit, say
from leadgate.cli.replay_outcomes import TERMINAL, EventOutcome, ReplayOutcomes, tally
from leadgate.cli.since import EXAMPLES, since_option
from models import IngestionEvent
from models.db import get_sessionmaker, session_scope
from models.enums import EventStatus
from worker.replay import REPLAYABLE, requeue_events, select_replayable, why_not_replayable

BATCH = 200
PROGRESS_FROM = 50  # a progress bar only where there is something to watch
POLL_SECONDS = 0.5
# Event ids per status query while waiting; keeps each IN list a modest size.
POLL_CHUNK = 1000


def _check_explicit_ids(url: str, event_ids: tuple[uuid.UUID, ...]) -> list[uuid.UUID]:
    with get_sessionmaker(url)() as session:
        for event_id in event_ids:
            event = session.get(IngestionEvent, event_id)
            if event is None:
                raise CliError(f"no event {event_id}")
            if event.status not in REPLAYABLE:
                raise CliError(f"event {event_id}: {why_not_replayable(event.status)}")
    return list(event_ids)


def _requeue_and_publish(url: str, candidates: list[uuid.UUID]) -> tuple[list[uuid.UUID], int]:
    """Requeue and publish as ``POST .../replay/`` does; returns the replayed ids and the unsent."""
    from webhook.broker import enqueue_event  # Celery loads only for the commands that publish

    replayed: list[uuid.UUID] = []
    unsent = 0
    batches = [candidates[start : start + BATCH] for start in range(0, len(candidates), BATCH)]
    with click.progressbar(
        batches,
        label=f"replaying {len(candidates)} events",
        hidden=len(candidates) < PROGRESS_FROM,
        file=sys.stderr,
    ) as progress:
        for batch in progress:
            with session_scope(url) as session:
                requeued = requeue_events(session, batch)
            # Published only after the commit, so a worker never finds the event still failed.
            for event_id in requeued:
                if not enqueue_event(event_id):
                    unsent += 1
                emit(event_id)
            replayed.extend(requeued)
    return replayed, unsent


def current_outcomes(url: str, event_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, EventOutcome]:
    """Where each of ``event_ids`` stands now."""
    found: dict[uuid.UUID, EventOutcome] = {}
    with get_sessionmaker(url)() as session:
        for start in range(0, len(event_ids), POLL_CHUNK):
            chunk = event_ids[start : start + POLL_CHUNK]
            rows = session.execute(
                select(
                    IngestionEvent.id,
                    IngestionEvent.status,
                    IngestionEvent.action,
                    IngestionEvent.errors,
                    IngestionEvent.last_error,
                ).where(IngestionEvent.id.in_(chunk))
            )
            for event_id, status, action, errors, last_error in rows:
                found[event_id] = EventOutcome(status, action, errors, last_error)
    return found


def wait_for_outcomes(url: str, event_ids: list[uuid.UUID], timeout: float) -> ReplayOutcomes:
    """Poll the events until each is done, failed or dead, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    settled: dict[uuid.UUID, EventOutcome] = {}
    pending = list(event_ids)
    while True:
        now = current_outcomes(url, pending)
        settled.update(
            (event_id, outcome) for event_id, outcome in now.items() if outcome.status in TERMINAL
        )
        pending = [event_id for event_id in pending if event_id not in settled]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
    return tally([*settled.values(), *(now[event_id] for event_id in pending if event_id in now)])


def _report(outcomes: ReplayOutcomes, replayed: int, timeout: float) -> None:
    """Say what became of the replayed events; fail the command when any did not end done."""
    say(f"outcomes of {replayed} replayed events:")
    for line in outcomes.lines():
        say(line)
    problems = []
    if outcomes.failed_again:
        problems.append(f"{outcomes.failed_again} of {replayed} replayed events failed again")
    if outcomes.pending:
        problems.append(
            f"{outcomes.pending} still pending after {timeout:g} s "
            "(see them with leadgate events list)"
        )
    if problems:
        raise CliError("; ".join(problems))


@click.command("replay")
@click.argument("event_ids", nargs=-1, type=click.UUID)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([status.value for status in REPLAYABLE]),
    help="Replay the events with this status (repeatable).",
)
@click.option("--config", "config_id", type=click.UUID, help="Only events of this config.")
@click.option(
    "--since",
    metavar="TIME",
    callback=since_option,
    help=f"Only events received since then: {EXAMPLES}.",
)
@click.option(
    "--all",
    "replay_all",
    is_flag=True,
    help="Replay every failed and dead event of every config (instead of ids or filters).",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait for the outcomes and report them, or return once the events are queued.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    default=60.0,
    show_default=True,
    help="Seconds to wait for the outcomes.",
)
def replay_command(
    event_ids: tuple[uuid.UUID, ...],
    statuses: tuple[str, ...],
    config_id: uuid.UUID | None,
    since: dt.datetime | None,
    replay_all: bool,
    wait: bool,
    timeout: float,
) -> None:
    """Queue failed or dead events again and report what became of them.

    Name the events, or select them with --status, --config and --since; --all replays every
    failed and dead event of every config. With none of these the command refuses. Each replayed
    event id is printed on stdout. The command then waits (up to --timeout seconds) and prints
    the outcomes by action and by error; it exits 1 if any replayed event failed again or is
    still pending. A done event is never replayed (it would apply twice); replaying one event
    from two places queues it once.
    """
    filters = bool(statuses or config_id or since)
    if event_ids and (filters or replay_all):
        raise click.UsageError("give event ids or filters, not both")
    if replay_all and filters:
        raise click.UsageError("--all selects every failed and dead event; give it no filters")
    if not (event_ids or filters or replay_all):
        raise click.UsageError(
            "name event ids, or select events with --status, --config or --since; "
            "--all replays every failed and dead event of every config"
        )
    with database_url() as url:
        if event_ids:
            candidates = _check_explicit_ids(url, event_ids)
        else:
            chosen = [EventStatus(status) for status in statuses] or list(REPLAYABLE)
            with get_sessionmaker(url)() as session:
                candidates = select_replayable(session, chosen, config_id, since)
        if not candidates:
            say("nothing to replay")
            return
        replayed, unsent = _requeue_and_publish(url, candidates)
        say(f"replayed {len(replayed)} of {len(candidates)} events")
        if unsent:
            say(f"{unsent} could not reach the broker; the sweeper sends them once it is reachable")
        if not wait or not replayed:
            return
        outcomes = wait_for_outcomes(url, replayed, timeout)
    _report(outcomes, len(replayed), timeout)
