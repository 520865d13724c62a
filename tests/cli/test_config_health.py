"""``leadgate config stats|hold|release`` and ``config update --hold-on-drift``."""

from __future__ import annotations

import json
import time
import uuid

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, QuarantinedIdentifier, ReplayJob
from models.enums import EventAction, EventStatus
from models.replay_job import ReplayJobStatus
from tests.cli.conftest import Invoke, only_line
from tests.support.factories import Tenant, make_event, make_tenant
from tests.support.processes import ServiceProcess
from worker.configs import Author
from worker.release_jobs import start_release


def _tenant(engine: Engine) -> Tenant:
    with Session(engine) as session:
        tenant = make_tenant(session, {"fields": {"phone_number": "contact.phone"}})
        session.commit()
    return tenant


def test_hold_on_drift_is_set_and_cleared_by_update(invoke: Invoke, engine: Engine) -> None:
    tenant = _tenant(engine)
    config_id = str(tenant.config_id)
    invoke("config", "update", config_id, "--hold-on-drift")
    assert json.loads(invoke("config", "show", config_id).stdout)["hold_on_drift"] is True
    invoke("config", "update", config_id, "--no-hold-on-drift")
    assert json.loads(invoke("config", "show", config_id).stdout)["hold_on_drift"] is False


def test_hold_then_release_runs_the_held_events_in_a_job(
    invoke: Invoke, engine: Engine, celery_worker: ServiceProcess
) -> None:
    tenant = _tenant(engine)
    config_id = str(tenant.config_id)
    assert "is held now" in invoke("config", "hold", config_id).stderr
    assert "was held already" in invoke("config", "hold", config_id).stderr
    with Session(engine) as session:
        held = [
            make_event(session, tenant, {"contact": {"phone": f"20245611{n:02d}"}},
                       status=EventStatus.held).id
            for n in range(2)
        ]  # fmt: skip
        session.commit()

    released = invoke("config", "release", config_id)

    job_id = uuid.UUID(only_line(released))
    assert f"releasing config {config_id}: job {job_id} runs 2 held events" in released.stderr
    assert f"leadgate replay show {job_id}" in released.stderr
    deadline = time.monotonic() + 60
    with Session(engine) as session:
        while (job := session.get_one(ReplayJob, job_id)).status == ReplayJobStatus.running:
            assert time.monotonic() < deadline, "the release job did not finish"
            time.sleep(0.1)
            session.expire_all()
        assert (job.status, job.done) == (ReplayJobStatus.done, 2)
        assert session.get_one(IngestionConfig, tenant.config_id).held is False
        statuses = {session.get_one(IngestionEvent, event_id).status for event_id in held}
    assert statuses == {EventStatus.done}


def test_stats_prints_the_windows_counts(invoke: Invoke, engine: Engine) -> None:
    tenant = _tenant(engine)
    with Session(engine) as session:
        make_event(session, tenant, status=EventStatus.done, action=EventAction.created)
        errors = [{"field": "phone_number", "message": "required"}]
        make_event(session, tenant, status=EventStatus.failed, errors=errors)
        session.commit()

    stats = json.loads(invoke("config", "stats", str(tenant.config_id), "--window", "1h").stdout)

    assert (stats["window"], stats["accepted"], stats["created"], stats["failed"]) == (
        "1h", 2, 1, 1,
    )  # fmt: skip
    assert stats["failed_by_field"] == {"phone_number": 1}
    assert [path["path"] for path in stats["paths"]] == ["contact.phone"]
    refused = invoke("config", "stats", str(tenant.config_id), "--window", "2h", exit_code=2)
    assert "'2h' is not one of '1h', '24h', '7d'" in refused.stderr


def test_stats_show_the_quarantine_masked(invoke: Invoke, engine: Engine) -> None:
    tenant = _tenant(engine)
    with Session(engine) as session:
        session.add(
            QuarantinedIdentifier(
                organization_id=tenant.organization_id, kind="email", value="desk@acme.io",
                claimants=7,
            )
        )  # fmt: skip
        session.commit()

    shown = invoke("config", "stats", str(tenant.config_id), "--window", "1h").stdout

    quarantine = json.loads(shown)["quarantine"]
    assert (quarantine["identifiers"], quarantine["warned_events"]) == (1, 0)
    [entry] = quarantine["latest"]
    assert (entry["kind"], entry["claimants"]) == ("email", 7)
    # An operator's terminal (and its scrollback) gets the masked form only.
    assert "desk@acme.io" not in shown and "value" not in entry
    assert "d•••@acme.io" in entry["masked"]


def test_holding_again_during_a_release_cancels_it(invoke: Invoke, engine: Engine) -> None:
    tenant = _tenant(engine)
    config_id = str(tenant.config_id)
    invoke("config", "hold", config_id)
    with Session(engine) as session:
        config = session.get_one(IngestionConfig, tenant.config_id, with_for_update=True)
        job, _ = start_release(session, config, Author.cli_user(), abandoned_after_seconds=120)
        job_id = job.id
        session.commit()

    held = invoke("config", "hold", config_id)

    assert f"release job {job_id} cancelled" in held.stderr
    with Session(engine) as session:
        assert session.get_one(ReplayJob, job_id).status == ReplayJobStatus.cancelled
        assert session.get_one(IngestionConfig, tenant.config_id).held is True
