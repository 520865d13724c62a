"""/metrics: request counters from this host's processes and queue gauges from the database."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.support.api import post_payload, wait_for_event
from tests.support.factories import make_tenant
from tests.support.processes import ServiceProcess


def test_metrics_count_requests_and_report_queue(
    client: FlaskClient, committed_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webhook.inbox.wake_config", lambda *_: False)
    tenant = make_tenant(committed_session)
    committed_session.commit()
    post_payload(client, tenant.config_id, "upsert", {"phone_number": "2024561111"}, tenant.token)
    post_payload(client, tenant.config_id, "upsert", "[1]", tenant.token)
    answer = client.get("/metrics")
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    config = str(tenant.config_id)
    assert (
        f'leadgate_ingest_requests_total{{code="202",config="{config}",endpoint="upsert"}}' in text
    )
    assert (
        f'leadgate_ingest_requests_total{{code="400",config="{config}",endpoint="upsert"}}' in text
    )
    queued = next(
        line
        for line in text.splitlines()
        if line.startswith('leadgate_events_pending{status="queued"}')
    )
    assert float(queued.split()[-1]) >= 1
    assert "leadgate_oldest_pending_age_seconds" in text


def test_metrics_name_one_content_type_and_one_charset(client: FlaskClient) -> None:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    # Prometheus's own exposition type, stated once: a second charset is a malformed header.
    assert answer.headers["Content-Type"] == "text/plain; version=1.0.0; charset=utf-8"


def test_unknown_configs_share_one_label(client: FlaskClient) -> None:
    for _ in range(3):
        client.post("/api/lead-ingestion/00000000-0000-0000-0000-000000000000/upsert/", json={})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'config="unknown"' in text
    assert "00000000-0000-0000-0000-000000000000" not in text


def test_metrics_token_restricts_the_endpoint(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from common.settings import get_settings

    monkeypatch.setenv("LEADGATE_METRICS_TOKEN", "scrape-secret")
    get_settings.cache_clear()
    try:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert right.status_code == 200
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


@pytest.mark.integration
def test_worker_metrics_reach_the_scrape(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    answer = post_payload(
        client, tenant.config_id, "upsert", {"phone_number": "2024561111"}, tenant.token
    )
    wait_for_event(client, tenant.token, answer.get_json()["id"])
    text = client.get("/metrics").get_data(as_text=True)
    finished = [
        line
        for line in text.splitlines()
        if line.startswith(
            'leadgate_events_finished_total{action="created",'
            f'config="{tenant.config_id}",status="done"}}'
        )
    ]
    assert finished and float(finished[0].split()[-1]) >= 1
    assert "leadgate_event_received_to_done_seconds_count" in text
    assert "leadgate_lock_wait_seconds_count" in text
    lines = [line for line in celery_worker.log().splitlines() if '"event_id"' in line]
    assert any(answer.get_json()["id"] in line and '"action": "created"' in line for line in lines)
