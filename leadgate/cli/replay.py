"""``leadgate replay``: run failed or dead events again, with the configs' current mappings."""

from __future__ import annotations

import datetime as dt
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import click
from sqlalchemy import select

from leadgate.cli.context import database_url
from leadgate.cli.output import CliError, emit, say
from leadgate.cli.replay_jobs import (
    cancel_command,
    print_plan,
    read_filter,
    show_command,
    start_job,
)
from leadgate.cli.replay_outcomes import TERMINAL, EventOutcome, ReplayOutcomes, tally
from leadgate.cli.since import EXAMPLES, since_option
from models import IngestionEvent
from models.db import get_sessionmaker, session_scope
from models.enums import EventStatus
from models.ingestion_event import find_event
from worker.replay import REPLAYABLE, replay_refusal, requeue_events, select_replayable

BATCH = 200
PROGRESS_FROM = 50  # a progress bar only where there is something to watch
POLL_SECONDS = 0.5
# Event ids per status query while waiting; keeps each IN list a modest size.
POLL_CHUNK = 1000


def _check_explicit_ids(url: str, event_ids: tuple[uuid.UUID, ...]) -> list[uuid.UUID]:
    with get_sessionmaker(url)() as session:
        for event_id in event_ids:
            event = find_event(session, event_id)
            if event is None:
                raise CliError(f"no event {event_id}")
            refusal = replay_refusal(event)
            if refusal is not None:
                raise CliError(f"event {event_id}: {refusal}")
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


class ReplayGroup(click.Group):
    """``leadgate replay ...`` runs a replay; ``leadgate replay show|cancel ID`` are about jobs.

    Anything but a job command's name goes to the replay itself, so its options and event ids
    stay where they always were: ``leadgate replay --status dead``.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Route to the replay unless the first word names a job command."""
        if not args or args[0] not in self.commands or args[0] == RUN:
            args = [RUN, *args]
        return super().parse_args(ctx, args)


class _ReplayRunContext(click.Context):
    @property
    def command_path(self) -> str:
        """``leadgate replay``: the routing name of the replay itself stays out of sight."""
        return self.parent.command_path if self.parent is not None else super().command_path


class ReplayRun(click.Command):
    """The replay itself, shown (in usage, help and errors) as ``leadgate replay``."""

    context_class = _ReplayRunContext


RUN = "run"
_NEW_FILTERS = (
    "actions", "endpoint", "error_field", "lead", "until", "idempotency_key", "payload_contains",
)  # fmt: skip


@click.group("replay", cls=ReplayGroup)
def replay_command() -> None:
    """Replay failed or dead events (see ``leadgate replay --help``), and follow replay jobs."""


replay_command.add_command(show_command)
replay_command.add_command(cancel_command)


@replay_command.command(RUN, cls=ReplayRun, hidden=True)
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
@click.option("--plan", is_flag=True, help="Print what the replay would do; change nothing.")
@click.option(
    "--job", is_flag=True, help="Run as a background replay job; follow it with a progress bar."
)
@click.option("--org", "organization_id", type=int, help="The organization (--plan, --job).")
@click.option(
    "--action",
    "actions",
    multiple=True,
    help="Only events whose last action was this (repeatable; --plan, --job).",
)
@click.option("--endpoint", help="Only events of this endpoint (--plan, --job).")
@click.option("--error-field", help="Only events that failed on this field (--plan, --job).")
@click.option("--lead", help="Only events of this lead id (--plan, --job).")
@click.option(
    "--until",
    metavar="TIME",
    callback=since_option,
    help="Only events received before then, as --since (--plan, --job).",
)
@click.option("--idempotency-key", help="Only the event with this key (--plan, --job).")
@click.option(
    "--payload-contains",
    metavar="JSON",
    help='A JSON object the payload must contain, e.g. \'{"contact": {"email": "x@y.z"}}\' '
    "(--plan, --job).",
)
@click.option("--json", "as_json", is_flag=True, help="The plan as JSON (--plan).")
def replay_run_command(
    event_ids: tuple[uuid.UUID, ...],
    statuses: tuple[str, ...],
    config_id: uuid.UUID | None,
    since: dt.datetime | None,
    replay_all: bool,
    wait: bool,
    timeout: float,
    plan: bool,
    job: bool,
    organization_id: int | None,
    as_json: bool,
    **more_filters: Any,
) -> None:
    """Queue failed or dead events again and report what became of them.

    Name the events, or select them with --status, --config and --since; --all replays every
    failed and dead event of every config. With none of these the command refuses. Each replayed
    event id is printed on stdout. The command then waits (up to --timeout seconds) and prints
    the outcomes by action and by error; it exits 1 if any replayed event failed again or is
    still pending. A done event is never replayed (it would apply twice); replaying one event
    from two places queues it once.

    --plan prints what replaying the filters' events would do (counts by action, stale ones
    included, and a sample), changing nothing. --job runs them as a background replay job
    (as POST /api/replays/ does), prints its id and follows it with a progress bar; Ctrl-C
    detaches and the job goes on. Both take every filter of the events list and belong to one
    organization (--org, or --config's). Follow a job with `leadgate replay show ID`, stop it
    with `leadgate replay cancel ID`.
    """
    if plan or job:
        _plan_or_job(
            event_ids, replay_all, plan, job, organization_id, as_json, wait,
            {"config": config_id, "status": statuses, "since": since, **more_filters},
        )  # fmt: skip
        return
    given = [name for name in _NEW_FILTERS if more_filters.get(name) not in (None, ())]
    if given or organization_id is not None or as_json:
        raise click.UsageError("--org, --json and filters beyond --status, --config and --since "
                               "are for --plan and --job")  # fmt: skip
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


def _plan_or_job(
    event_ids: tuple[uuid.UUID, ...],
    replay_all: bool,
    plan: bool,
    job: bool,
    organization_id: int | None,
    as_json: bool,
    wait: bool,
    options: dict[str, Any],
) -> None:
    if plan and job:
        raise click.UsageError("--plan shows what --job would do; give one of them")
    if event_ids or replay_all:
        raise click.UsageError("--plan and --job take filters, not event ids or --all")
    options["action"] = options.pop("actions", ())
    wanted = read_filter(options)
    config_id = options.get("config")
    if plan:
        print_plan(organization_id, config_id, wanted, as_json)
    else:
        start_job(organization_id, config_id, wanted, wait)
