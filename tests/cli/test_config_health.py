"""``leadgate config stats|hold|release`` and ``config update --hold-on-drift``."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent
from models.enums import EventAction, EventStatus
from tests.cli.conftest import Invoke, only_line
from tests.support.factories import Tenant, make_event, make_tenant


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


def test_hold_then_release_sends_the_held_events_on(invoke: Invoke, engine: Engine) -> None:
    tenant = _tenant(engine)
    config_id = str(tenant.config_id)
    assert "is held now" in invoke("config", "hold", config_id).stderr
    assert "was held already" in invoke("config", "hold", config_id).stderr
    with Session(engine) as session:
        held = [make_event(session, tenant, status=EventStatus.held).id for _ in range(2)]
        session.commit()

    released = invoke("config", "release", config_id)

    assert only_line(released) == "2"
    assert f"released config {config_id}: 2 held events sent on" in released.stderr
    with Session(engine) as session:
        assert session.get_one(IngestionConfig, tenant.config_id).held is False
        statuses = {session.get_one(IngestionEvent, event_id).status for event_id in held}
    assert statuses <= {EventStatus.queued, EventStatus.processing, EventStatus.done}


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
