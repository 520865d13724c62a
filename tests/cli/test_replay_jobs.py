"""``leadgate replay --plan`` and ``--job``, ``replay show`` and ``replay cancel``."""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import IngestionEvent, ReplayJob
from models.enums import EventStatus
from models.replay_job import ReplayJobStatus
from tests.cli.conftest import Invoke, only_line, process_env
from tests.cli.test_process import LEADGATE
from tests.support.factories import make_event, make_events_in_bulk, make_replay_job, make_tenant
from tests.support.processes import ServiceProcess
from tests.support.services import ServiceUrls


def _statuses(session: Session, config_id: uuid.UUID) -> dict[EventStatus, int]:
    session.expire_all()
    rows = session.execute(
        select(IngestionEvent.status, func.count())
        .where(IngestionEvent.config_id == config_id)
        .group_by(IngestionEvent.status)
    )
    return {status: count for status, count in rows}


def test_the_plan_is_printed_and_changes_nothing(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    make_event(committed_session, tenant, {"phone_number": "202-456-1111"}, status=EventStatus.dead)
    # The worker kept the parsed copy that payload filters search when it first read the body.
    body = {"email": "a@example.com"}
    make_event(committed_session, tenant, body, status=EventStatus.failed, payload=body)
    committed_session.commit()
    config = ("--config", str(tenant.config_id))

    text = invoke("replay", "--plan", *config).stdout
    plan = json.loads(invoke("replay", "--plan", "--json", *config).stdout)

    assert "2 events would be replayed:" in text
    assert "create     1" in text and "fail       1" in text
    assert "would fail on phone_number: 1" in text
    assert plan["count"] == 2
    assert plan["by_action"]["create"] == plan["by_action"]["fail"] == 1
    only_dead = json.loads(invoke("replay", "--plan", "--json", "--status", "dead", *config).stdout)
    assert only_dead["count"] == 1
    by_payload = json.loads(
        invoke(
            "replay", "--plan", "--json", "--org", str(tenant.organization_id),
            "--payload-contains", '{"email": "a@example.com"}',
        ).stdout
    )  # fmt: skip
    assert [entry["would"] for entry in by_payload["sample"]] == ["fail"]
    assert _statuses(committed_session, tenant.config_id) == {
        EventStatus.dead: 1,
        EventStatus.failed: 1,
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--plan", "--lead", "abc"), "--lead: not an integer"),
        (("--plan", "--status", "failed", "--endpoint", "nowhere"), "--endpoint: one of"),
        (("--plan", "--payload-contains", "[1]"), "--payload-contains: must be a JSON object"),
        (("--plan", "--action", "created"), "give --org or --config"),
        (("--plan", "--job"), "give one of them"),
        (("--lead", "5"), "are for --plan and --job"),
    ],
)
def test_bad_plan_or_job_options_are_usage_errors(
    invoke: Invoke, committed_session: Session, args: tuple[str, ...], words: str
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    config = ("--config", str(tenant.config_id)) if "--lead" in args or "--endpoint" in args else ()

    refused = invoke("replay", *args, *config, exit_code=2)

    assert words in refused.stderr


@pytest.mark.integration
def test_a_job_is_followed_to_its_end(
    invoke: Invoke, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session)
    bodies = [{"phone_number": f"+1202555{n:04d}"} for n in range(300)]
    make_events_in_bulk(committed_session, tenant, bodies, status=EventStatus.dead)
    committed_session.commit()

    result = invoke("replay", "--job", "--config", str(tenant.config_id))

    job_id = only_line(result)
    assert "replay job" in result.stderr and "done: 300 of 300 events" in result.stderr
    assert "create     300" in result.stderr
    assert _statuses(committed_session, tenant.config_id) == {EventStatus.done: 300}
    shown = json.loads(invoke("replay", "show", job_id).stdout)
    assert shown["status"] == "done" and shown["by_action"] == {"create": 300}
    assert shown["started_by"].startswith("cli")
    again = invoke("replay", "--job", "--config", str(tenant.config_id))
    assert "done: 0 of 0 events" in again.stderr


def test_show_and_cancel_a_job(invoke: Invoke, committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    job = make_replay_job(committed_session, tenant)
    finished = make_replay_job(committed_session, tenant, status=ReplayJobStatus.done)
    committed_session.commit()

    cancelled = invoke("replay", "cancel", str(job.id))

    assert "cancelled after 0 of 0 events" in cancelled.stderr
    assert json.loads(invoke("replay", "show", str(job.id)).stdout)["status"] == "cancelled"
    assert (
        "is done; nothing to cancel"
        in invoke("replay", "cancel", str(finished.id), exit_code=1).stderr
    )
    assert "no replay job" in invoke("replay", "show", str(uuid.uuid4()), exit_code=1).stderr


def test_ctrl_c_detaches_from_a_job_without_cancelling_it(
    services: ServiceUrls, committed_session: Session, tmp_path: Path
) -> None:
    tenant = make_tenant(committed_session)
    bodies = [{"phone_number": f"+1202555{n:04d}"} for n in range(2000)]
    make_events_in_bulk(committed_session, tenant, bodies, status=EventStatus.dead)
    committed_session.commit()
    command = [LEADGATE, "replay", "--job", "--config", str(tenant.config_id)]
    env = process_env(tmp_path, services)
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stderr is not None and child.stdout is not None
        started = child.stderr.readline()
        assert "started" in started, started
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)

    assert child.returncode == 0, stderr
    job_id = stdout.strip()
    assert f"leadgate replay show {job_id}" in stderr
    assert f"leadgate replay cancel {job_id}" in stderr
    committed_session.expire_all()
    job = committed_session.get(ReplayJob, uuid.UUID(job_id))
    assert job is not None and job.status != ReplayJobStatus.cancelled
    # Another test's worker may finish it later; left running, it stops at its next chunk.
    committed_session.execute(
        update(ReplayJob)
        .where(ReplayJob.id == job.id, ReplayJob.status == ReplayJobStatus.running)
        .values(status=ReplayJobStatus.cancelled)
    )
    committed_session.commit()
