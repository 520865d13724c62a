"""Replays with a plan, through HTTP with a real worker: the plan, jobs, progress, cancelling."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead, ReplayJob
from models.enums import EventAction, EventStatus
from tests.support.factories import Tenant, make_event, make_events_in_bulk, make_tenant
from tests.support.leads import make_lead
from tests.support.processes import ServiceProcess
from worker.replay_jobs import CHUNK_SIZE

BASE = "/api/replays/"


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _post(client: FlaskClient, tenant: Tenant, body: Any) -> Any:
    return client.post(BASE, json=body, headers=_auth(tenant))


def _follow(client: FlaskClient, tenant: Tenant, job_id: str, timeout: float = 60.0) -> Any:
    """Poll a job until it is no longer running; fail the test if it runs past ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"{BASE}{job_id}/", headers=_auth(tenant)).get_json()
        if job["status"] != "running":
            return job
        assert time.monotonic() < deadline, f"replay job still running after {timeout} s: {job}"
        time.sleep(0.1)


def _statuses(session: Session, tenant: Tenant) -> dict[EventStatus, int]:
    session.expire_all()
    rows = session.execute(
        select(IngestionEvent.status, func.count())
        .where(IngestionEvent.config_id == tenant.config_id)
        .group_by(IngestionEvent.status)
    )
    return {status: count for status, count in rows}


def _lead_count(session: Session, tenant: Tenant) -> int:
    statement = select(func.count()).where(Lead.organization_id == tenant.organization_id)
    return session.scalar(statement) or 0


@pytest.fixture
def mixed(committed_session: Session, tenant: Tenant) -> dict[str, Any]:
    """Failed and dead events that would create, update, go stale and fail, oldest first."""
    session = committed_session
    older = make_lead(session, tenant, phone_number="+12024561111", email="old@example.com")
    plain = make_lead(session, tenant, phone_number="+12024562222")
    failed = EventStatus.failed
    made = {
        "stale": make_event(
            session, tenant, {"phone_number": "202-456-1111", "lead_source": "late"}, status=failed
        ),
        "update": make_event(
            session, tenant, {"phone_number": "202-456-2222", "lead_source": "fixed"}, status=failed
        ),
        "create": make_event(session, tenant, {"phone_number": "202-456-3333"}, status=failed),
        # The same person again: the lead the replay creates just before is the one it updates.
        "update_created": make_event(
            session,
            tenant,
            {"phone_number": "202-456-3333", "email": "new@example.com"},
            status=EventStatus.dead,
        ),
        "fail": make_event(session, tenant, {"email": "nobody@example.com"}, status=failed),
    }
    # A newer event already applied to the older lead: replaying the one before it is stale.
    newer = make_event(
        session,
        tenant,
        {"phone_number": "202-456-1111"},
        status=EventStatus.done,
        action=EventAction.updated,
        lead_id=older.id,
    )
    older.last_event_seq = newer.seq
    session.commit()
    return {"events": made, "older": older, "plain": plain}


@pytest.mark.integration
def test_the_plan_counts_what_the_replay_then_does(
    client: FlaskClient,
    committed_session: Session,
    tenant: Tenant,
    mixed: dict[str, Any],
    celery_worker: ServiceProcess,
) -> None:
    before = _statuses(committed_session, tenant)

    answer = _post(client, tenant, {"filter": {"config": str(tenant.config_id)}, "plan": True})

    assert answer.status_code == 200, answer.get_json()
    plan = answer.get_json()
    assert plan["count"] == 5
    predicted = {verb: count for verb, count in plan["by_action"].items() if count}
    assert predicted == {"create": 1, "update": 2, "stale": 1, "fail": 1}
    assert plan["failed_fields"] == {"phone_number": 1}
    by_event = {entry["event"]: entry for entry in plan["sample"]}
    events = mixed["events"]
    assert by_event[str(events["stale"].id)]["would"] == "stale"
    assert by_event[str(events["stale"].id)]["lead_id"] == mixed["older"].id
    assert by_event[str(events["update"].id)]["fields"]["lead_source"] == "fixed"
    assert by_event[str(events["create"].id)]["fields"]["phone_number"] == "+12024563333"
    assert by_event[str(events["update_created"].id)]["would"] == "update"
    assert by_event[str(events["fail"].id)]["errors"][0]["field"] == "phone_number"
    # Nothing changed: no event moved, no job was started.
    assert _statuses(committed_session, tenant) == before
    assert client.get(BASE, headers=_auth(tenant)).get_json()["count"] == 0

    started = _post(client, tenant, {"filter": {"config": str(tenant.config_id)}})

    assert started.status_code == 202, started.get_json()
    assert started.get_json()["status"] == "running"
    assert started.get_json()["total"] == 5
    assert started.headers["Location"].endswith(f"{BASE}{started.get_json()['id']}/")
    job = _follow(client, tenant, started.get_json()["id"])
    assert job["status"] == "done"
    assert job["done"] == job["total"] == 5
    assert job["by_action"] == predicted
    assert job["failed_fields"] == {"phone_number": 1}
    assert job["finished_time"] is not None
    committed_session.expire_all()
    stale = committed_session.get(IngestionEvent, events["stale"].id)
    assert stale is not None and stale.action == EventAction.stale
    assert _lead_count(committed_session, tenant) == 3


