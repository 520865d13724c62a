"""The naive baseline for B2: one process, one ``INSERT ... ON CONFLICT`` and one commit per lead.

It reads the same payloads leadgate gets, picks the fields out by hand, and upserts them into a
table of its own in the benchmark's database: what the simplest correct implementation costs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS raw_leads (
    id bigserial PRIMARY KEY,
    organization_id integer NOT NULL,
    external_id text NOT NULL,
    phone_number text,
    email text,
    us_state text,
    lead_source text,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_time timestamptz NOT NULL DEFAULT now(),
    modified_time timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, external_id)
)
"""

UPSERT = """
INSERT INTO raw_leads (organization_id, external_id, phone_number, email, us_state, lead_source,
                       metadata)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (organization_id, external_id) DO UPDATE SET
    phone_number = COALESCE(EXCLUDED.phone_number, raw_leads.phone_number),
    email = COALESCE(EXCLUDED.email, raw_leads.email),
    us_state = COALESCE(EXCLUDED.us_state, raw_leads.us_state),
    lead_source = COALESCE(EXCLUDED.lead_source, raw_leads.lead_source),
    metadata = raw_leads.metadata || EXCLUDED.metadata,
    modified_time = now()
"""


@dataclass
class RawResult:
    """How long the loop took for how many leads."""

    leads: int
    seconds: float

    @property
    def leads_per_second(self) -> float:
        """Leads upserted per second."""
        return self.leads / self.seconds if self.seconds else 0.0


def lead_row(organization_id: int, payload: dict[str, Any]) -> tuple[Any, ...]:
    """The row for one payload, with the fields picked out the naive way."""
    contact = payload.get("contact") or {}
    email = contact.get("email")
    metadata = {
        "first_name": contact.get("first_name"),
        "last_name": contact.get("last_name"),
        "loan": payload.get("loan"),
        "consent": payload.get("consent"),
    }
    return (
        organization_id,
        str(payload["lead"]["id"]),
        contact.get("phone"),
        email.strip().lower() if email else None,
        (payload.get("address") or {}).get("state"),
        "AcmeMortgage",
        Jsonb(metadata),
    )


def run_raw_loop(database_url: str, bodies: list[bytes], organization_id: int = 1) -> RawResult:
    """Upsert every body in order, one transaction each, and time it."""
    with psycopg.connect(database_url) as connection:
        connection.execute(CREATE_TABLE)
        connection.commit()
        started = time.perf_counter()
        for body in bodies:
            connection.execute(UPSERT, lead_row(organization_id, json.loads(body)))
            connection.commit()
        seconds = time.perf_counter() - started
    return RawResult(len(bodies), seconds)
