"""`leadgate replay` and `leadgate events show` on an event whose raw body was purged."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.cli.conftest import Invoke
from tests.support.factories import make_purged_event, make_tenant

pytestmark = pytest.mark.integration


def test_a_purged_event_is_not_replayed_and_its_body_is_said_to_be_purged(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    purged = make_purged_event(committed_session, tenant)
    committed_session.commit()
    refused = invoke("replay", str(purged.id), exit_code=1)
    assert "the raw body was purged on 2031-05-06" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    shown = invoke("events", "show", str(purged.id)).stdout
    assert '"raw_body_purged_time": "2031-05-06T00:00:00+00:00"' in shown
    body = invoke("events", "show", str(purged.id), "--payload", exit_code=1)
    assert "the raw body was purged on 2031-05-06" in body.stderr
