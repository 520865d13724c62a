"""B3 contention: as B2, with 30% of the events aimed at 50 hot leads; leads/s and I1-I4."""

from __future__ import annotations

from typing import Any

from bench.end_to_end import PipelinePlan, run_pipeline_load
from bench.invariants import check_invariants
from bench.payloads import build_stream
from bench.stack import Servers


def run(servers: Servers, plan: PipelinePlan, hot_leads: int = 50) -> dict[str, Any]:
    """Post the contended stream, wait for it, and check the invariants on what it left."""
    stream = build_stream(
        plan.events, update_share=0.0, hot_share=plan.hot_share, hot_leads=hot_leads, seed=3
    )
    result, database, tenant = run_pipeline_load(servers, "b3", stream, plan)
    try:
        verdicts = check_invariants(
            database.url, tenant.organization_id, result["posted"]["ok"], stream.persons
        )
    finally:
        database.drop()
    result["hot_leads"] = stream.hot_persons
    result["hot_share"] = plan.hot_share
    result["invariants"] = {name: verdict.as_dict() for name, verdict in verdicts.items()}
    result["invariants_hold"] = all(verdict.holds for verdict in verdicts.values())
    return result
