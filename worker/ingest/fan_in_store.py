"""Fan-in claims and quarantined identifiers in the database: loaded, recorded, released."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import IdentifierClaim, IngestionConfig, QuarantinedIdentifier
from models.base import utcnow
from worker.ingest.fan_in import DEFAULT_WINDOW_DAYS, FAN_IN_KEYS, FanIn, Identifier


def _identifiers(payloads: Iterable[dict[str, Any]]) -> list[Identifier]:
    found = {
        (key, values[key])
        for values in payloads
        for key in FAN_IN_KEYS
        if values.get(key) is not None
    }
    return sorted(found)


def longest_window(configs: Iterable[IngestionConfig]) -> dt.timedelta:
    """The longest fan-in window of the configs: claims older than that matter to none."""
    days = max((config.fan_in_window_days or DEFAULT_WINDOW_DAYS for config in configs), default=0)
    return dt.timedelta(days=days or DEFAULT_WINDOW_DAYS)


def load_fan_in(
    session: Session,
    organization_id: int,
    payloads: Iterable[dict[str, Any]],
    since: dt.datetime,
) -> FanIn:
    """The claims since ``since`` and the quarantines of the payloads' phone numbers and emails."""
    wanted = _identifiers(payloads)
    if not wanted:
        return FanIn()
    pair = tuple_(IdentifierClaim.kind, IdentifierClaim.value)
    claims = session.execute(
        select(
            IdentifierClaim.kind,
            IdentifierClaim.value,
            IdentifierClaim.external_id,
            IdentifierClaim.claimed_time,
        ).where(
            IdentifierClaim.organization_id == organization_id,
            pair.in_(wanted),
            IdentifierClaim.claimed_time >= since,
        )
    ).all()
    quarantined = session.execute(
        select(QuarantinedIdentifier.kind, QuarantinedIdentifier.value).where(
            QuarantinedIdentifier.organization_id == organization_id,
            tuple_(QuarantinedIdentifier.kind, QuarantinedIdentifier.value).in_(wanted),
        )
    ).all()
    return FanIn(
        ((kind, value, external_id, when) for kind, value, external_id, when in claims),
        ((kind, value) for kind, value in quarantined),
    )


def record_fan_in(
    session: Session,
    organization_id: int,
    claims: Sequence[tuple[str, str, str, dt.datetime]],
    quarantined: Sequence[tuple[str, str, int]],
) -> None:
    """Write the batch's claims (latest time kept) and new quarantines: a statement each."""
    latest: dict[tuple[str, str, str], dt.datetime] = {}
    for kind, value, external_id, when in claims:
        key = (kind, value, external_id)
        latest[key] = max(when, latest.get(key, when))
    if latest:
        statement = insert(IdentifierClaim)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["organization_id", "kind", "value", "external_id"],
                set_={"claimed_time": statement.excluded.claimed_time},
                where=IdentifierClaim.claimed_time < statement.excluded.claimed_time,
            ),
            [
                {
                    "organization_id": organization_id,
                    "kind": kind,
                    "value": value,
                    "external_id": external_id,
                    "claimed_time": when,
                }
                for (kind, value, external_id), when in sorted(latest.items())
            ],
        )
    if quarantined:
        rows = {(kind, value): count for kind, value, count in quarantined}
        session.execute(
            insert(QuarantinedIdentifier).on_conflict_do_nothing(
                index_elements=["organization_id", "kind", "value"]
            ),
            [
                {
                    "organization_id": organization_id,
                    "kind": kind,
                    "value": value,
                    "claimants": count,
                    "quarantined_time": utcnow(),
                }
                for (kind, value), count in sorted(rows.items())
            ],
        )


def quarantine_statement(organization_id: int) -> Select[QuarantinedIdentifier]:
    """The organization's quarantined identifiers, newest first."""
    return (
        select(QuarantinedIdentifier)
        .where(QuarantinedIdentifier.organization_id == organization_id)
        .order_by(QuarantinedIdentifier.id.desc())
    )


def own_quarantine(
    session: Session, organization_id: int, entry_id: int
) -> QuarantinedIdentifier | None:
    """The quarantined identifier with this id if it is the organization's."""
    row = session.get(QuarantinedIdentifier, entry_id)
    return row if row is not None and row.organization_id == organization_id else None


def release(session: Session, row: QuarantinedIdentifier) -> None:
    """Use the identifier to match again; its claims so far are forgotten, so it starts afresh."""
    session.execute(
        delete(IdentifierClaim).where(
            IdentifierClaim.organization_id == row.organization_id,
            IdentifierClaim.kind == row.kind,
            IdentifierClaim.value == row.value,
        )
    )
    session.delete(row)
