"""Replays in the console: the plan for a filter's every match, the job it starts, and cancel."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ReplayJob
from models.replay_job import ReplayJobStatus
from tests.console.conftest import csrf_token, sign_in
from tests.support.api import post_payload, wait_for_event
from tests.support.factories import Tenant, make_replay_job, make_tenant
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

BAD = [{"tel": f"(415) 555-26{n:02d}", "email": f"bad{n}@example.com"} for n in range(3)]


@pytest.fixture
def failed(
    console: FlaskClient, tenant: Tenant, celery_worker: ServiceProcess
) -> list[dict[str, Any]]:
    """Three events that failed on phone_number (a real worker ran them), signed in."""
    events = []
    for body in BAD:
        answer = post_payload(console, tenant.config_id, "upsert", body, tenant.token)
        assert answer.status_code == 202
        events.append(wait_for_event(console, tenant.token, answer.get_json()["id"]))
    assert {event["status"] for event in events} == {"failed"}
    sign_in(console, tenant.token)
    return events


def _text(client: FlaskClient, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, answer.get_data(as_text=True)[:2000]
    return answer.get_data(as_text=True)


def _wait_until_finished(client: FlaskClient, job_url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        progress: dict[str, Any] = client.get(f"{job_url}progress.json").get_json()
        if progress["finished"]:
            return progress
        assert time.monotonic() < deadline, progress
        time.sleep(0.2)


def test_the_events_page_links_the_plan_for_its_filter_without_the_cursor(
    console: FlaskClient, tenant: Tenant, failed: list[dict[str, Any]]
) -> None:
    page = _text(console, f"/console/events/?config={tenant.config_id}&page_size=1")
    link = re.search(r'id="plan-replay" href="([^"]+)"', page)
    assert link is not None
    assert link.group(1) == f"/console/replays/plan?config={tenant.config_id}"
    filtered = _text(console, "/console/events/?status=failed&status=dead&error_field=phone_number")
    link = re.search(r'id="plan-replay" href="([^"]+)"', filtered)
    assert link is not None
    assert html.unescape(link.group(1)) == (
        "/console/replays/plan?status=failed&status=dead&error_field=phone_number"
    )


def test_plan_confirm_and_follow_a_replay_of_every_match(
    console: FlaskClient, tenant: Tenant, failed: list[dict[str, Any]], committed_session: Session
) -> None:
    plan = _text(
        console, f"/console/replays/plan?config={tenant.config_id}&error_field=phone_number"
    )
    assert "3 events would be replayed" in plan
    assert re.search(r"<th scope=\"row\">fail</th><td>3</td>", plan), plan
    assert '<th scope="row">stale</th>' in plan  # every predicted action is listed
    assert all(event["id"] in plan for event in failed)  # the sample

    form = {"csrf_token": csrf_token(plan), "config": str(tenant.config_id)}
    form["error_field"] = "phone_number"
    answer = console.post("/console/replays/", data=form)
    assert answer.status_code == 303
    job_url = answer.headers["Location"]
    assert re.fullmatch(r"/console/replays/[0-9a-f-]{36}/", job_url)

    progress = _wait_until_finished(console, job_url)
    assert progress["status"] == "done" and (progress["done"], progress["total"]) == (3, 3)
    assert progress["percent"] == 100
    assert progress["by_action"] == {"fail": 3}
    assert progress["failed_fields"] == {"phone_number": 3}
    page = _text(console, job_url)
    assert 'value="3"' in page and "3 of 3 (100%)" in page
    assert "phone_number: 3" in page
    assert "Cancel the replay" not in page  # finished: nothing to cancel
    assert "http-equiv" not in page  # no refresh once finished
    listed = _text(console, "/console/replays/")
    assert job_url in listed and "3 of 3" in listed
    [job] = committed_session.scalars(
        select(ReplayJob).where(ReplayJob.organization_id == tenant.organization_id)
    )
    assert job.filter["error_field"] == "phone_number"


def test_a_bad_filter_names_its_field_and_starts_nothing(
    console: FlaskClient, tenant: Tenant, failed: list[dict[str, Any]], committed_session: Session
) -> None:
    page = _text(console, "/console/replays/plan?status=done", status=400)
    assert "only failed and dead events are replayed" in page
    plan = _text(console, f"/console/replays/plan?config={tenant.config_id}")
    refused = console.post("/console/replays/", data={"csrf_token": csrf_token(plan), "lead": "x"})
    assert refused.status_code == 400 and "lead" in refused.get_data(as_text=True)
    unsigned = console.post("/console/replays/", data={"config": str(tenant.config_id)})
    assert unsigned.status_code == 400  # no CSRF token
    jobs = committed_session.scalars(
        select(ReplayJob).where(ReplayJob.organization_id == tenant.organization_id)
    )
    assert list(jobs) == []


def test_a_running_job_refreshes_without_script_and_can_be_cancelled(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    job = make_replay_job(committed_session, tenant, total=400, done=200)
    committed_session.commit()
    sign_in(console, tenant.token)
    page = _text(console, f"/console/replays/{job.id}/")
    assert '<noscript><meta http-equiv="refresh"' in page
    assert "200 of 400 (50%)" in page
    answer = console.post(
        f"/console/replays/{job.id}/cancel", data={"csrf_token": csrf_token(page)}
    )
    assert answer.status_code == 303
    committed_session.refresh(job)
    assert job.status == ReplayJobStatus.cancelled
    assert "Replay cancelled" in _text(console, f"/console/replays/{job.id}/")


def test_another_organizations_job_is_404(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    job = make_replay_job(committed_session, tenant)
    other = make_tenant(committed_session)
    committed_session.commit()
    sign_in(console, other.token)
    page = _text(console, "/console/replays/")
    for url in (f"/console/replays/{job.id}/", f"/console/replays/{job.id}/progress.json"):
        assert console.get(url).status_code == 404
    assert console.get("/console/replays/not-a-uuid/").status_code == 404
    cancel = console.post(
        f"/console/replays/{job.id}/cancel", data={"csrf_token": csrf_token(page)}
    )
    assert cancel.status_code == 404
    committed_session.refresh(job)
    assert job.status == ReplayJobStatus.running
    assert str(job.id) not in page
