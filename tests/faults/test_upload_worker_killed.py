"""Scenario: the worker importing a file is SIGKILLed mid-file, twice.

The import resumes from its last committed chunk (the uploads sweeper restarts it once it has
been silent for the lease), and the rows of the chunk that was cut short find their events by
their keys: every row ends applied once, one lead per person, each lead at its last row.
"""

from __future__ import annotations

import csv
import random
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionEvent, Upload
from tests.faults.conftest import FaultStack, ScenarioReport, kill_worker_and_child
from tests.support.invariants import SentRequest, check_invariants, engine_for
from tests.support.workload import make_person, person_body
from worker.uploads.csv_rows import inspect_file
from worker.uploads.row_events import row_key
from worker.uploads.service import accept_file, claim_signed_url, create_upload
from worker.uploads.storage import receive_file, upload_path

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

PERSONS = 600
ROWS_PER_PERSON = 4
KILLS = 2


def _write_file(path: Path) -> list[SentRequest]:
    """Each person's rows spread through the file, in step order; what each row sets."""
    rng = random.Random(7)
    persons = [make_person("U", index) for index in range(PERSONS)]
    order = [(person, step) for step in range(ROWS_PER_PERSON) for person in persons]
    rows: list[SentRequest] = []
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["phone_number", "email", "external_id", "lead_source"])
        for person, step in order:
            body = person_body(person, rng, with_external_id=True)
            source = f"{person.key}/s{step}"
            writer.writerow([body["phone_number"], body["email"], body["external_id"], source])
            rows.append(
                SentRequest(person=person.key, endpoint="upsert", body=body,
                            checked={"lead_source": source})
            )  # fmt: skip
    return rows


def _upload(stack: FaultStack, config_id: uuid.UUID, organization_id: int, file: Path) -> Upload:
    upload_dir = Path(stack.env()["LEADGATE_HOME"]) / "uploads"
    engine = engine_for(stack.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            upload = create_upload(session, organization_id, str(config_id), file.name)
            claim_signed_url(session, upload.id)
            with file.open("rb") as stream:
                received = receive_file(stream, upload_path(upload_dir, upload.id), 10**9)
            accept_file(session, upload, received, inspect_file(upload_path(upload_dir, upload.id)))
            session.commit()
            return upload
    finally:
        engine.dispose()


def _state(stack: FaultStack, upload_id: uuid.UUID) -> Upload:
    engine = engine_for(stack.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            upload = session.get(Upload, upload_id)
            assert upload is not None
            return upload
    finally:
        engine.dispose()


def _wait(stack: FaultStack, upload_id: uuid.UUID, done: int, timeout: float) -> Upload:
    deadline = time.monotonic() + timeout
    while True:
        upload = _state(stack, upload_id)
        if upload.rows_done >= done or upload.status.value in ("done", "failed"):
            return upload
        assert time.monotonic() < deadline, f"upload at {upload.rows_done} rows after {timeout} s"
        time.sleep(0.2)


def _record_events(
    stack: FaultStack, config_id: uuid.UUID, sha256: str, rows: list[SentRequest]
) -> int:
    keys = {row_key(sha256, number): row for number, row in enumerate(rows, start=1)}
    engine = engine_for(stack.database_url)
    try:
        with Session(engine) as session:
            found = session.execute(
                select(IngestionEvent.id, IngestionEvent.idempotency_key).where(
                    IngestionEvent.config_id == config_id
                )
            ).all()
    finally:
        engine.dispose()
    for event in found:
        row = keys[event.idempotency_key]
        row.event_id, row.status_code = str(event.id), 202
    return len(found)


def test_a_worker_killed_mid_file_applies_every_row_once(
    stack: FaultStack, scenario_report: ScenarioReport, tmp_path: Path
) -> None:
    tenant = stack.tenant()
    file = tmp_path / "leads.csv"
    rows = _write_file(file)
    stack.beat()
    worker = stack.worker("upload-0", concurrency=2)
    upload = _upload(stack, tenant.config_id, tenant.organization_id, file)
    client = Celery("fault-test", broker=stack.servers.redis.url)
    try:
        client.send_task("leadgate.import_upload", args=[str(upload.id)], queue="ingest")
    finally:
        client.close()

    killed_at: list[int] = []
    for kill in range(1, KILLS + 1):
        # Kill it once a chunk or more has committed and the next one is under way.
        reached = _wait(stack, upload.id, done=kill * 700, timeout=120)
        assert reached.status.value == "processing", "the file was imported before the kill"
        killed_at.append(reached.rows_done)
        kill_worker_and_child(worker)
        worker = stack.worker(f"upload-{kill}", concurrency=2)
    finished = _wait(stack, upload.id, done=len(rows) + 1, timeout=300)

    assert finished.status.value == "done", finished.failure_reason
    assert finished.rows_done == len(rows) == finished.rows_total
    assert finished.rows_failed == 0
    assert sum(finished.actions.values()) == len(rows)
    assert finished.sha256 is not None
    assert _record_events(stack, tenant.config_id, finished.sha256, rows) == len(rows)
    persons = [make_person("U", index) for index in range(PERSONS)]
    verdict = check_invariants(stack.database_url, tenant.organization_id, rows, persons)
    scenario_report.figures.update(
        rows=len(rows), killed_at_rows=killed_at, actions=finished.actions
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert verdict.counts["leads"] == PERSONS
