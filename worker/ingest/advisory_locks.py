"""Transaction-scoped advisory locks on a batch's identities: the database's half of I2.

The Redis lock (``worker.locks``) saves wasted work; these hold even when that lock expires.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from worker.ingest.claims import Claim
from worker.ingest.identity import advisory_lock_id, identity_keys
from worker.ingest.types import PreparedLead


def batch_identity_keys(batch: Sequence[tuple[Claim, PreparedLead]]) -> list[str]:
    """Every identity key of the batch's valid events, sorted (invalid ones touch no lead)."""
    return sorted(
        {
            key
            for claim, prepared in batch
            if not prepared.errors
            for key in identity_keys(claim.organization_id, prepared.values)
        }
    )


def lock_identities(session: Session, keys: list[str]) -> None:
    """Take a transaction-scoped advisory lock per identity key, in a fixed order, at once."""
    # A lock wait past this is treated as transient, so a stuck holder cannot pin a worker.
    session.execute(text("SET LOCAL lock_timeout = '10s'"))
    lock_ids = sorted({advisory_lock_id(key) for key in keys})
    if not lock_ids:
        return
    # One round trip; the sorted subquery fixes the order the locks are taken in.
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(id)) "
            "FROM (SELECT unnest(CAST(:ids AS bigint[])) AS id ORDER BY 1) AS sorted_ids"
        ),
        {"ids": lock_ids},
    )
