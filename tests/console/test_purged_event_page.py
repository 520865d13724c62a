"""The console's event page on an event whose raw body the retention purged."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.console.conftest import csrf_token, sign_in
from tests.support.factories import Tenant, make_purged_event

pytestmark = pytest.mark.integration


def test_the_page_says_the_body_was_purged_and_a_replay_is_refused(
    console: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    purged = make_purged_event(committed_session, tenant)
    committed_session.commit()
    sign_in(console, tenant.token)
    answer = console.get(f"/console/events/{purged.id}/")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "The raw body was purged on 2031-05-06" in page
    assert "Replay this event" not in page
    replay = console.post(
        f"/console/events/{purged.id}/replay",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert replay.status_code == 200
    assert "The raw body was purged on 2031-05-06" in replay.get_data(as_text=True)
