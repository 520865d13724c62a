"""The same pipeline on RabbitMQ: CELERY_BROKER_URL=amqp://..., locks still on Redis."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead
from models.enums import EventStatus
from tests.support.factories import make_tenant
from tests.support.processes import ServiceProcess, start_web, start_worker
from tests.support.services import ServiceUrls

pytestmark = pytest.mark.integration

AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def amqp_stack(services: ServiceUrls) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    if not _rabbitmq_reachable():
        pytest.skip("no RabbitMQ on 127.0.0.1:5672; the amqp broker path is not tested here")
    env = {**services.env(), "CELERY_BROKER_URL": AMQP_URL}
    worker = start_worker(env, concurrency=2, node_name="amqp-worker")
    web = start_web(env, workers=1)
    yield web, worker
    web.stop()
    worker.stop()


def _post(url: str, config_id: object, token: str, body: dict[str, object]) -> int:
    request = urllib.request.Request(
        f"{url}/api/lead-ingestion/{config_id}/upsert/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def test_events_flow_through_rabbitmq(
    amqp_stack: tuple[ServiceProcess, ServiceProcess], committed_session: Session
) -> None:
    web, worker = amqp_stack
    assert "amqp://" in worker.log()
    tenant = make_tenant(committed_session)
    committed_session.commit()
    for index in range(20):
        body: dict[str, object] = {
            "external_id": f"R-{index % 10}",
            "phone_number": f"(415) 555-{2600 + index % 10}",
        }
        assert _post(web.extra["url"], tenant.config_id, tenant.token, body) == 202
    deadline = time.monotonic() + 60
    while True:
        committed_session.expire_all()
        statuses = committed_session.scalars(
            select(IngestionEvent.status).where(
                IngestionEvent.organization_id == tenant.organization_id
            )
        ).all()
        if len(statuses) == 20 and all(status == EventStatus.done for status in statuses):
            break
        assert time.monotonic() < deadline, f"not all done over amqp: {statuses}"
        time.sleep(0.2)
    leads = committed_session.scalars(
        select(Lead).where(Lead.organization_id == tenant.organization_id)
    ).all()
    assert sorted(lead.external_id or "" for lead in leads) == [f"R-{i}" for i in range(10)]
