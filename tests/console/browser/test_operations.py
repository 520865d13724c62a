"""Replays, holds and uploads in a real browser, against a running web and worker."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from models.replay_job import ReplayJobStatus
from tests.console.browser.conftest import GOOD, MAPPING, sign_in
from tests.support.factories import Tenant, make_replay_job, make_tenant
from tests.support.processes import ServiceProcess
from tests.support.uploads import csv_text

pytestmark = pytest.mark.integration

Traffic = tuple[Tenant, dict[str, dict[str, Any]]]


def test_replay_all_failed_events_of_a_config_with_a_plan(
    page: Page, org_with_traffic: Traffic
) -> None:
    tenant, events = org_with_traffic
    sign_in(page, tenant.token)
    page.get_by_role("link", name="Events", exact=True).click()
    page.get_by_label("failed").check()
    page.get_by_label("Config").select_option(str(tenant.config_id))
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#event-count")).to_have_text("1 event")

    page.get_by_role("link", name="Plan a replay of all that match this filter").click()
    expect(page.locator("#plan-count")).to_contain_text("1 event would be replayed")
    expect(page.locator("table.by-action")).to_contain_text("fail")
    expect(page.locator("table.sample")).to_contain_text(events["failed"]["id"])

    page.get_by_role("button", name="Replay 1 event").click()
    expect(page).to_have_url(re.compile(r"/console/replays/[0-9a-f-]{36}/$"))
    expect(page.locator("#job-count")).to_have_text("1 of 1 (100%)")
    expect(page.locator("#job-status")).to_have_text("done")
    bar = page.get_by_label("Events replayed")
    assert bar.evaluate("bar => [bar.value, bar.max]") == [1, 1]
    expect(page.locator("#job-fields")).to_contain_text("phone_number: 1")
    expect(page.get_by_role("button", name="Cancel the replay")).to_be_hidden()

    page.get_by_role("link", name="Replays", exact=True).click()
    expect(page.locator("table.replays")).to_contain_text("1 of 1")


def _wait_for_status(base: str, tenant: Tenant, event_id: str, status: str) -> None:
    headers = {"Authorization": f"Token {tenant.token}"}
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        while client.get(f"/api/ingestion-events/{event_id}/").json()["status"] != status:
            assert time.monotonic() < deadline, f"event {event_id} never {status}"
            time.sleep(0.1)


def test_release_a_held_config(
    page: Page,
    committed_session: Session,
    console_web: ServiceProcess,
    celery_worker: ServiceProcess,
) -> None:
    tenant = make_tenant(committed_session, mapping=MAPPING, name="held feed", held=True)
    committed_session.commit()
    base = console_web.extra["url"]
    headers = {"Authorization": f"Token {tenant.token}"}
    answer = httpx.post(
        f"{base}/api/lead-ingestion/{tenant.config_id}/upsert/", json=GOOD, headers=headers
    )
    assert answer.status_code == 202
    event_id = answer.json()["id"]
    _wait_for_status(base, tenant, event_id, "held")

    sign_in(page, tenant.token)
    expect(page.locator("#attention")).to_contain_text("held feed")
    page.locator("#attention").get_by_role("link", name="held feed").click()
    expect(page.locator("#hold-state")).to_contain_text("held")
    page.get_by_role("button", name="Release this config").click()
    # The release is a job that runs the held events in receive order: its page follows it.
    expect(page.locator(".flashes")).to_contain_text("Release started")
    expect(page.locator("main progress")).to_be_visible()
    _wait_for_status(base, tenant, event_id, "done")
    page.goto(f"/console/configs/{tenant.config_id}/")
    expect(page.get_by_role("button", name="Hold this config")).to_be_visible()
    page.goto(f"/console/events/{event_id}/")
    expect(page.locator("main")).to_contain_text("done")


def test_upload_a_csv_and_download_its_error_file(
    page: Page, org_with_traffic: Traffic, tmp_path: Path
) -> None:
    tenant, _ = org_with_traffic
    file = tmp_path / "june.csv"
    file.write_bytes(
        csv_text(["phone", "email"], [["+14155550100", "a@example.com"], ["nope", "b@example.com"]])
    )
    sign_in(page, tenant.token)
    page.get_by_role("link", name="Uploads", exact=True).click()
    page.get_by_label("Config").select_option(str(tenant.config_id))
    page.get_by_label("CSV file", exact=True).set_input_files(str(file))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload june.csv")).to_be_visible()
    # The page reloads itself while the import runs.
    expect(page.locator("#upload-status")).to_have_text("done", timeout=30_000)
    expect(page.locator("#upload-count")).to_have_text("2 of 2 rows done, 1 failed.")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the error file")).click()
    assert download.value.suggested_filename == "june-errors.csv"
    saved = Path(download.value.path()).read_text()
    [row] = list(csv.DictReader(io.StringIO(saved)))
    assert row["phone"] == "nope" and row["error_field"] == "phone_number"


def test_the_progress_bar_follows_a_running_job_live(
    page: Page, org_with_traffic: Traffic, committed_session: Session
) -> None:
    tenant, _ = org_with_traffic
    job = make_replay_job(committed_session, tenant, total=400, done=200)
    committed_session.commit()
    sign_in(page, tenant.token)
    page.goto(f"/console/replays/{job.id}/")
    expect(page.locator("#job-count")).to_have_text("200 of 400 (50%)")
    page.evaluate("window.notReloaded = true")
    # The worker's side of it, as a chunk's commit does: the script polls and shows it.
    job.done, job.status = 400, ReplayJobStatus.done
    job.by_action = {"create": 400}
    committed_session.commit()
    expect(page.locator("#job-count")).to_have_text("400 of 400 (100%)")
    expect(page.locator("#job-actions")).to_have_text("create: 400")
    expect(page.get_by_role("button", name="Cancel the replay")).to_be_hidden()
    assert page.get_by_label("Events replayed").evaluate("bar => bar.value") == 400
    assert page.evaluate("window.notReloaded") is True  # updated in place, not reloaded
