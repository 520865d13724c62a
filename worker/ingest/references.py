"""Checking the rows a payload refers to (its representative) exist in its organization."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Representative
from worker.ingest.types import FieldError, PreparedLead


def with_reference_errors(
    session: Session, organization_id: int, batch: Sequence[PreparedLead]
) -> list[PreparedLead]:
    """The payloads, each naming a representative the organization lacks given an error for it.

    The inputs are left as they are (a batch may be decided twice, see the pipeline).
    """
    named = {
        p.values["representative"] for p in batch if p.values.get("representative") is not None
    }
    if not named:
        return list(batch)
    known = set(
        session.scalars(
            select(Representative.id).where(
                Representative.id.in_(sorted(named)),
                Representative.organization_id == organization_id,
            )
        )
    )
    checked = []
    for prepared in batch:
        representative_id = prepared.values.get("representative")
        if representative_id is not None and representative_id not in known:
            error = FieldError(
                "representative", f"representative {representative_id} does not exist"
            )
            prepared = dataclasses.replace(prepared, errors=[*prepared.errors, error])
        checked.append(prepared)
    return checked
