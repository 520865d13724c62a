"""``leadgate replay --plan|--job`` and ``leadgate replay show|cancel ID``: replays with a plan.

The same replay service as ``POST /api/replays/`` (``worker.replay_jobs``); the filters are the
events list's, read by the same parser.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import threading
import uuid
from collections.abc import Iterator
from types import FrameType
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from leadgate.cli.context import database_url
from leadgate.cli.output import CliError, emit, emit_json, emit_table, say
from models import IngestionConfig, Organization, ReplayJob
from models.db import get_sessionmaker, session_scope
from models.replay_job import ReplayJobStatus
from worker.configs import Author
from worker.dry_run import WOULD_FAIL
from worker.event_filter_parser import FilterError, parse_event_filter
from worker.event_search import EventFilter
from worker.replay_jobs import (
    DEAD,
    PENDING,
    ReplayJobNotFound,
    cancel_replay_job,
    fail_replay_job,
    get_replay_job,
    replay_job_as_dict,
    start_replay_job,
)
from worker.replay_plan import plan_replay, replay_filter

POLL_SECONDS = 0.5


def read_filter(options: dict[str, Any]) -> EventFilter:
    """The command line's filters through the events list's parser; a bad one names its option."""
    texts: dict[str, list[str]] = {}
    for name, value in options.items():
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            texts[name] = [str(item) for item in value]
        elif isinstance(value, dt.datetime):
            texts[name] = [value.isoformat()]
        else:
            texts[name] = [str(value)]
    try:
        return replay_filter(parse_event_filter(texts))
    except FilterError as error:
        option = "--" + error.field.replace("_", "-")
        raise click.UsageError(f"{option}: {error.reason}") from None


def _organization(url: str, organization_id: int | None, config_id: uuid.UUID | None) -> int:
    """The organization a plan or job is for: --org, else the one --config belongs to."""
    with get_sessionmaker(url)() as session:
        if organization_id is not None:
            if session.get(Organization, organization_id) is None:
                raise CliError(f"no organization {organization_id}")
            return organization_id
        if config_id is not None:
            config = session.get(IngestionConfig, config_id)
            if config is None:
                raise CliError(f"no config {config_id}")
            return config.organization_id
    raise click.UsageError("a replay plan or job is for one organization: give --org or --config")


def print_plan(
    organization_id: int | None, config_id: uuid.UUID | None, wanted: EventFilter, as_json: bool
) -> None:
    """Print what replaying ``wanted`` would do, changing nothing."""
    with database_url() as url:
        organization = _organization(url, organization_id, config_id)
        with get_sessionmaker(url)() as session:
            plan = plan_replay(session, organization, wanted)
    if as_json:
        emit_json(plan)
        return
    click.echo(f"{plan['count']} events would be replayed:")
    for verb, count in plan["by_action"].items():
        if count:
            click.echo(f"  {verb:<10} {count}")
    if plan["by_action"].get("stale"):
        click.echo("stale: newer events already touched their leads; they would only fill gaps")
    for field, count in plan["failed_fields"].items():
        click.echo(f"  would fail on {field}: {count}")
    rows = [
        (entry["event"], entry["received_time"], entry["would"], entry["lead_id"],
         ", ".join(sorted(entry["fields"])) or "-")
        for entry in plan["sample"]
    ]  # fmt: skip
    if rows:
        click.echo(f"first {len(rows)}:")
        emit_table(("EVENT", "RECEIVED", "WOULD", "LEAD", "FIELDS"), rows)


class _RateColumn(ProgressColumn):
    """Events replayed per second, as rich measures it over the last updates."""

    def render(self, task: Task) -> Text:
        """The rate, or a dash before there is one."""
        speed = task.finished_speed or task.speed
        return Text("-/s" if speed is None else f"{speed:,.0f}/s")


def start_job(
    organization_id: int | None,
    config_id: uuid.UUID | None,
    wanted: EventFilter,
    wait: bool,
) -> None:
    """Start a replay job, print its id, and follow it to its end with a progress bar."""
    from webhook.broker import REPLAY_UNSENT, enqueue_replay_job  # Celery loads only here

    with database_url() as url:
        organization = _organization(url, organization_id, config_id)
        with session_scope(url) as session:
            job = start_replay_job(session, organization, wanted, Author.cli_user())
            job_id, total = job.id, job.total
        # Sent only after the commit, so the worker finds the job it is asked to run.
        if not enqueue_replay_job(job_id):
            with session_scope(url) as session:
                fail_replay_job(session, job_id, REPLAY_UNSENT)
            raise CliError("the broker is unreachable; the job was not started (try again)")
        with _ctrl_c_detaches() as detached:
            emit(job_id)
            say(f"replay job {job_id} started: {total} events")
            if not wait:
                return
            final = _follow(url, job_id, detached)
        if final is None:
            say(f"detached; replay job {job_id} goes on")
            say(f"follow it with: leadgate replay show {job_id}")
            say(f"stop it with:   leadgate replay cancel {job_id}")
            return
    _report(final)


@contextlib.contextmanager
def _ctrl_c_detaches() -> Iterator[threading.Event]:
    """Ctrl-C sets the event instead of raising, so it can land anywhere and still detach."""
    detached = threading.Event()

    def _detach(_signum: int, _frame: FrameType | None) -> None:
        detached.set()

    previous = signal.signal(signal.SIGINT, _detach)
    try:
        yield detached
    finally:
        signal.signal(signal.SIGINT, previous)


def _read_job(url: str, job_id: uuid.UUID) -> ReplayJob:
    with get_sessionmaker(url)() as session:
        return get_replay_job(session, job_id)


def _follow(url: str, job_id: uuid.UUID, detached: threading.Event) -> ReplayJob | None:
    """The job once it has ended; None when Ctrl-C detached from it first."""
    job = _read_job(url, job_id)
    columns = (
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("replay", total=job.total, completed=job.done)
        while job.status == ReplayJobStatus.running:
            if detached.wait(POLL_SECONDS):
                return None
            job = _read_job(url, job_id)
            progress.update(task, completed=job.done)
    return job


def _report(job: ReplayJob) -> None:
    """Say how the job ended; exit 1 unless it finished with every event done."""
    say(f"replay job {job.id} {job.status.value}: {job.done} of {job.total} events")
    for outcome, count in job.by_action.items():
        say(f"  {outcome:<10} {count}")
    for field, count in job.failed_fields.items():
        say(f"  failed on {field}: {count}")
    unfinished = sum(job.by_action.get(key, 0) for key in (WOULD_FAIL, DEAD, PENDING))
    if job.status != ReplayJobStatus.done:
        raise CliError(
            f"the replay job is {job.status.value}" + (f": {job.error}" * bool(job.error))
        )
    if unfinished:
        raise CliError(f"{unfinished} of {job.done} replayed events did not end done")


@click.command("show")
@click.argument("job_id", type=click.UUID)
def show_command(job_id: uuid.UUID) -> None:
    """Print a replay job (JSON): status, progress, outcomes by action and failed field."""
    with database_url() as url, get_sessionmaker(url)() as session:
        try:
            job = get_replay_job(session, job_id)
        except ReplayJobNotFound as error:
            raise CliError(str(error)) from None
        emit_json(replay_job_as_dict(job))


@click.command("cancel")
@click.argument("job_id", type=click.UUID)
def cancel_command(job_id: uuid.UUID) -> None:
    """Stop a running replay job before its next chunk (the chunk under way finishes)."""
    with database_url() as url, session_scope(url) as session:
        try:
            job = cancel_replay_job(session, job_id)
        except ReplayJobNotFound as error:
            raise CliError(str(error)) from None
        status, done, total = job.status, job.done, job.total
    if status != ReplayJobStatus.cancelled:
        raise CliError(f"replay job {job_id} is {status.value}; nothing to cancel")
    say(f"replay job {job_id} cancelled after {done} of {total} events")
