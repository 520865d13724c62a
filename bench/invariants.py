"""A minimal check of the invariants I1-I4 on a benchmark's data, straight from the database.

- I1 nothing lost: every accepted post is in the inbox and terminal.
- I2 one lead per person: one lead per external id, as many leads as persons, no shared phones.
- I3 order: each lead ends with the loan amount of its person's last received event (every event
  of a person carries a different amount).
- I4 once: exactly one ``created`` event per lead, no reengagement counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg


@dataclass
class Verdict:
    """One invariant's result and what was seen."""

    holds: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """The verdict as JSON."""
        return {"holds": self.holds, "detail": self.detail}


def _last_amounts(connection: psycopg.Connection, organization_id: int) -> dict[str, Decimal]:
    last: dict[str, tuple[int, Decimal]] = {}
    rows = connection.execute(
        "SELECT seq, raw_body FROM ingestion_events WHERE organization_id = %s", (organization_id,)
    )
    for seq, raw_body in rows:
        payload = json.loads(bytes(raw_body))
        external_id = str(payload["lead"]["id"])
        if external_id not in last or seq > last[external_id][0]:
            last[external_id] = (seq, Decimal(str(payload["loan"]["amount"])))
    return {external_id: amount for external_id, (_, amount) in last.items()}


def check_invariants(
    database_url: str, organization_id: int, accepted: int, persons: int
) -> dict[str, Verdict]:
    """Check I1-I4 for one organization whose ``accepted`` events named ``persons`` persons."""
    with psycopg.connect(database_url, autocommit=True) as connection:

        def scalar(sql: str) -> int:
            row = connection.execute(sql, {"org": organization_id}).fetchone()
            return int(row[0]) if row and row[0] is not None else 0

        inbox = scalar("SELECT count(*) FROM ingestion_events WHERE organization_id = %(org)s")
        unfinished = scalar(
            "SELECT count(*) FROM ingestion_events WHERE organization_id = %(org)s"
            " AND status NOT IN ('done', 'failed', 'dead')"
        )
        leads = scalar("SELECT count(*) FROM leads WHERE organization_id = %(org)s")
        shared_ids = scalar(
            "SELECT count(*) FROM (SELECT external_id FROM leads WHERE organization_id = %(org)s"
            " GROUP BY external_id HAVING count(*) > 1) AS shared"
        )
        shared_phones = scalar(
            "SELECT count(*) FROM (SELECT phone_number FROM leads WHERE organization_id = %(org)s"
            " GROUP BY phone_number HAVING count(*) > 1) AS shared"
        )
        created_twice = scalar(
            "SELECT count(*) FROM (SELECT lead_id FROM ingestion_events"
            " WHERE organization_id = %(org)s AND action = 'created'"
            " GROUP BY lead_id HAVING count(*) > 1) AS twice"
        )
        created = scalar(
            "SELECT count(*) FROM ingestion_events WHERE organization_id = %(org)s"
            " AND action = 'created'"
        )
        reengaged = scalar(
            "SELECT coalesce(sum(reengagements_count), 0) FROM leads"
            " WHERE organization_id = %(org)s"
        )
        expected = _last_amounts(connection, organization_id)
        final = {
            str(external_id): Decimal(str(amount))
            for external_id, amount in connection.execute(
                "SELECT external_id, metadata->'loan_amount' FROM leads WHERE organization_id = %s",
                (organization_id,),
            )
        }
    out_of_order = sorted(key for key, amount in expected.items() if final.get(key) != amount)
    return {
        "I1": Verdict(
            inbox == accepted and unfinished == 0,
            f"{accepted} accepted, {inbox} in the inbox, {unfinished} not terminal",
        ),
        "I2": Verdict(
            leads == persons and shared_ids == 0 and shared_phones == 0,
            f"{leads} leads for {persons} persons, {shared_ids} shared external ids,"
            f" {shared_phones} shared phones",
        ),
        "I3": Verdict(
            not out_of_order,
            f"{len(out_of_order)} of {len(expected)} leads not at their last event"
            + (f" (e.g. {out_of_order[:3]})" if out_of_order else ""),
        ),
        "I4": Verdict(
            created == leads and created_twice == 0 and reengaged == 0,
            f"{created} created events for {leads} leads, {created_twice} leads created twice,"
            f" {reengaged} reengagements",
        ),
    }
