"""Finding the lead a payload belongs to (SPEC section 5), and explaining the choice.

Matching runs in memory over the leads in play: every lead that holds any identifier of the
events being processed, loaded in one query after the identity locks are taken (so no other
worker can add or change a lead on those identifiers meanwhile), plus the leads those events
create. Events of one batch therefore see each other's writes, in receive order.

Test leads and real leads are loaded together (a batch may hold events of both modes) but never
match across: an event sees only the leads of its own mode, and the others a key found are
named in its explanation as passed over for that reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Lead
from models.enums import MATCH_KEYS


@dataclass
class Candidate:
    """A lead a match key found: whether it was taken, and why (or why not)."""

    lead: Lead
    taken: bool
    reason: str


@dataclass
class KeyTried:
    """One match key: the leads it found, or why it was not tried (``skipped``)."""

    key: str
    candidates: list[Candidate] = field(default_factory=list)
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form kept on the event; read once new leads have their ids."""
        found: dict[str, Any] = {"key": self.key}
        if self.skipped is not None:
            found["skipped"] = self.skipped
        found["candidates"] = [
            {"lead_id": c.lead.id, "taken": c.taken, "reason": c.reason} for c in self.candidates
        ]
        return found


@dataclass
class MatchResult:
    """The chosen lead (or None: create one), the key that chose it, and leads passed over."""

    lead: Lead | None = None
    matched_by: str | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # Each key tried, in order, with its candidates: the event's match explanation.
    tried: list[KeyTried] = field(default_factory=list)


class LeadsInPlay:
    """The leads a set of events can match: loaded under their locks, plus those they create."""

    def __init__(self, leads: Iterable[Lead] = ()) -> None:
        self._leads: list[Lead] = list(leads)

    def add(self, lead: Lead) -> None:
        """Make a lead created by an event visible to the events after it."""
        self._leads.append(lead)

    def __len__(self) -> int:
        return len(self._leads)

    def __iter__(self) -> Iterator[Lead]:
        return iter(self._leads)

    def by_id(self, organization_id: int, lead_id: int | None) -> Lead | None:
        """The lead with this id, if it is in play and the organization's."""
        for lead in self._leads:
            if (
                lead.id is not None
                and lead.id == lead_id
                and lead.organization_id == organization_id
            ):
                return lead
        return None

    def with_value(
        self, organization_id: int, key: str, value: Any, is_test: bool = False
    ) -> list[Lead]:
        """Leads of the mode whose ``key`` is ``value``, most recently modified (then id) first."""
        return [
            lead
            for lead in self._all_with(organization_id, key, value)
            if is_test_lead(lead) == is_test
        ]

    def by_mode(
        self, organization_id: int, key: str, value: Any, is_test: bool
    ) -> tuple[list[Lead], list[Lead]]:
        """Leads whose ``key`` is ``value``: those of the mode, and those it may never match."""
        same: list[Lead] = []
        other: list[Lead] = []
        for lead in self._all_with(organization_id, key, value):
            (same if is_test_lead(lead) == is_test else other).append(lead)
        return same, other

    def _all_with(self, organization_id: int, key: str, value: Any) -> list[Lead]:
        found = [
            lead
            for lead in self._leads
            if lead.organization_id == organization_id and getattr(lead, key) == value
        ]
        # A lead created in this batch has no id until the flush: it is the newest of all.
        found.sort(key=_recency, reverse=True)
        return found


def is_test_lead(lead: Lead) -> bool:
    """True for a test lead; a lead not flushed yet and built without the flag is a real one."""
    return bool(lead.is_test)


def _other_mode(is_test: bool) -> str:
    if is_test:
        return "test: a real lead; a test event never matches one"
    return "test: a test lead; a real event never matches one"


def _recency(lead: Lead) -> tuple[dt.datetime, float]:
    return (lead.modified_time, float("inf") if lead.id is None else float(lead.id))


def load_leads(
    session: Session, organization_id: int, payloads: Iterable[dict[str, Any]]
) -> LeadsInPlay:
    """Every lead of the organization holding an identifier of the payloads, in one query."""
    wanted: dict[str, set[Any]] = {key: set() for key in MATCH_KEYS}
    for values in payloads:
        for key in MATCH_KEYS:
            if values.get(key) is not None:
                wanted[key].add(values[key])
    conditions = [getattr(Lead, key).in_(sorted(found)) for key, found in wanted.items() if found]
    if not conditions:
        return LeadsInPlay()
    leads = session.scalars(
        select(Lead).where(Lead.organization_id == organization_id, or_(*conditions))
    ).all()
    return LeadsInPlay(leads)


