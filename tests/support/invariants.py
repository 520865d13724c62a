"""The checker of SPEC section 5's invariants I1-I4, given what a provider sent and the database.

A scenario (a fault test, a benchmark) records every request it sent as a ``SentRequest``: who it
is about, the lead fields it sets, which terminal statuses it may end in, and what the webhook
answered. ``check_invariants`` then reads the organization's events and leads and reports:

- I1: every accepted (2xx) event, and every event stored at all, is terminal, in a status the
  scenario allows (``dead`` only where it expects one);
- I2: one lead per person, and no two leads sharing an external id;
- I3: each lead holds, for every checked field, the value of the newest (highest receive order)
  event that set it, and its ``last_event_seq`` is that of the newest event applied;
- I4: no event took effect twice: each lead was created by exactly one event, its
  ``reengagements_count`` equals the events that re-engaged it (and the scenario's count when
  given), and attempts are within the configured limit.
"""

from __future__ import annotations

import enum
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from common.settings import to_sqlalchemy_url
from models import IngestionEvent, Lead
from models.enums import EventAction, EventStatus

TERMINAL = (EventStatus.done, EventStatus.failed, EventStatus.dead)
# Actions that write the payload's fields as the newest state of the lead.
APPLIED = (EventAction.created, EventAction.updated, EventAction.unchanged, EventAction.reengaged)
IDENTIFIERS = ("external_id", "phone_number", "email")


@dataclass
class SentRequest:
    """One logical request a provider sent (with every resend of it) and the final answer."""

    person: str
    endpoint: str  # "create" or "upsert"
    body: dict[str, Any]
    # Lead fields this request sets, as the lead stores them: {"lead_source": "v3", "metadata.n": 3}
    checked: dict[str, Any] = field(default_factory=dict)
    # Terminal statuses this event may end in.
    expect: tuple[str, ...] = ("done",)
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Filled in by the sender.
    status_code: int | None = None
    event_id: str | None = None
    tries: int = 0
    answers: list[str] = field(default_factory=list)  # "202", "503", "ConnectionRefusedError"
    sent_at: float = 0.0
    seconds: float = 0.0  # first try to final answer

    @property
    def accepted(self) -> bool:
        """True when the webhook answered 2xx with an event id."""
        code = self.status_code
        return code is not None and 200 <= code < 300 and bool(self.event_id)


@dataclass
class Person:
    """Someone the scenario sends leads about, with the identifiers their lead must carry."""

    key: str
    # As stored: {"external_id": "P-1", "phone_number": "+14155550100", "email": "a@example.com"}
    identifiers: dict[str, str]
    # Final values the scenario knows for sure, as stored (checked in addition to I3's own).
    expected: dict[str, Any] = field(default_factory=dict)
    reengagements: int | None = None
    has_lead: bool = True


@dataclass
class Verdict:
    """What the checker found: counts for the report, and every violation in words."""

    counts: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no invariant was violated."""
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        """The verdict as plain data, for a results file."""
        return {"ok": self.ok, **asdict(self)}

    def assert_ok(self) -> None:
        """Fail with the counts and the first violations when any invariant was violated."""
        if self.violations:
            shown = "\n  ".join(self.violations[:25])
            more = len(self.violations) - 25
            tail = f"\n  ... and {more} more" if more > 0 else ""
            raise AssertionError(
                f"{len(self.violations)} invariant violations; counts {self.counts}:\n"
                f"  {shown}{tail}"
            )


def engine_for(database_url: str) -> Engine:
    """An engine without a pool, so a checker leaves no idle connections behind."""
    return create_engine(to_sqlalchemy_url(database_url), poolclass=NullPool)


@contextmanager
def session_on(database_url: str) -> Iterator[Session]:
    """A session on its own pool-less engine, disposed of when the block ends."""
    engine = engine_for(database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def pending_events(database_url: str, organization_id: int) -> int:
    """How many of the organization's events are not terminal yet."""
    with session_on(database_url) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(IngestionEvent)
                .where(
                    IngestionEvent.organization_id == organization_id,
                    IngestionEvent.status.not_in(TERMINAL),
                )
            )
            or 0
        )


def wait_for_drain(
    database_url: str, organization_id: int, timeout: float, interval: float = 0.25
) -> float:
    """Wait until every event of the organization is terminal; the seconds it took.

    Raises AssertionError (an I1 violation) with the number left when ``timeout`` passes.
    Connection errors (the database may be on its way back up) count as not drained yet.
    """
    start = time.monotonic()
    left: int | str = "unknown"
    while time.monotonic() - start < timeout:
        try:
            left = pending_events(database_url, organization_id)
        except Exception as error:  # the database may still be restarting
            left = f"unknown ({type(error).__name__})"
        if left == 0:
            return time.monotonic() - start
        time.sleep(interval)
    raise AssertionError(f"I1: {left} events still not terminal after {timeout:.0f} s")


