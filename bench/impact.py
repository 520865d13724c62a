"""B6 impact report: how long the report on a candidate mapping takes over a 200-event sample.

The sample is real: 200 nested payloads (150 new persons, 50 updates of persons sent earlier)
put in the inbox and run through the worker's own pipeline in this process, so each event is
done with its action, mapping version and parsed payload, and its leads exist. The candidate
mapping changes a type and adds a field, so the report compares values field by field for every
event. It is timed several times; the first run includes compiling the mappings. Beside it, in
the same run, the plain read of the same 200 events: the report's cost over the read it cannot
avoid.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session

from bench.payloads import NESTED_MAPPING, create_tenant, person_payload
from bench.stack import Servers, create_database

TARGET_SECONDS = 2.0


@dataclass
class ImpactPlan:
    """The sample's size and how many times the report is timed."""

    sample: int = 200
    repeats: int = 7


def _candidate() -> dict[str, Any]:
    fields = dict(NESTED_MAPPING["fields"])
    fields["metadata.loan_amount"] = {"from": "loan.amount", "type": "integer"}
    fields["metadata.utm_source"] = "tracking.utm_source"
    return {**NESTED_MAPPING, "fields": fields}


def _fill_inbox(session: Session, organization_id: int, config_id: uuid.UUID, size: int) -> None:
    """Post ``size`` events straight into the inbox and process them with the worker's pipeline."""
    from models import IngestionEvent
    from models.enums import Endpoint, EventStatus
    from worker.ingest.claims import claim_events, prepare_claim
    from worker.ingest.pipeline import process_claims

    updates = size // 4
    bodies = [person_payload(f"p{n}", n, 0, "b6") for n in range(size - updates)]
    bodies += [person_payload(f"p{n}", n, 1, "b6") for n in range(updates)]
    rows = [
        {
            "id": uuid.uuid4(),
            "config_id": config_id,
            "organization_id": organization_id,
            "endpoint": Endpoint.upsert,
            "content_type": "application/json",
            "raw_body": json.dumps(body).encode(),
            "body_sha256": "0" * 64,
            "status": EventStatus.queued,
        }
        for body in bodies
    ]
    session.execute(insert(IngestionEvent), rows)
    session.commit()
    ids = session.scalars(
        select(IngestionEvent.id).where(IngestionEvent.config_id == config_id).order_by("seq")
    ).all()
    for event_id in ids:
        claims = claim_events(session, event_id, lease_seconds=120, max_attempts=5, batch_size=32)
        if claims:
            process_claims(session, [(claim, prepare_claim(claim)) for claim in claims])
            session.commit()


def _timed(call: Any, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def run(servers: Servers, plan: ImpactPlan) -> dict[str, Any]:
    """Run B6 on a fresh database; the report's timings and the plain read's beside them."""
    from models import IngestionConfig, IngestionEvent
    from worker.mapping_impact import mapping_impact

    database = create_database(servers, "b6")
    engine = create_engine(database.sqlalchemy_url)
    try:
        tenant = create_tenant(database.sqlalchemy_url)
        with Session(engine) as session:
            _fill_inbox(session, tenant.organization_id, tenant.config_id, plan.sample)
            config = session.get(IngestionConfig, tenant.config_id)
            assert config is not None
            candidate = _candidate()
            report = mapping_impact(session, config, candidate, plan.sample)

            def read_sample() -> None:
                session.expire_all()
                list(
                    session.scalars(
                        select(IngestionEvent)
                        .where(IngestionEvent.config_id == config.id)
                        .order_by(IngestionEvent.seq.desc())
                        .limit(plan.sample)
                    )
                )

            def impact() -> None:
                session.expire_all()
                mapping_impact(session, config, candidate, plan.sample)

            report_seconds = _timed(impact, plan.repeats)
            read_seconds = _timed(read_sample, plan.repeats)
    finally:
        engine.dispose()
        database.drop()
    median = statistics.median(report_seconds)
    read_median = statistics.median(read_seconds)
    return {
        "sample": report["sample"],
        "changed_fields": report["changed_fields"],
        "report_seconds": [round(value, 4) for value in report_seconds],
        "report_median_s": round(median, 4),
        "report_max_s": round(max(report_seconds), 4),
        "read_median_s": round(read_median, 4),
        "report_over_read": round(median / read_median, 1) if read_median else None,
        "target_s": TARGET_SECONDS,
    }
