"""``leadgate replay``: run failed or dead events again, with the configs' current mappings."""

from __future__ import annotations

import datetime as dt
import sys
import uuid

import click

from leadgate.cli.context import admin_session
from leadgate.cli.output import CliError, emit, say
from models import IngestionEvent
from models.enums import EventStatus
from worker.replay import REPLAYABLE, requeue_events, select_replayable, why_not_replayable

BATCH = 200
PROGRESS_FROM = 50  # a progress bar only where there is something to watch


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time", param_hint="--since"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _explicit_ids(event_ids: tuple[uuid.UUID, ...]) -> list[uuid.UUID]:
    with admin_session(read_only=True) as session:
        for event_id in event_ids:
            event = session.get(IngestionEvent, event_id)
            if event is None:
                raise CliError(f"no event {event_id}")
            if event.status not in REPLAYABLE:
                raise CliError(f"event {event_id}: {why_not_replayable(event.status)}")
    return list(event_ids)


@click.command("replay")
@click.argument("event_ids", nargs=-1, type=click.UUID)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([status.value for status in REPLAYABLE]),
    help="Replay every event with this status (repeatable).",
)
@click.option("--config", "config_id", type=click.UUID, help="Only events of this config.")
@click.option("--since", "since_text", metavar="TIME", help="Only events received since then.")
def replay_command(
    event_ids: tuple[uuid.UUID, ...],
    statuses: tuple[str, ...],
    config_id: uuid.UUID | None,
    since_text: str | None,
) -> None:
    """Queue failed or dead events again; prints each replayed event id on stdout.

    Name events, or select them with --status/--config/--since. A done event is never replayed
    (it would apply twice); replaying the same event from two places queues it once.
    """
    from webhook.broker import enqueue_event

    since = _since(since_text)
    if event_ids and (statuses or config_id or since):
        raise click.UsageError("give event ids or filters, not both")
    if event_ids:
        candidates = _explicit_ids(event_ids)
    else:
        chosen = [EventStatus(status) for status in statuses] or list(REPLAYABLE)
        with admin_session(read_only=True) as session:
            candidates = select_replayable(session, chosen, config_id, since)
    if not candidates:
        say("nothing to replay")
        return
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
            with admin_session() as session:
                requeued = requeue_events(session, batch)
            for event_id in requeued:
                if not enqueue_event(event_id):
                    unsent += 1
                emit(event_id)
            replayed.extend(requeued)
    say(f"replayed {len(replayed)} of {len(candidates)} events")
    if unsent:
        say(f"{unsent} could not reach the broker; the sweeper sends them once it is reachable")
