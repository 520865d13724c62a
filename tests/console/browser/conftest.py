"""Browser tests of the console: Debian's Chromium driven by Playwright, against real processes.

A web server (gunicorn serving console.wsgi, as the Procfile does), a Celery worker, PostgreSQL
and Redis all run for real. The browser is the system's (``/usr/bin/chromium`` or
``LEADGATE_CHROMIUM``); Playwright never downloads one. Without a Chromium these tests are
skipped with a reason, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy.orm import Session

from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess, start_web
from tests.support.services import ServiceUrls


def find_chromium() -> str | None:
    """The system Chromium: LEADGATE_CHROMIUM, else chromium on PATH."""
    given = os.environ.get("LEADGATE_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM = find_chromium()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the browser tests without a Chromium (fail in CI, which must run them)."""
    if CHROMIUM is not None:
        return
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError("CI must run the console's browser tests: install chromium")
    skip = pytest.mark.skip(reason="no Chromium found (apt-get install chromium)")
    for item in items:
        if "tests/console/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Launch the system Chromium, never a downloaded one."""
    return {"executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def console_web(services: ServiceUrls) -> Iterator[ServiceProcess]:
    """gunicorn serving the API and the console on a free port."""
    web = start_web(services.env(), workers=2, app="console.wsgi:app")
    yield web
    web.stop()


@pytest.fixture(scope="session")
def base_url(console_web: ServiceProcess) -> str:
    """Where the browser's relative URLs go."""
    return console_web.extra["url"]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test, for the artifact fixture below."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def failure_artifacts(request: pytest.FixtureRequest, page: Page) -> Generator[None, None, None]:
    """On a failure, save the page's screenshot and HTML under test-results/console/."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    folder = Path(request.config.getoption("--output")) / "console"
    folder.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("/", "_")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    (folder / f"{name}.html").write_text(page.content())


def post_and_wait(
    base: str, tenant: Tenant, body: dict[str, Any], timeout: float = 30
) -> dict[str, Any]:
    """POST a payload to the running web and wait until the worker has finished it."""
    headers = {"Authorization": f"Token {tenant.token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        answer = client.post(f"/api/lead-ingestion/{tenant.config_id}/upsert/", json=body)
        assert answer.status_code == 202, answer.text
        event_id = answer.json()["id"]
        deadline = time.monotonic() + timeout
        while True:
            event: dict[str, Any] = client.get(f"/api/ingestion-events/{event_id}/").json()
            if event["status"] in ("done", "failed", "dead"):
                return event
            assert time.monotonic() < deadline, f"event {event_id} unfinished: {event}"
            time.sleep(0.1)


GOOD = {"phone": "(415) 555-2671", "email": "jane.doe@example.com"}
BAD = {"tel": "(415) 555-2672", "email": "bad.phone@example.com"}
MAPPING = {"fields": {"phone_number": "phone", "email": "email"}}


@pytest.fixture
def org_with_traffic(
    committed_session: Session, console_web: ServiceProcess, celery_worker: ServiceProcess
) -> tuple[Tenant, dict[str, dict[str, Any]]]:
    """An organization whose config created a lead and failed an event on phone_number."""
    tenant = make_tenant(committed_session, mapping=MAPPING, name="provider feed")
    committed_session.commit()
    base = console_web.extra["url"]
    done, failed = post_and_wait(base, tenant, GOOD), post_and_wait(base, tenant, BAD)
    assert done["status"] == "done" and failed["status"] == "failed"
    return tenant, {"done": done, "failed": failed}


def sign_in(page: Page, token: str) -> None:
    """Sign in through the form, by its labels."""
    page.goto("/console/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()
