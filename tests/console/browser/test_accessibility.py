"""Every console page passes axe-core, shows where focus is, and fits 375 px and 1440 px."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from sqlalchemy.orm import Session

from models.replay_job import ReplayJobStatus
from tests.console.browser.conftest import sign_in
from tests.support.factories import make_replay_job
from worker.uploads.service import create_upload

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOT = ROOT / "docs" / "console.png"
# Every run takes the picture here; docs/console.png is replaced only when asked (or missing), so
# a test run leaves the checkout clean: its timestamps differ on every run.
FRESH_SCREENSHOT = ROOT / "test-results" / "console" / "console.png"
WIDTHS = (375, 1440)
Traffic = tuple[Any, dict[str, dict[str, Any]]]


def _pages(traffic: Traffic, job_id: str, upload_id: str) -> list[str]:
    tenant, events = traffic
    config = f"/console/configs/{tenant.config_id}"
    return [
        "/console/",
        "/console/events/",
        "/console/events/?error_field=phone_number",
        f"/console/events/{events['failed']['id']}/",
        f"/console/events/{events['done']['id']}/",
        "/console/leads/",
        f"/console/leads/{events['done']['lead_id']}/",
        "/console/configs/",
        f"{config}/",
        f"{config}/mapping?event={events['failed']['id']}",
        f"{config}/versions/",
        f"{config}/versions/1/",
        "/console/tokens/",
        "/console/replays/",
        f"/console/replays/plan?config={tenant.config_id}",
        f"/console/replays/{job_id}/",
        "/console/uploads/",
        f"/console/uploads/{upload_id}/",
    ]


def _job_and_upload(session: Session, tenant: Any) -> tuple[str, str]:
    """A finished replay job and an upload of the tenant, for their pages."""
    job = make_replay_job(
        session,
        tenant,
        status=ReplayJobStatus.done,
        total=1,
        done=1,
        by_action={"fail": 1},
        failed_fields={"phone_number": 1},
    )
    upload = create_upload(session, tenant.organization_id, str(tenant.config_id), "june.csv")
    session.commit()
    return str(job.id), str(upload.id)


def _overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
    width: int = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


def test_every_page_passes_axe_and_fits_both_widths(
    page: Page, org_with_traffic: Traffic, committed_session: Session
) -> None:
    axe = Axe()
    sign_in(page, org_with_traffic[0].token)
    problems: dict[str, Any] = {}
    job_id, upload_id = _job_and_upload(committed_session, org_with_traffic[0])
    for url in _pages(org_with_traffic, job_id, upload_id):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            answer = page.goto(url)
            assert answer is not None and answer.ok, url
            if _overflow(page) > 0:
                problems[f"{url} at {width} px"] = f"{_overflow(page)} px too wide"
        results = axe.run(page)
        if results.violations_count:
            problems[url] = results.generate_snapshot()
    assert problems == {}


def test_the_sign_in_page_passes_axe(page: Page, base_url: str) -> None:
    page.goto("/console/sign-in")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_snapshot()


def test_focus_is_visible(page: Page, org_with_traffic: Traffic) -> None:
    sign_in(page, org_with_traffic[0].token)
    page.goto("/console/events/")
    page.keyboard.press("Tab")  # the skip link first
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert outline[0] != "none" and outline[1] != "0px", outline


def test_every_control_has_a_label(page: Page, org_with_traffic: Traffic) -> None:
    tenant, _ = org_with_traffic
    sign_in(page, tenant.token)
    pages = (
        "/console/events/",
        f"/console/configs/{tenant.config_id}/mapping",
        f"/console/configs/{tenant.config_id}/",
        "/console/uploads/",
    )
    for url in pages:
        page.goto(url)
        unlabelled = page.evaluate(
            "Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))"
            ".filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label'))"
            ".map(c => c.name)"
        )
        assert unlabelled == [], url


def test_the_readme_screenshot(page: Page, org_with_traffic: Traffic) -> None:
    """The README's picture of the console, made from a real run (docs/console.png)."""
    tenant, events = org_with_traffic
    sign_in(page, tenant.token)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/console/events/{events['failed']['id']}/")
    FRESH_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(FRESH_SCREENSHOT), full_page=False)
    assert FRESH_SCREENSHOT.stat().st_size > 10_000
    if os.environ.get("LEADGATE_UPDATE_SCREENSHOT") == "1" or not SCREENSHOT.exists():
        shutil.copyfile(FRESH_SCREENSHOT, SCREENSHOT)
