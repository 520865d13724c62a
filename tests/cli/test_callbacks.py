"""``leadgate config update --callback-url/--rotate-callback-secret``, ``leadgate webhooks
callbacks`` and ``leadgate events show --payload --decoded``."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from models import IngestionConfig
from models.enums import EventAction, EventStatus
from tests.cli.conftest import Invoke
from tests.support.factories import make_event, make_tenant
from worker.outbound.callbacks import queue_callbacks

URL = "https://provider.example.com/outcomes"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def _config(session: Session, config_id: object) -> IngestionConfig:
    session.expire_all()
    config = session.get(IngestionConfig, config_id)
    assert config is not None
    return config


def test_a_callback_is_set_rotated_and_removed_and_its_key_shown_once(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    config_id = str(tenant.config_id)

    first = SECRET.findall(invoke("config", "update", config_id, "--callback-url", URL).stderr)
    assert len(first) == 1
    assert _config(committed_session, tenant.config_id).callback_url == URL
    shown = json.loads(invoke("config", "show", config_id).stdout)
    assert shown["callback_url"] == URL and "whsec_" not in json.dumps(shown)

    rotated = SECRET.findall(
        invoke("config", "update", config_id, "--rotate-callback-secret").stderr
    )
    assert len(rotated) == 1 and rotated != first
    assert _config(committed_session, tenant.config_id).previous_callback_secret is not None

    invoke("config", "update", config_id, "--callback-url", "none")
    assert _config(committed_session, tenant.config_id).callback_url is None
    refused = invoke(
        "config", "update", config_id, "--callback-url", "http://169.254.169.254/", exit_code=1
    )
    assert "callback_url" in refused.stderr and "metadata" in refused.stderr


def test_callbacks_lists_a_config_s_outcome_callbacks(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    invoke("config", "update", str(tenant.config_id), "--callback-url", URL)
    event = make_event(
        committed_session, tenant, status=EventStatus.done, action=EventAction.created
    )
    queue_callbacks(committed_session, [event.id])
    committed_session.commit()

    listed = json.loads(invoke("webhooks", "callbacks", str(tenant.config_id), "--json").stdout)

    [callback] = listed
    assert callback["event_id"] == str(event.id) and callback["status"] == "pending"
    assert callback["body"]["status"] == "done" and callback["body"]["action"] == "created"
    table = invoke("webhooks", "callbacks", str(tenant.config_id)).stdout
    assert str(event.id) in table and "pending" in table


def test_events_show_prints_the_decoded_payload(invoke: Invoke, committed_session: Session) -> None:
    tenant = make_tenant(committed_session, {"decode": {"data.json": "json"}})
    answers = {"phone_number": ["202-456-1515"]}
    event = make_event(
        committed_session,
        tenant,
        urlencode({"data.json": json.dumps(answers)}).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    committed_session.commit()

    raw = invoke("events", "show", str(event.id), "--payload").stdout
    decoded = invoke("events", "show", str(event.id), "--payload", "--decoded").stdout

    assert raw.startswith("data.json=")
    assert json.loads(decoded) == {"data.json": answers}
    invoke("events", "show", str(event.id), "--decoded", exit_code=2)