def _lead_value(lead: Lead, name: str) -> Any:
    if name.startswith("metadata."):
        return (lead.lead_metadata or {}).get(name.removeprefix("metadata."))
    value = getattr(lead, "representative_id" if name == "representative" else name)
    return value.value if isinstance(value, enum.Enum) else value


def _check_i1(
    requests: list[SentRequest], events: dict[str, IngestionEvent], verdict: Verdict
) -> None:
    answered: Counter[str] = Counter()
    for request in requests:
        if not request.accepted:
            continue
        assert request.event_id is not None
        answered[request.event_id] += 1
        event = events.get(request.event_id)
        if event is None:
            verdict.violations.append(f"I1: accepted event {request.event_id} is not stored")
        elif event.status not in TERMINAL:
            verdict.violations.append(
                f"I1: accepted event {event.id} is still {event.status.value}"
                f" (attempts {event.attempts}, last error {event.last_error!r})"
            )
        elif event.status.value not in request.expect:
            verdict.violations.append(
                f"I1: event {event.id} of {request.person} ended {event.status.value},"
                f" expected {'/'.join(request.expect)} (errors {event.errors},"
                f" last error {event.last_error!r})"
            )
    for event_id, count in answered.items():
        if count > 1:
            verdict.violations.append(f"I1: {count} different requests answered with {event_id}")
    for event in events.values():
        if event.status not in TERMINAL and str(event.id) not in answered:
            verdict.violations.append(
                f"I1: stored event {event.id} (never acknowledged to its sender) is still"
                f" {event.status.value}"
            )


def _person_leads(person: Person, leads: list[Lead]) -> list[Lead]:
    return [
        lead
        for lead in leads
        if any(
            getattr(lead, key) == value
            for key, value in person.identifiers.items()
            if key in IDENTIFIERS and value
        )
    ]


def _check_i2(persons: dict[str, Person], leads: list[Lead], verdict: Verdict) -> dict[str, Lead]:
    by_person: dict[str, Lead] = {}
    owned: set[int] = set()
    for person in persons.values():
        found = _person_leads(person, leads)
        owned.update(lead.id for lead in found)
        if len(found) > 1:
            verdict.violations.append(
                f"I2: {person.key} has {len(found)} leads: {sorted(lead.id for lead in found)}"
            )
        elif not found and person.has_lead:
            verdict.violations.append(f"I2: {person.key} has no lead")
        if len(found) == 1:
            by_person[person.key] = found[0]
    strays = [lead.id for lead in leads if lead.id not in owned]
    if persons and strays:
        verdict.violations.append(f"I2: {len(strays)} leads belong to no person: {strays[:10]}")
    external_ids = Counter(lead.external_id for lead in leads if lead.external_id is not None)
    for external_id, count in external_ids.items():
        if count > 1:
            verdict.violations.append(f"I2: {count} leads share external id {external_id!r}")
    return by_person


def _expected_fields(
    requests: list[SentRequest], events: dict[str, IngestionEvent]
) -> dict[str, dict[str, tuple[int, Any]]]:
    """Per person and field: (receive order, value) of the newest applied event that set it."""
    newest: dict[str, dict[str, tuple[int, Any]]] = {}
    for request in requests:
        event = events.get(request.event_id or "")
        if event is None or event.action not in APPLIED:
            continue
        fields = newest.setdefault(request.person, {})
        for name, value in request.checked.items():
            if name not in fields or fields[name][0] < event.seq:
                fields[name] = (event.seq, value)
    return newest


def _check_i3(
    requests: list[SentRequest],
    events: dict[str, IngestionEvent],
    persons: dict[str, Person],
    by_person: dict[str, Lead],
    verdict: Verdict,
) -> None:
    for person_key, fields in _expected_fields(requests, events).items():
        lead = by_person.get(person_key)
        if lead is None:
            continue
        for name, (seq, value) in sorted(fields.items()):
            actual = _lead_value(lead, name)
            if actual != value:
                verdict.violations.append(
                    f"I3: {person_key} lead {lead.id}: {name} is {actual!r}, but the newest event"
                    f" that set it (seq {seq}) sent {value!r}"
                )
    for person_key, person in persons.items():
        lead = by_person.get(person_key)
        for name, value in person.expected.items():
            if lead is not None and _lead_value(lead, name) != value:
                verdict.violations.append(
                    f"I3: {person_key} lead {lead.id}: {name} is {_lead_value(lead, name)!r},"
                    f" expected {value!r}"
                )
    newest_applied: dict[int, int] = {}
    for event in events.values():
        if event.lead_id is not None and event.action in APPLIED:
            newest_applied[event.lead_id] = max(newest_applied.get(event.lead_id, 0), event.seq)
    for lead in by_person.values():
        if lead.id in newest_applied and lead.last_event_seq != newest_applied[lead.id]:
            verdict.violations.append(
                f"I3: lead {lead.id} last_event_seq is {lead.last_event_seq}, but the newest"
                f" event applied to it is {newest_applied[lead.id]}"
            )
    for event in events.values():
        newest = newest_applied.get(event.lead_id or 0)
        if event.action == EventAction.stale and newest is not None and event.seq > newest:
            verdict.violations.append(
                f"I3: event {event.id} was marked stale but is newer than every event applied"
            )


