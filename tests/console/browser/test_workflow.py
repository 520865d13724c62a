"""The operator's workflow in a real browser: find a failure, read it, fix the mapping, save."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.console.browser.conftest import sign_in
from tests.support.factories import Tenant, make_tenant

pytestmark = pytest.mark.integration

FIXED = {"fields": {"phone_number": {"from": ["phone", "tel"]}, "email": "email"}}
Traffic = tuple[Tenant, dict[str, dict[str, Any]]]


def test_find_a_failure_fix_the_mapping_and_save(page: Page, org_with_traffic: Traffic) -> None:
    tenant, events = org_with_traffic
    sign_in(page, tenant.token)

    page.get_by_role("link", name="Events", exact=True).click()
    page.get_by_label("Error field").fill("phone_number")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#event-count")).to_have_text("1 event")
    page.locator("table.events tbody a").first.click()

    expect(page).to_have_url(re.compile(f"/console/events/{events['failed']['id']}/$"))
    expect(page.locator("#payload")).to_contain_text("bad.phone@example.com")
    expect(page.locator("table.errors")).to_contain_text("phone_number")

    page.get_by_role("link", name="Open this payload in the mapping editor").click()
    expect(page.get_by_label("Payload to try (JSON)")).to_contain_text("(415) 555-2672")
    page.get_by_label("Mapping (JSON)").fill(json.dumps(FIXED, indent=2))
    # The editor's script runs the dry run as the mapping changes.
    expect(page.locator("#live-result")).to_contain_text("Would create")

    page.get_by_role("button", name="Impact report").click()
    expect(page.locator("#impact-summary")).to_contain_text(
        "v2 changes 1 of 2 outcomes: 1 that failed would now succeed"
    )
    expect(page.locator(".changed-events a")).to_have_text(events["failed"]["id"])

    page.get_by_label("Version message (optional)").fill("read tel as the phone too")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flashes")).to_contain_text("Saved as mapping version 2")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/console/events/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_form_without_its_csrf_token_is_refused(page: Page, org_with_traffic: Traffic) -> None:
    tenant, _ = org_with_traffic
    sign_in(page, tenant.token)
    page.goto("/console/tokens/")
    form = page.locator("form", has=page.get_by_role("button", name="Create a token"))
    form.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_label("Name (optional)").fill("forged")
    with page.expect_response(re.compile("/console/tokens/$")) as answer:
        page.get_by_role("button", name="Create a token").click()
    assert answer.value.status == 400
    expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    page.goto("/console/tokens/")
    expect(page.locator("main table")).not_to_contain_text("forged")


def test_another_organizations_event_is_404(
    page: Page, org_with_traffic: Traffic, committed_session: Session
) -> None:
    _, events = org_with_traffic
    other = make_tenant(committed_session)
    committed_session.commit()
    sign_in(page, other.token)
    answer = page.goto(f"/console/events/{events['failed']['id']}/")
    assert answer is not None and answer.status == 404
    expect(page.locator("main")).not_to_contain_text("bad.phone@example.com")
