"""Fan-in claims and quarantined identifiers in the database: loaded, recorded, released."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Result, Select, Table, delete, select, text
from sqlalchemy.orm import Session

from models import IdentifierClaim, IngestionConfig, QuarantinedIdentifier
from models.base import utcnow
from worker.ingest.fan_in import DEFAULT_WINDOW_DAYS, FAN_IN_KEYS, FanIn, Identifier
from worker.ingest.recordset import insert_recordset

_CLAIMS = cast(Table, IdentifierClaim.__table__)
_QUARANTINED = cast(Table, QuarantinedIdentifier.__table__)
# An identifier claimed again by the same external id keeps the later of the two times.
_KEEP_LATEST_CLAIM = (
    "ON CONFLICT (organization_id, kind, value, external_id) DO UPDATE "
    "SET claimed_time = excluded.claimed_time "
    "WHERE identifier_claims.claimed_time < excluded.claimed_time"
)


def _identifiers(payloads: Iterable[dict[str, Any]]) -> list[Identifier]:
    found = {
        (key, values[key])
        for values in payloads
        for key in FAN_IN_KEYS
        if values.get(key) is not None
    }
    return sorted(found)


# Each identifier of the batch probes the claims' primary key and the quarantine's unique key
# on its own (a LATERAL subquery is run per row of the unnest), whatever the planner believes of
# a young table's statistics: an IN list or a join let it scan every claim of the organization
# instead. The arrays keep the text the same whatever the batch's size, so it is prepared once.
# A quarantine comes back as a row without an external id, which no claim lacks.
_LOAD_FAN_IN = text(
    "SELECT given.kind, given.value, found.external_id, found.claimed_time "
    "FROM unnest(CAST(:kinds AS varchar[]), CAST(:values AS varchar[])) AS given(kind, value) "
    "CROSS JOIN LATERAL ("
    " SELECT external_id, claimed_time FROM identifier_claims"
    " WHERE organization_id = :organization_id AND kind = given.kind AND value = given.value"
    " AND claimed_time >= :since"
    " UNION ALL"
    " SELECT NULL, NULL FROM quarantined_identifiers"
    " WHERE organization_id = :organization_id AND kind = given.kind AND value = given.value"
    ") AS found"
)


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
    result: Result[Any] = session.execute(
        _LOAD_FAN_IN,
        {
            "kinds": [kind for kind, _ in wanted],
            "values": [value for _, value in wanted],
            "organization_id": organization_id,
            "since": since,
        },
    )
    rows = [tuple(row) for row in result]
    return FanIn(
        (
            (kind, value, external_id, when)
            for kind, value, external_id, when in rows
            if external_id is not None
        ),
        ((kind, value) for kind, value, external_id, _ in rows if external_id is None),
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
    # Sorted: two batches sharing identifiers take their row locks in the same order.
    insert_recordset(
        session,
        _CLAIMS,
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
        _KEEP_LATEST_CLAIM,
    )
    rows = {(kind, value): count for kind, value, count in quarantined}
    now = utcnow()
    insert_recordset(
        session,
        _QUARANTINED,
        [
            {
                "organization_id": organization_id,
                "kind": kind,
                "value": value,
                "claimants": count,
                "quarantined_time": now,
            }
            for (kind, value), count in sorted(rows.items())
        ],
        "ON CONFLICT (organization_id, kind, value) DO NOTHING",
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
