"""Fan-in quarantine as a pure rule, and as decide applies it."""

from __future__ import annotations

import datetime as dt

from models import IngestionConfig, Lead
from models.enums import Endpoint, EventAction
from worker.ingest.decision import EventOrder, decide
from worker.ingest.fan_in import FanIn, FanInRule, judge_fan_in
from worker.ingest.matching import LeadsInPlay
from worker.ingest.types import PreparedLead

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
PHONE = "+12024561111"


def _fan_in(count: int, age_days: int = 1) -> FanIn:
    when = NOW - dt.timedelta(days=age_days)
    return FanIn(("phone_number", PHONE, f"x-{i}", when) for i in range(count))


def test_the_claim_over_the_limit_quarantines() -> None:
    values = {"external_id": "new", "phone_number": PHONE}
    below = judge_fan_in(values, _fan_in(4), FanInRule(), NOW)
    assert below.match_values == values and not below.quarantined and not below.warnings
    assert below.claims == [("phone_number", PHONE, "new")]
    over = judge_fan_in(values, _fan_in(5), FanInRule(), NOW)
    assert "phone_number" not in over.match_values
    assert over.quarantined == [("phone_number", PHONE, 6)]
    assert "now quarantined: 6 distinct external ids" in over.warnings[0]["reason"]
    assert PHONE not in over.warnings[0]["reason"]


def test_a_claimant_counts_once_and_old_claims_do_not_count() -> None:
    values = {"external_id": "x-0", "phone_number": PHONE}
    assert not judge_fan_in(values, _fan_in(5), FanInRule(), NOW).quarantined
    old = judge_fan_in({**values, "external_id": "new"}, _fan_in(5, 40), FanInRule(), NOW)
    assert not old.quarantined
    short = judge_fan_in({**values, "external_id": "new"}, _fan_in(2), FanInRule(2, 7), NOW)
    assert short.quarantined == [("phone_number", PHONE, 3)]


def test_a_quarantined_identifier_never_matches_even_without_an_external_id() -> None:
    fan_in = FanIn(quarantined=[("email", "desk@acme.io")])
    verdict = judge_fan_in({"email": "desk@acme.io"}, fan_in, FanInRule(), NOW)
    assert verdict.match_values == {} and not verdict.claims
    assert "quarantined" in verdict.warnings[0]["reason"]


def test_rule_defaults() -> None:
    assert FanInRule.of(None, None) == FanInRule(5, 30)
    assert FanInRule.of(2, 7) == FanInRule(2, 7)


def test_decide_creates_rather_than_matching_through_a_quarantined_phone() -> None:
    config = IngestionConfig(
        organization_id=1, campaign_id=1, name="c", mapping={},
        match_keys=["external_id", "phone_number", "email"], standard_api=False,
    )  # fmt: skip
    lead = Lead(id=7, organization_id=1, phone_number=PHONE, modified_time=NOW, lead_metadata={})
    prepared = PreparedLead(values={"phone_number": PHONE})
    order = EventOrder(NOW)
    plain = decide(prepared, LeadsInPlay([lead]), config, Endpoint.upsert, order)
    assert plain.lead is lead
    fan_in = FanIn(quarantined=[("phone_number", PHONE)])
    guarded = decide(prepared, LeadsInPlay([lead]), config, Endpoint.upsert, order, fan_in=fan_in)
    assert guarded.action == EventAction.created and guarded.lead is None
    assert guarded.values["phone_number"] == PHONE  # still stored on the new lead


def test_a_create_is_no_duplicate_when_its_email_is_quarantined() -> None:
    config = IngestionConfig(
        organization_id=1, campaign_id=1, name="c", mapping={},
        match_keys=["external_id", "phone_number", "email"], standard_api=False,
    )  # fmt: skip
    lead = Lead(
        id=8, organization_id=1, phone_number=PHONE, email="desk@acme.io", modified_time=NOW,
        lead_metadata={},
    )  # fmt: skip
    prepared = PreparedLead(values={"phone_number": PHONE, "email": "desk@acme.io"})
    order = EventOrder(NOW)
    assert decide(prepared, LeadsInPlay([lead]), config, Endpoint.create, order).lead is lead
    fan_in = FanIn(quarantined=[("email", "desk@acme.io")])
    guarded = decide(prepared, LeadsInPlay([lead]), config, Endpoint.create, order, fan_in=fan_in)
    assert guarded.action == EventAction.created
    skipped = {key.key: key.skipped for key in guarded.explanation}
    assert skipped["phone_number"] is not None and "quarantined" in skipped["phone_number"]


def test_a_test_event_sees_quarantines_but_claims_nothing() -> None:
    values = {"external_id": "new", "phone_number": PHONE}
    over = judge_fan_in(values, _fan_in(5), FanInRule(), NOW, claiming=False)
    # The real claims would have quarantined the phone; a test event adds nothing to them.
    assert over.match_values == values and not over.claims and not over.quarantined
    fan_in = FanIn(quarantined=[("phone_number", PHONE)])
    held = judge_fan_in(values, fan_in, FanInRule(), NOW, claiming=False)
    assert "phone_number" not in held.match_values and not held.claims


def test_decide_for_a_test_event_matches_only_test_leads_and_claims_nothing() -> None:
    config = IngestionConfig(
        organization_id=1, campaign_id=1, name="c", mapping={},
        match_keys=["external_id", "phone_number", "email"], standard_api=False,
    )  # fmt: skip
    real = Lead(id=7, organization_id=1, phone_number=PHONE, modified_time=NOW, lead_metadata={})
    test = Lead(
        id=9, organization_id=1, phone_number=PHONE, modified_time=NOW - dt.timedelta(days=1),
        lead_metadata={}, is_test=True,
    )  # fmt: skip
    prepared = PreparedLead(values={"phone_number": PHONE, "external_id": "t-1"})
    order = EventOrder(NOW)
    leads = LeadsInPlay([real, test])
    decided = decide(
        prepared, leads, config, Endpoint.upsert, order, fan_in=_fan_in(0), is_test=True
    )
    assert decided.lead is test and not decided.claims
    by_phone = next(key for key in decided.explanation if key.key == "phone_number")
    reasons = {candidate.lead.id: candidate.reason for candidate in by_phone.candidates}
    assert reasons[7].startswith("test:") and "the most recent" in reasons[9]
    real_event = decide(prepared, leads, config, Endpoint.upsert, order, fan_in=_fan_in(0))
    assert real_event.lead is real and real_event.claims