def add_target_leads(
    session: Session, leads: LeadsInPlay, organization_id: int, lead_ids: Iterable[int | None]
) -> None:
    """Put the leads that events name by id (a PATCH) in play, if the organization has them."""
    wanted = sorted({lead_id for lead_id in lead_ids if lead_id is not None})
    missing = [lead_id for lead_id in wanted if leads.by_id(organization_id, lead_id) is None]
    if not missing:
        return
    for lead in session.scalars(
        select(Lead).where(Lead.organization_id == organization_id, Lead.id.in_(missing))
    ):
        leads.add(lead)


def _passed_over(lead: Lead, key: str, payload_external_id: str) -> dict[str, Any]:
    return {
        "lead_id": lead.id,
        "key": key,
        "reason": (
            f"lead has external_id {lead.external_id!r}, the payload has "
            f"{payload_external_id!r}; external ids are authoritative"
        ),
    }


def _first_allowed(
    leads: Sequence[Lead],
    key: str,
    external_id: str | None,
    result: MatchResult,
    set_aside: Sequence[Lead] = (),
    is_test: bool = False,
) -> Lead | None:
    tried = KeyTried(key)
    result.tried.append(tried)
    chosen = None
    for lead in leads:
        if chosen is not None:
            tried.candidates.append(Candidate(lead, False, "a more recently modified lead won"))
        elif external_id is not None and lead.external_id not in (None, external_id):
            passed = _passed_over(lead, key, external_id)
            result.warnings.append(passed)
            tried.candidates.append(Candidate(lead, False, f"authority: {passed['reason']}"))
        else:
            chosen = lead
            tried.candidates.append(Candidate(lead, True, f"the most recent lead with this {key}"))
    tried.candidates += [Candidate(lead, False, _other_mode(is_test)) for lead in set_aside]
    return chosen


def _by_external_id(
    leads: LeadsInPlay,
    organization_id: int,
    external_id: str,
    result: MatchResult,
    is_test: bool = False,
) -> Lead | None:
    # The unique index allows one at most (per mode).
    found, other_mode = leads.by_mode(organization_id, "external_id", external_id, is_test)
    tried = KeyTried("external_id")
    result.tried.append(tried)
    tried.candidates += [Candidate(lead, False, _other_mode(is_test)) for lead in other_mode]
    if not found:
        return None
    tried.candidates.insert(0, Candidate(found[0], True, "the lead with this external id"))
    return found[0]


def match_for_upsert(
    leads: LeadsInPlay,
    organization_id: int,
    values: dict[str, Any],
    match_keys: Sequence[str],
    is_test: bool = False,
) -> MatchResult:
    """Try the match keys in order; the first key whose value belongs to a lead picks it.

    ``is_test``: the event's mode; only leads of the same mode are candidates.
    """
    result = MatchResult()
    external_id = values.get("external_id")
    for key in match_keys:
        value = values.get(key)
        if value is None:
            result.tried.append(KeyTried(key, skipped="no value"))
            continue
        if key == "external_id":
            lead = _by_external_id(leads, organization_id, value, result, is_test)
        else:
            same_mode, other_mode = leads.by_mode(organization_id, key, value, is_test)
            lead = _first_allowed(same_mode, key, external_id, result, other_mode, is_test)
        if lead is not None:
            result.lead, result.matched_by = lead, key
            return result
    return result


def find_duplicate(
    leads: LeadsInPlay, organization_id: int, values: dict[str, Any], is_test: bool = False
) -> MatchResult:
    """The create endpoint's duplicate: same external id, or same phone and same email.

    No email on either side counts as the same email. A lead whose external id differs from the
    payload's is never a duplicate through phone and email. Only leads of the event's mode
    (``is_test``) can be its duplicate.
    """
    result = MatchResult()
    external_id = values.get("external_id")
    if external_id is not None:
        lead = _by_external_id(leads, organization_id, external_id, result, is_test)
        if lead is not None:
            result.lead, result.matched_by = lead, "external_id"
            return result
    phone = values.get("phone_number")
    if phone is None:
        result.tried.append(KeyTried("phone_number", skipped="no value"))
        return result
    email = values.get("email")
    same_phone, other_mode = leads.by_mode(organization_id, "phone_number", phone, is_test)
    same_person = [lead for lead in same_phone if lead.email == email]
    lead = _first_allowed(same_person, "phone_number", external_id, result, other_mode, is_test)
    result.tried[-1].candidates += [
        Candidate(other, False, "a different email: not the same person")
        for other in same_phone
        if other.email != email
    ]
    if lead is not None:
        result.lead, result.matched_by = lead, "phone_number"
    return result