@pytest.mark.integration
# The 10,000 events: about 20 s on a quiet machine, over 2 minutes on a busy shared one.
@pytest.mark.timeout(900)
def test_a_replay_of_many_dead_events_runs_to_the_end_and_a_second_run_changes_nothing(
    client: FlaskClient,
    committed_session: Session,
    tenant: Tenant,
    celery_worker: ServiceProcess,
) -> None:
    many = 10_000
    bodies = [{"phone_number": f"+1202555{n:04d}", "lead_source": "bulk"} for n in range(many)]
    make_events_in_bulk(committed_session, tenant, bodies, status=EventStatus.dead, attempts=5)
    committed_session.commit()
    replay = {"filter": {"config": str(tenant.config_id), "status": ["dead"]}}

    first = _post(client, tenant, replay)

    assert first.status_code == 202, first.get_json()
    assert first.get_json()["total"] == many
    job = _follow(client, tenant, first.get_json()["id"], timeout=600)
    assert job["status"] == "done"
    assert job["done"] == many
    assert job["by_action"] == {"create": many}
    assert _statuses(committed_session, tenant) == {EventStatus.done: many}
    assert _lead_count(committed_session, tenant) == many
    replayed_times = committed_session.scalars(
        select(func.max(IngestionEvent.replayed_time)).where(
            IngestionEvent.config_id == tenant.config_id
        )
    ).one()

    second = _post(client, tenant, replay)

    assert second.status_code == 202
    again = _follow(client, tenant, second.get_json()["id"])
    assert (again["status"], again["total"], again["done"], again["by_action"]) == (
        "done", 0, 0, {},
    )  # fmt: skip
    assert _lead_count(committed_session, tenant) == many
    committed_session.expire_all()
    assert (
        committed_session.scalars(
            select(func.max(IngestionEvent.replayed_time)).where(
                IngestionEvent.config_id == tenant.config_id
            )
        ).one()
        == replayed_times
    )
    listed = client.get(BASE, headers=_auth(tenant)).get_json()
    assert [entry["id"] for entry in listed["results"]] == [
        second.get_json()["id"],
        first.get_json()["id"],
    ]


def _settled(session: Session, tenant: Tenant, job_id: str, timeout: float = 60.0) -> ReplayJob:
    """The job once its last chunk has recorded its progress and no replayed event is pending."""
    deadline = time.monotonic() + timeout
    while True:
        session.expire_all()
        job = session.get(ReplayJob, uuid.UUID(job_id))
        assert job is not None
        statuses = _statuses(session, tenant)
        unfinished = sum(
            statuses.get(status, 0)
            for status in (EventStatus.queued, EventStatus.processing, EventStatus.retrying)
        )
        if unfinished == 0 and job.done == statuses.get(EventStatus.done, 0):
            return job
        assert time.monotonic() < deadline, f"job {job_id} did not settle: {statuses}"
        time.sleep(0.1)


@pytest.mark.integration
def test_a_cancelled_replay_stops_between_chunks_and_a_restart_finishes_it(
    client: FlaskClient,
    committed_session: Session,
    tenant: Tenant,
    celery_worker: ServiceProcess,
) -> None:
    many = CHUNK_SIZE * 10
    bodies = [{"phone_number": f"+1202555{n:04d}"} for n in range(many)]
    make_events_in_bulk(committed_session, tenant, bodies, status=EventStatus.dead, attempts=5)
    committed_session.commit()
    replay = {"filter": {"config": str(tenant.config_id)}}
    job_id = _post(client, tenant, replay).get_json()["id"]

    cancelled = client.post(f"{BASE}{job_id}/cancel/", headers=_auth(tenant))

    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    job = _settled(committed_session, tenant, job_id)
    # Whole chunks only: the chunk under way finished, the next never started.
    assert job.done % CHUNK_SIZE == 0 and job.done < many
    time.sleep(1.0)
    assert _settled(committed_session, tenant, job_id).done == job.done
    assert _statuses(committed_session, tenant).get(EventStatus.dead) == many - job.done
    assert client.post(f"{BASE}{job_id}/cancel/", headers=_auth(tenant)).status_code == 200

    restarted = _post(client, tenant, replay).get_json()

    assert restarted["total"] == many - job.done
    finished = _follow(client, tenant, restarted["id"], timeout=120)
    assert finished["status"] == "done"
    assert finished["by_action"] == ({"create": many - job.done} if many > job.done else {})
    assert _statuses(committed_session, tenant) == {EventStatus.done: many}
    # Every event applied once: one lead each, each event claimed once since its replay.
    assert _lead_count(committed_session, tenant) == many
    attempts = committed_session.scalars(
        select(func.max(IngestionEvent.attempts)).where(
            IngestionEvent.config_id == tenant.config_id
        )
    ).one()
    assert attempts == 1
    done_job = client.post(f"{BASE}{restarted['id']}/cancel/", headers=_auth(tenant))
    assert done_job.status_code == 409
    assert "done" in done_job.get_json()["detail"]


