"""Finding the lead a payload belongs to (SPEC section 5), and explaining the choice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Lead


@dataclass
class MatchResult:
    """The chosen lead (or None: create one), the key that chose it, and leads passed over."""

    lead: Lead | None = None
    matched_by: str | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _passed_over(lead: Lead, key: str, payload_external_id: str) -> dict[str, Any]:
    return {
        "lead_id": lead.id,
        "key": key,
        "reason": (
            f"lead has external_id {lead.external_id!r}, the payload has "
            f"{payload_external_id!r}; external ids are authoritative"
        ),
    }


def _by_external_id(session: Session, organization_id: int, external_id: str) -> Lead | None:
    return session.scalars(
        select(Lead).where(Lead.organization_id == organization_id, Lead.external_id == external_id)
    ).one_or_none()


def _candidates(session: Session, organization_id: int, key: str, value: Any) -> Sequence[Lead]:
    column = getattr(Lead, key)
    return session.scalars(
        select(Lead)
        .where(Lead.organization_id == organization_id, column == value)
        # Several leads on one phone or email: the most recently modified, then the highest id.
        .order_by(Lead.modified_time.desc(), Lead.id.desc())
    ).all()


def _first_allowed(
    leads: Sequence[Lead], key: str, external_id: str | None, result: MatchResult
) -> Lead | None:
    for lead in leads:
        if external_id is not None and lead.external_id not in (None, external_id):
            result.warnings.append(_passed_over(lead, key, external_id))
            continue
        return lead
    return None


def match_for_upsert(
    session: Session, organization_id: int, values: dict[str, Any], match_keys: Sequence[str]
) -> MatchResult:
    """Try the match keys in order; the first key whose value belongs to a lead picks it."""
    result = MatchResult()
    external_id = values.get("external_id")
    for key in match_keys:
        value = values.get(key)
        if value is None:
            continue
        if key == "external_id":
            lead = _by_external_id(session, organization_id, value)
        else:
            lead = _first_allowed(
                _candidates(session, organization_id, key, value), key, external_id, result
            )
        if lead is not None:
            result.lead, result.matched_by = lead, key
            return result
    return result


def find_duplicate(session: Session, organization_id: int, values: dict[str, Any]) -> MatchResult:
    """The create endpoint's duplicate: same external id, or same phone and same email.

    No email on either side counts as the same email. A lead whose external id differs from the
    payload's is never a duplicate through phone and email.
    """
    result = MatchResult()
    external_id = values.get("external_id")
    if external_id is not None:
        lead = _by_external_id(session, organization_id, external_id)
        if lead is not None:
            result.lead, result.matched_by = lead, "external_id"
            return result
    phone = values.get("phone_number")
    if phone is None:
        return result
    email = values.get("email")
    same_person = [
        lead
        for lead in _candidates(session, organization_id, "phone_number", phone)
        if lead.email == email
    ]
    lead = _first_allowed(same_person, "phone_number", external_id, result)
    if lead is not None:
        result.lead, result.matched_by = lead, "phone_number"
    return result
