"""``leadgate status``: how the inbox stands, for a person or (``--json``) a script."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadgate.cli.context import admin_session
from leadgate.cli.output import emit_json, emit_table
from models import IngestionConfig, IngestionEvent
from models.base import utcnow
from models.enums import EventStatus

PENDING = (EventStatus.queued, EventStatus.processing, EventStatus.retrying)


def collect_status(session: Session, now: dt.datetime | None = None) -> dict[str, Any]:
    """Queue depth, the last hour by status, the oldest pending event, dead and held per config."""
    now = now or utcnow()
    pending = dict(
        session.execute(
            select(IngestionEvent.status, func.count())
            .where(IngestionEvent.status.in_(PENDING))
            .group_by(IngestionEvent.status)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(IngestionEvent.received_time)).where(IngestionEvent.status.in_(PENDING))
    )
    last_hour = dict(
        session.execute(
            select(IngestionEvent.status, func.count())
            .where(IngestionEvent.received_time >= now - dt.timedelta(hours=1))
            .group_by(IngestionEvent.status)
        ).all()
    )
    dead = _count_by_config(session, EventStatus.dead)
    held = _count_by_config(session, EventStatus.held)
    return {
        "queue_depth": sum(pending.values()),
        "pending": {status.value: pending.get(status, 0) for status in PENDING},
        "oldest_pending_age_seconds": (now - oldest).total_seconds() if oldest else None,
        "last_hour": {status.value: last_hour.get(status, 0) for status in EventStatus},
        "dead_by_config": [
            {"config": str(config_id), "name": name, "dead": count}
            for config_id, name, count in dead
        ],
        "held_by_config": [
            {"config": str(config_id), "name": name, "held": count}
            for config_id, name, count in held
        ],
    }


def _count_by_config(session: Session, status: EventStatus) -> list[Any]:
    """(config id, name, count) of the events in ``status``, the largest count first."""
    return list(
        session.execute(
            select(IngestionEvent.config_id, IngestionConfig.name, func.count())
            .join(IngestionConfig, IngestionConfig.id == IngestionEvent.config_id)
            .where(IngestionEvent.status == status)
            .group_by(IngestionEvent.config_id, IngestionConfig.name)
            .order_by(func.count().desc())
        ).all()
    )


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
def status_command(as_json: bool) -> None:
    """Queue depth, the last hour by status, oldest pending age, dead and held per config."""
    with admin_session(read_only=True) as session:
        report = collect_status(session)
    if as_json:
        emit_json(report)
        return
    pending = ", ".join(f"{name} {count}" for name, count in report["pending"].items())
    click.echo(f"queue depth: {report['queue_depth']} ({pending})")
    click.echo(f"oldest pending: {_age(report['oldest_pending_age_seconds'])}")
    hour = ", ".join(f"{name} {count}" for name, count in report["last_hour"].items())
    click.echo(f"last hour: {hour}")
    if report["dead_by_config"]:
        click.echo("dead events by config:")
        emit_table(
            ("CONFIG", "NAME", "DEAD"),
            [(row["config"], row["name"], row["dead"]) for row in report["dead_by_config"]],
        )
    else:
        click.echo("dead events: none")
    if report["held_by_config"]:
        click.echo("held events by config (leadgate config release CONFIG runs them):")
        emit_table(
            ("CONFIG", "NAME", "HELD"),
            [(row["config"], row["name"], row["held"]) for row in report["held_by_config"]],
        )
    else:
        click.echo("held events: none")
