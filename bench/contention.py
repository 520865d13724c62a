"""B3 contention: as B2, with 30% of the events aimed at 50 hot leads; leads/s and I1-I4.

The invariants are checked by the checker the fault-injection tests use
(``tests.support.invariants``): every posted event becomes a ``SentRequest`` with the webhook's
answer and the email and loan amount it sets, every person a ``Person`` with the identifiers
their lead must carry.
"""

from __future__ import annotations

import json
import os
from typing import Any

from bench.end_to_end import PipelinePlan, run_pipeline_load
from bench.load import Answer
from bench.payloads import Stream, build_stream, stored_fields, stored_identifiers
from bench.stack import Servers
from common.settings import load_settings
from tests.support.invariants import Person, SentRequest, Verdict, check_invariants

INVARIANTS = ("I1", "I2", "I3", "I4")


def checker_inputs(stream: Stream, answers: list[Answer]) -> tuple[list[SentRequest], list[Person]]:
    """The stream as the checker sees it: one request per event, one person per person key."""
    requests: list[SentRequest] = []
    persons: dict[str, Person] = {}
    for event, answer in zip(stream.events, answers, strict=True):
        payload = json.loads(event.body)
        final = answer.statuses[-1]
        requests.append(
            SentRequest(
                person=event.person_key,
                endpoint="upsert",
                body=payload,
                checked=stored_fields(payload),
                # The benchmark sends no Idempotency-Key: it measures the plain upsert.
                idempotency_key="",
                status_code=final or None,
                event_id=answer.event_id,
                tries=len(answer.statuses),
                answers=[str(status) if status else "socket error" for status in answer.statuses],
            )
        )
        if event.person_key not in persons:
            # Upserts only, never a create with min_reengagement_days: nothing may re-engage.
            persons[event.person_key] = Person(
                event.person_key, stored_identifiers(payload), reengagements=0
            )
    return requests, list(persons.values())


def summarize(verdict: Verdict) -> dict[str, dict[str, Any]]:
    """Each invariant's ``holds`` and ``detail``: what was checked, and its first violations."""
    counts = verdict.counts
    actions = ", ".join(f"{name}={n}" for name, n in sorted(counts["by_action"].items()))
    statuses = ", ".join(f"{name}={n}" for name, n in sorted(counts["by_status"].items()))
    checked = {
        "I1": f"{counts['accepted']} of {counts['sent']} posts accepted ({counts['resends']}"
        f" resends), {counts['events']} events stored: {statuses}",
        "I2": f"{counts['leads']} leads for {counts['persons']} persons",
        "I3": f"newest email and loan amount, and last_event_seq, of {counts['leads']} leads;"
        f" actions {actions}",
        "I4": f"one created event per lead, no reengagement, attempts at most"
        f" {counts['max_attempts_seen']}",
    }
    verdicts: dict[str, dict[str, Any]] = {}
    for name in INVARIANTS:
        broken = [line for line in verdict.violations if line.startswith(f"{name}:")]
        detail = checked[name]
        if broken:
            detail += f"; {len(broken)} violations, e.g. {broken[0]}"
        verdicts[name] = {"holds": not broken, "detail": detail}
    return verdicts


def check(
    database_url: str,
    organization_id: int,
    stream: Stream,
    answers: list[Answer],
    max_attempts: int,
) -> dict[str, Any]:
    """Check I1-I4 on what the stream left in the organization; the report's part of it."""
    requests, persons = checker_inputs(stream, answers)
    verdict = check_invariants(database_url, organization_id, requests, persons, max_attempts)
    return {
        "invariants": summarize(verdict),
        "invariants_hold": verdict.ok,
        "invariant_counts": verdict.counts,
        # The table shows the first violation of each invariant, the JSON file a hundred.
        "invariant_violations": verdict.violations[:100],
    }


def run(servers: Servers, plan: PipelinePlan, hot_leads: int = 50) -> dict[str, Any]:
    """Post the contended stream, wait for it, and check the invariants on what it left."""
    stream = build_stream(
        plan.events, update_share=0.0, hot_share=plan.hot_share, hot_leads=hot_leads, seed=3
    )
    pipeline = run_pipeline_load(servers, "b3", stream, plan)
    result, database = pipeline.result, pipeline.database
    try:
        # The attempt limit the worker runs with: it inherits this process's environment.
        env = {**os.environ, "DATABASE_URL": database.url, "REDIS_URL": servers.redis_url}
        max_attempts = load_settings(env).task_max_attempts
        checked = check(
            database.url, pipeline.tenant.organization_id, stream, pipeline.answers, max_attempts
        )
    finally:
        database.drop()
    result["hot_leads"] = stream.hot_persons
    result["hot_share"] = plan.hot_share
    result.update(checked)
    return result