def _check_i4(
    events: dict[str, IngestionEvent],
    leads: list[Lead],
    persons: dict[str, Person],
    by_person: dict[str, Lead],
    max_attempts: int,
    verdict: Verdict,
) -> None:
    created: Counter[int] = Counter()
    reengaged: Counter[int] = Counter()
    for event in events.values():
        if event.lead_id is None:
            continue
        if event.action == EventAction.created:
            created[event.lead_id] += 1
        elif event.action == EventAction.reengaged:
            reengaged[event.lead_id] += 1
    for lead in leads:
        if created[lead.id] != 1:
            verdict.violations.append(
                f"I4: lead {lead.id} was created by {created[lead.id]} events, not 1"
            )
        if lead.reengagements_count != reengaged[lead.id]:
            verdict.violations.append(
                f"I4: lead {lead.id} counts {lead.reengagements_count} reengagements,"
                f" but {reengaged[lead.id]} events re-engaged it"
            )
    for person_key, person in persons.items():
        found = by_person.get(person_key)
        expected = person.reengagements
        if found is not None and expected is not None and found.reengagements_count != expected:
            verdict.violations.append(
                f"I4: {person_key} lead {found.id} counts {found.reengagements_count}"
                f" reengagements, the scenario sent {expected}"
            )
    for event in events.values():
        if event.status not in TERMINAL:
            continue
        # A claim past the limit is counted before it is declared dead, hence one more.
        limit = max_attempts + 1 if event.status == EventStatus.dead else max_attempts
        if not 1 <= event.attempts <= limit:
            verdict.violations.append(
                f"I4: {event.status.value} event {event.id} has {event.attempts} attempts"
                f" (limit {max_attempts})"
            )
        if event.processed_time is None:
            verdict.violations.append(f"I4: {event.status.value} event {event.id} has no time")


def _counts(
    requests: list[SentRequest],
    events: dict[str, IngestionEvent],
    leads: list[Lead],
    persons: dict[str, Person],
) -> dict[str, Any]:
    accepted = {request.event_id for request in requests if request.accepted}
    answers = Counter(answer for request in requests for answer in request.answers)
    return {
        "sent": len(requests),
        "accepted": sum(request.accepted for request in requests),
        "not_accepted": sum(not request.accepted for request in requests),
        "resends": sum(max(request.tries - 1, 0) for request in requests),
        "answers": dict(sorted(answers.items())),
        "events": len(events),
        "unacknowledged_events": len(set(events) - accepted),
        "by_status": dict(Counter(event.status.value for event in events.values())),
        "by_action": dict(
            Counter(event.action.value for event in events.values() if event.action is not None)
        ),
        "persons": len(persons),
        "leads": len(leads),
        "max_attempts_seen": max((event.attempts for event in events.values()), default=0),
    }


def check_invariants(
    database_url: str,
    organization_id: int,
    requests: list[SentRequest],
    persons: list[Person] | None = None,
    max_attempts: int = 8,
) -> Verdict:
    """Read the organization's events and leads and check I1-I4 against what was sent."""
    by_key = {person.key: person for person in persons or []}
    engine = engine_for(database_url)
    try:
        with Session(engine) as session:
            events = {
                str(event.id): event
                for event in session.scalars(
                    select(IngestionEvent).where(IngestionEvent.organization_id == organization_id)
                )
            }
            leads = list(
                session.scalars(select(Lead).where(Lead.organization_id == organization_id))
            )
    finally:
        engine.dispose()
    verdict = Verdict()
    _check_i1(requests, events, verdict)
    lead_of = _check_i2(by_key, leads, verdict)
    _check_i3(requests, events, by_key, lead_of, verdict)
    _check_i4(events, leads, by_key, lead_of, max_attempts, verdict)
    verdict.counts = _counts(requests, events, leads, by_key)
    return verdict
