"""The dry run predicts the worker: for random event sequences on one config, the dry run asked
just before each event is processed names the action it records and the lead it touches.

Both call ``worker.ingest.decision.decide``; this property holds them to it end to end (mapping,
reference checks, matching, the metadata cap, the database's own answers) on the real test
database, with the pipeline called in-process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Lead
from models.enums import MATCH_KEYS, Endpoint, EventStatus
from tests.support.database import rolled_back_session
from tests.support.factories import make_tenant
from worker.dry_run import WOULD, WOULD_FAIL, dry_run_payload
from worker.ingest.claims import claim_event, prepare_claim
from worker.ingest.pipeline import process_claim

pytestmark = pytest.mark.fuzz

# Few values per identifier, so that payloads keep meeting the same people.
_PHONES = ["+12127365000", "(415) 555-2671", "202-555-0101"]
_EMAILS = [None, "a@example.com", "B@example.com "]
_EXTERNAL_IDS = [None, "X1", "X2"]
_OPTIONAL_FIELDS: dict[str, list[Any]] = {
    "status": ["CLOSED", "lost", "NEW"],
    "call_dnc": [True, False],
    "us_state": ["CA", "new york"],
    "metadata": [{"k": 1}, {"k": 2}, {"timezone": "Europe/Paris"}],
    "min_reengagement_days": [0, 30],
    "lead_source": ["A", "B"],
}


@st.composite
def _payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    # Mostly with a phone number: without one, only a match can succeed.
    if draw(st.integers(min_value=0, max_value=5)) > 0:
        payload["phone_number"] = draw(st.sampled_from(_PHONES))
    for name, pool in (
        ("email", _EMAILS),
        ("external_id", _EXTERNAL_IDS),
    ):
        value = draw(st.sampled_from(pool))
        if value is not None:
            payload[name] = value
    for name, pool in _OPTIONAL_FIELDS.items():
        if draw(st.booleans()):
            payload[name] = draw(st.sampled_from(pool))
    return payload


# A step is an event (endpoint, payload), the previous event sent again (AGAIN), or days passing
# for every lead (to reach reengagement).
AGAIN = "again"
_events = st.tuples(st.sampled_from([Endpoint.create, Endpoint.upsert]), _payloads())
_steps = st.lists(
    st.one_of(_events, st.just(AGAIN), st.integers(min_value=10, max_value=40)), max_size=8
)
_match_keys = st.permutations(list(MATCH_KEYS)).flatmap(
    lambda keys: st.integers(min_value=1, max_value=len(keys)).map(lambda n: keys[:n])
)


def _age_leads(session: Session, organization_id: int, days: int) -> None:
    shift = dt.timedelta(days=days)
    session.execute(
        update(Lead)
        .where(Lead.organization_id == organization_id)
        .values(
            received_time=Lead.received_time - shift,
            last_reengagement_time=Lead.last_reengagement_time - shift,
        )
    )
    session.expire_all()


def _process(session: Session, config: IngestionConfig, endpoint: Endpoint, body: bytes) -> Any:
    row = IngestionEvent(
        config_id=config.id,
        organization_id=config.organization_id,
        endpoint=endpoint,
        content_type="application/json",
        raw_body=body,
        body_sha256="0" * 64,
    )
    session.add(row)
    session.flush()
    claim = claim_event(session, row.id, lease_seconds=60, max_attempts=8)
    assert claim is not None
    assert process_claim(session, claim, prepare_claim(claim)) is not None
    session.expire_all()
    return session.get(IngestionEvent, row.id)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=os.environ.get("CI", "").lower() == "true",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    match=_match_keys,
    config_days=st.sampled_from([None, 0, 30]),
    steps=_steps,
)
def test_the_dry_run_predicts_each_recorded_action_and_lead(
    engine: Engine, match: list[str], config_days: int | None, steps: list[Any]
) -> None:
    with rolled_back_session(engine) as session:
        tenant = make_tenant(session, match=match, min_reengagement_days=config_days)
        config = session.get(IngestionConfig, tenant.config_id)
        assert config is not None
        known_leads: set[int] = set()
        previous: tuple[Endpoint, dict[str, Any]] | None = None
        for step in steps:
            if isinstance(step, int):
                _age_leads(session, tenant.organization_id, step)
                continue
            if step == AGAIN:
                if previous is None:
                    continue
                step = previous
            endpoint, payload = previous = step
            predicted = dry_run_payload(session, config, payload, endpoint=endpoint.value)
            recorded_event = _process(session, config, endpoint, json.dumps(payload).encode())
            done = recorded_event.status == EventStatus.done
            recorded = WOULD[recorded_event.action] if done else WOULD_FAIL
            event(f"would {recorded}")  # --hypothesis-show-statistics shows what was reached
            assert predicted["would"] == recorded, (payload, predicted, recorded_event.errors)
            if recorded == WOULD_FAIL:
                assert sorted(e["field"] for e in predicted["errors"]) == sorted(
                    e["field"] for e in recorded_event.errors
                )
            elif recorded == "create":
                assert predicted["lead_id"] is None and recorded_event.lead_id not in known_leads
            else:
                assert predicted["lead_id"] == recorded_event.lead_id
                assert predicted["matched_by"] == recorded_event.matched_by
            if recorded_event.lead_id is not None:
                known_leads.add(recorded_event.lead_id)
