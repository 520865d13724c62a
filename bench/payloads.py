"""Realistic upsert payloads and event streams: new persons, updates, and hot leads.

The shape is the nested provider format of the shared ``nested-json-upsert-lifecycle`` case.
Every payload carries the person's whole identity (external id, phone, email), so whichever of a
person's events a worker happens to apply first can create the lead.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

NESTED_MAPPING: dict[str, Any] = {
    "fields": {
        "external_id": {"from": "lead.id", "type": "string"},
        "phone_number": {"from": ["contact.phone", "contact.mobile"]},
        "email": "contact.email",
        "us_state": "address.state",
        "lead_source": {"value": "AcmeMortgage"},
        "metadata.first_name": "contact.first_name",
        "metadata.last_name": "contact.last_name",
        "metadata.loan_amount": {"from": "loan.amount", "type": "number"},
        "metadata.loan_purpose": "loan.purpose",
    },
    "unmapped": "metadata",
}

AREA_CODES = ("212", "415", "312", "617", "305", "206", "512", "303", "404", "702")
STATES = ("New York", "California", "IL", "ma", "Florida", "WA", "texas", "CO", "GA", "NV")
FIRST_NAMES = ("Jane", "Raj", "Maria", "Wei", "Ahmed", "Olga", "Kofi", "Lucia", "Sam", "Ana")
LAST_NAMES = ("Doe", "Patel", "Garcia", "Chen", "Hassan", "Ivanova", "Mensah", "Rossi", "Lee")
PURPOSES = ("refinance", "purchase", "cash-out", "heloc")


def phone_for(person: int) -> str:
    """A valid US number, different for each person below 7 million, in a common format."""
    area = AREA_CODES[person % len(AREA_CODES)]
    rest = person // len(AREA_CODES)
    exchange = 200 + (rest // 10_000) % 700
    return f"({area}) {exchange:03d}-{rest % 10_000:04d}"


def person_payload(key: str, person: int, revision: int, run_tag: str) -> dict[str, Any]:
    """The payload a provider sends for ``person``; ``revision`` changes the loan and email."""
    first = FIRST_NAMES[person % len(FIRST_NAMES)]
    last = LAST_NAMES[person % len(LAST_NAMES)]
    email = (
        f" {first}.{last}.{key}@Example.com " if revision == 0 else f"{key}.r{revision}@example.net"
    )
    return {
        "lead": {"id": f"{run_tag}-{key}", "submitted_at": "2026-11-02T14:05:00Z"},
        "contact": {
            "first_name": first,
            "last_name": last,
            "phone": phone_for(person),
            "email": email,
        },
        "address": {
            "street": f"{person % 9000 + 1} Market St",
            "city": "Springfield",
            "state": STATES[person % len(STATES)],
            "zip": f"{10000 + person % 89999:05d}",
        },
        "loan": {"amount": str(100_000 + revision * 1_000 + person % 1_000), "purpose": "refi"}
        if revision
        else {"amount": str(200_000 + person % 500_000), "purpose": PURPOSES[person % 4]},
        "consent": {"tcpa": True, "ip": f"203.0.113.{person % 250 + 1}"},
        "tracking": {"utm_source": "search", "utm_campaign": f"spring-{person % 7}"},
    }


def stored_identifiers(payload: dict[str, Any]) -> dict[str, str]:
    """The person's identifiers that never change between events, as the lead stores them."""
    digits = "".join(char for char in payload["contact"]["phone"] if char.isdigit())
    return {"external_id": payload["lead"]["id"], "phone_number": f"+1{digits}"}


def stored_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The fields that differ between a person's events, as the lead stores them.

    ``NESTED_MAPPING`` maps these: the email trimmed and lower-cased, the amount as a number.
    """
    return {
        "email": payload["contact"]["email"].strip().lower(),
        "metadata.loan_amount": int(payload["loan"]["amount"]),
    }


@dataclass(frozen=True)
class StreamEvent:
    """One payload to post, and the person it belongs to."""

    person_key: str
    body: bytes


@dataclass(frozen=True)
class Stream:
    """Events in the order they are to be posted, and how many distinct persons they name."""

    events: list[StreamEvent]
    persons: int
    hot_persons: int

    def bodies_by_client(self, split: list[list[int]]) -> list[list[bytes]]:
        """The bodies of each client's list of event indices, in that list's order."""
        return [[self.events[i].body for i in indices] for indices in split]


def build_stream(
    count: int,
    update_share: float = 0.3,
    hot_share: float = 0.0,
    hot_leads: int = 50,
    seed: int = 6,
    run_tag: str | None = None,
    first_person: int = 0,
) -> Stream:
    """``count`` events: new persons, updates to persons already sent, and hot-lead updates."""
    rng = random.Random(seed)
    tag = run_tag or uuid.uuid4().hex[:8]
    events: list[StreamEvent] = []
    created = 0
    hot_seen: set[int] = set()
    for index in range(count):
        draw = rng.random()
        if draw < hot_share:
            hot = rng.randrange(hot_leads)
            hot_seen.add(hot)
            # Hot persons live far above the new persons' numbers, so none of their
            # identifiers can collide.
            person, key, revision = 5_000_000 + hot, f"hot{hot}", index + 1
        elif created and draw < hot_share + update_share:
            number = first_person + rng.randrange(created)
            person, key, revision = number, f"p{number}", index + 1
        else:
            person, key, revision = first_person + created, f"p{first_person + created}", 0
            created += 1
        body = json.dumps(person_payload(key, person, revision, tag)).encode()
        events.append(StreamEvent(key, body))
    return Stream(events, created + len(hot_seen), len(hot_seen))


@dataclass(frozen=True)
class Tenant:
    """The organization, token and upsert path the benchmark posts to."""

    organization_id: int
    config_id: uuid.UUID
    token: str

    @property
    def upsert_path(self) -> str:
        """The upsert URL path of the config."""
        return f"/api/lead-ingestion/{self.config_id}/upsert/"


def create_tenant(sqlalchemy_url: str, mapping: dict[str, Any] | None = None) -> Tenant:
    """Create an organization, a token, a campaign and a config with the nested mapping."""
    from leadgate.cli import lead_type_records, records

    engine = create_engine(sqlalchemy_url)
    try:
        with Session(engine) as session, session.begin():
            organization = records.create_organization(session, f"bench-{uuid.uuid4().hex[:6]}")
            # The generated people have example.com addresses standing in for real ones: keep
            # them, so that the work measured is the work real leads cause.
            organization.blocks_reserved_identifiers = False
            _, token = records.create_token(session, organization.id, "bench")
            campaign = records.create_campaign(session, organization.id, "bench")
            lead_type = lead_type_records.create_lead_type(
                session,
                organization.id,
                lead_type_records.LeadTypeOptions(name="bench", campaign_id=campaign.id),
            )
            options = records.ConfigOptions(
                name="bench nested upsert",
                mapping=mapping or NESTED_MAPPING,
                lead_type=lead_type.id,
            )
            config = records.create_config(session, campaign.id, options)
            tenant = Tenant(organization.id, config.id, token)
    finally:
        engine.dispose()
    return tenant
