"""`make run`'s demo: after the printed curl, the console shows its lead and event."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from leadgate.demo import DEMO_PAYLOAD, ensure_demo
from tests.console.conftest import sign_in
from tests.support.api import post_payload, wait_for_event
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


def test_the_demo_lead_and_event_are_in_the_console(
    console: FlaskClient,
    committed_session: Session,
    celery_worker: ServiceProcess,
    tmp_path: Path,
) -> None:
    demo = ensure_demo(committed_session, tmp_path)
    committed_session.commit()
    answer = post_payload(console, demo.config_id, "upsert", DEMO_PAYLOAD, demo.token)
    event = wait_for_event(console, demo.token, answer.get_json()["id"])
    assert event["status"] == "done"

    sign_in(console, demo.token)
    events = console.get("/console/events/").get_data(as_text=True)
    assert event["id"] in events
    leads = console.get("/console/leads/").get_data(as_text=True)
    assert f'href="/console/leads/{event["lead_id"]}/"' in leads
    assert "j•••@example.com" in leads  # masked in the list
    lead = console.get(f"/console/leads/{event['lead_id']}/").get_data(as_text=True)
    assert "jane.doe@example.com" in lead and "Jane Doe" in lead
