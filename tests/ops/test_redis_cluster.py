"""Locks and rate limits on a three-master Redis Cluster started by the test.

The settings say ``LEADGATE_REDIS_CLUSTER=true`` and ``REDIS_URL`` names one node; the broker
stays a plain Redis (Celery's transport has no cluster support). A worker process on the
cluster processes real events end to end.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask.testing import FlaskClient
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import RedisClusterException
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.redis_client import redis_for
from common.settings import get_settings
from models import IngestionEvent
from models.enums import AuthMode, EventStatus
from tests.support.factories import make_tenant
from tests.support.processes import start_worker
from tests.support.redis_cluster import OwnRedisCluster, cluster_tools
from tests.support.services import ServiceUrls
from webhook.auth import EndpointConfig
from webhook.errors import ApiError
from webhook.rate_limit import check_rate_limit
from worker.locks import _ACQUIRE, LOCK_HASH_TAG, identity_locks

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster() -> Iterator[OwnRedisCluster]:
    """Three masters, slots split among them; skipped, loudly, without redis-server."""
    if cluster_tools() is None:
        pytest.skip("redis-server and redis-cli are not installed (apt-get install redis-server)")
    started = OwnRedisCluster().start()
    yield started
    started.stop()


@pytest.fixture
def on_cluster(
    services: ServiceUrls, cluster: OwnRedisCluster, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RedisCluster]:
    """This process's settings pointed at the cluster; the cluster client the code uses."""
    monkeypatch.setenv("REDIS_URL", cluster.url)
    monkeypatch.setenv("LEADGATE_REDIS_CLUSTER", "true")
    monkeypatch.setenv("CELERY_BROKER_URL", services.redis_url)
    get_settings.cache_clear()
    client = redis_for(get_settings().locks_redis_url)
    assert isinstance(client, RedisCluster)
    yield client
    get_settings.cache_clear()


def _keys_on_different_masters(client: RedisCluster) -> list[str]:
    keys: dict[str, str] = {}
    for index in range(200):
        key = f"lead:1:email:person{index}@example.com"
        node = client.get_node_from_key(key)
        keys.setdefault(node.name, key)
    assert len(keys) == 3, keys
    return list(keys.values())


def test_a_batchs_locks_are_taken_at_once_whichever_masters_their_keys_hash_to(
    on_cluster: RedisCluster,
) -> None:
    keys = [*_keys_on_different_masters(on_cluster), f"lead:1:external_id:{uuid.uuid4()}"]
    with identity_locks(keys, ttl_seconds=5) as held:
        assert held
        # Busy while held: the second taker gives up after its wait, to the database locks.
        with identity_locks(keys[1:2], ttl_seconds=5, wait_seconds=0.2) as second:
            assert not second
        assert len(on_cluster.keys(f"{LOCK_HASH_TAG}:*", target_nodes=RedisCluster.ALL_NODES)) >= 4
    with identity_locks(keys, ttl_seconds=5, wait_seconds=0.2) as again:
        assert again  # released on the way out


def test_without_the_shared_hash_tag_the_cluster_refuses_the_script(
    on_cluster: RedisCluster,
) -> None:
    # Why every lock name carries one tag: one call's keys must share a slot.
    first, second = _keys_on_different_masters(on_cluster)[:2]
    assert key_slot(first.encode()) != key_slot(second.encode())
    with pytest.raises((redis.RedisError, RedisClusterException)):
        on_cluster.eval(_ACQUIRE, 2, first, second, "token", 1000)


def test_rate_limits_count_on_the_cluster(on_cluster: RedisCluster) -> None:
    config = EndpointConfig(
        id=uuid.uuid4(),
        organization_id=1,
        auth_mode=AuthMode.token,
        version=1,
        mapping={},
        max_body_bytes=None,
        rate_limit_per_second=0.5,
        rate_limit_burst=2,
    )
    check_rate_limit(config)
    check_rate_limit(config)
    with pytest.raises(ApiError) as refused:
        check_rate_limit(config)
    assert refused.value.status == 429
    assert on_cluster.exists(f"leadgate:rate:{config.id}") == 1


def test_a_worker_on_the_cluster_processes_events(
    services: ServiceUrls,
    cluster: OwnRedisCluster,
    on_cluster: RedisCluster,
    client: FlaskClient,
    committed_session: Session,
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    env = {
        **services.env(),
        "REDIS_URL": cluster.url,
        "LEADGATE_REDIS_CLUSTER": "true",
        "CELERY_BROKER_URL": services.redis_url,
    }
    worker = start_worker(env, concurrency=2, node_name="cluster-worker")
    try:
        ids = []
        for index in range(6):
            answer = client.post(
                f"/api/lead-ingestion/{tenant.config_id}/upsert/",
                json={"phone_number": f"+1202456{7000 + index}", "email": f"c{index}@example.com"},
                headers={"Authorization": f"Token {tenant.token}"},
            )
            assert answer.status_code == 202, answer.get_data(as_text=True)
            ids.append(uuid.UUID(answer.get_json()["id"]))
        deadline = time.monotonic() + 60
        while True:
            committed_session.expire_all()
            statuses = committed_session.scalars(
                select(IngestionEvent.status).where(IngestionEvent.id.in_(ids))
            ).all()
            if len(statuses) == len(ids) and set(statuses) == {EventStatus.done}:
                break
            assert time.monotonic() < deadline, statuses
            time.sleep(0.1)
    finally:
        worker.stop()
    assert "relying on database locks" not in worker.log_path.read_text()
