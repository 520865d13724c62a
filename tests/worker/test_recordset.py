"""One INSERT for many rows: types, NULLs and the ON CONFLICT clause."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from models import IdentifierClaim
from tests.support.factories import make_tenant
from worker.ingest.recordset import insert_recordset

_CLAIMS = cast(Table, IdentifierClaim.__table__)
_LATER = (
    "ON CONFLICT (organization_id, kind, value, external_id) DO UPDATE "
    "SET claimed_time = excluded.claimed_time "
    "WHERE identifier_claims.claimed_time < excluded.claimed_time"
)


def _claim(organization_id: int, external_id: str, when: dt.datetime) -> dict[str, object]:
    return {
        "organization_id": organization_id,
        "kind": "email",
        "value": "jane@leads.test",
        "external_id": external_id,
        "claimed_time": when,
    }


def test_rows_are_inserted_with_their_types_and_the_conflict_clause(
    db_session: Session,
) -> None:
    organization_id = make_tenant(db_session).organization_id
    early = dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    late = early + dt.timedelta(hours=5)
    insert_recordset(db_session, _CLAIMS, [_claim(organization_id, "a", early)])
    rows = [_claim(organization_id, "a", late), _claim(organization_id, "b", early)]
    insert_recordset(db_session, _CLAIMS, rows, _LATER)
    # An older claim never moves a newer one back.
    insert_recordset(db_session, _CLAIMS, [_claim(organization_id, "b", early)], _LATER)
    insert_recordset(db_session, _CLAIMS, [])
    found = db_session.execute(
        select(IdentifierClaim.external_id, IdentifierClaim.claimed_time)
        .where(IdentifierClaim.organization_id == organization_id)
        .order_by(IdentifierClaim.external_id)
    ).all()
    assert [tuple(row) for row in found] == [("a", late), ("b", early)]