def test_another_organizations_replay_job_is_not_found(
    client: FlaskClient, committed_session: Session, tenant: Tenant
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    theirs = _post(client, other, {"filter": {"config": str(other.config_id)}})
    assert theirs.status_code == 202, theirs.get_json()
    job_id = theirs.get_json()["id"]

    assert client.get(f"{BASE}{job_id}/", headers=_auth(tenant)).status_code == 404
    assert client.post(f"{BASE}{job_id}/cancel/", headers=_auth(tenant)).status_code == 404
    assert client.get(f"{BASE}not-a-uuid/", headers=_auth(tenant)).status_code == 404
    assert client.get(BASE, headers=_auth(tenant)).get_json()["count"] == 0
    assert client.get(f"{BASE}{job_id}/", headers=_auth(other)).status_code == 200
    assert client.get(BASE).status_code == 401


def test_another_organizations_events_are_not_in_a_plan(
    client: FlaskClient, committed_session: Session, tenant: Tenant
) -> None:
    other = make_tenant(committed_session)
    make_event(committed_session, other, {"phone_number": "202-456-1111"}, status=EventStatus.dead)
    committed_session.commit()

    plan = _post(client, tenant, {"filter": {"config": str(other.config_id)}, "plan": True})

    assert plan.status_code == 200
    assert plan.get_json()["count"] == 0
    assert plan.get_json()["sample"] == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"filter": {"status": ["done"]}}, "filter.status", "only failed and dead"),
        ({"filter": {"status": "sleeping"}}, "filter.status", "is not one of"),
        ({"filter": {"lead": 0}}, "filter.lead", "between 1 and"),
        ({"filter": {"lead": 2.5}}, "filter.lead", "must be an integer"),
        ({"filter": {"lead": True}}, "filter.lead", "must be an integer"),
        ({"filter": {"since": "soon"}}, "filter.since", "not a datetime"),
        ({"filter": {"config": "nope"}}, "filter.config", "not a UUID"),
        ({"filter": {"endpoint": ["upsert"]}}, "filter.endpoint", "one value"),
        ({"filter": {"payload_contains": [1]}}, "filter.payload_contains", "one value"),
        ({"filter": {"payload_contains": "{}"}}, "filter.payload_contains", "JSON object"),
        ({"filter": {"payload_contains": {"a": "\u0000"}}}, "filter.payload_contains", "NUL"),
        ({"filter": {"lead": "12"}}, "filter.lead", "must be an integer"),
        ({"filter": {"config": ""}}, "filter.config", "empty"),
        ({"filter": {"error_field": 3}}, "filter.error_field", "must be a string"),
        ({"filter": {"colour": "red"}}, "filter.colour", "not a filter"),
        # Held events run through their config's release, in order, never by a replay.
        ({"filter": {"status": ["held"]}}, "filter.status", "only failed and dead"),
        ({"filter": ["failed"]}, "filter", "JSON object"),
        ({"plan": "yes"}, "plan", "true or false"),
        ({"dry": True}, "dry", "unknown"),
        ([], "body", "not a JSON object"),
    ],
)
def test_a_bad_replay_request_is_a_400_naming_the_field(
    client: FlaskClient,
    committed_session: Session,
    tenant: Tenant,
    body: Any,
    field: str,
    words: str,
) -> None:
    answer = _post(client, tenant, body)

    assert answer.status_code == 400, answer.get_json()
    errors = answer.get_json()["errors"]
    assert list(errors) == [field]
    assert words in errors[field][0] or words in answer.get_json()["detail"]
    assert (
        committed_session.scalar(
            select(func.count()).where(ReplayJob.organization_id == tenant.organization_id)
        )
        == 0
    )


def test_a_replay_needs_a_json_body(client: FlaskClient, tenant: Tenant) -> None:
    answer = client.post(BASE, data="plan=true", headers=_auth(tenant))
    assert answer.status_code == 415
