"""I2 under real concurrency: many posting processes, a pool of workers, one lead per person."""

from __future__ import annotations

import json
import multiprocessing
import random
import time
import urllib.request
from collections.abc import Iterator

import phonenumbers
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead
from models.enums import EventStatus
from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess, start_web, start_worker
from tests.support.services import ServiceUrls

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POSTERS = 8
PERSONS = 40
POSTS_PER_PERSON_PER_POSTER = 2
RUNS = 3
SUBSETS = [
    ("phone_number",),
    ("phone_number", "email"),
    ("external_id", "phone_number"),
    ("external_id", "phone_number", "email"),
    ("external_id",),
    ("email",),
    ("external_id", "email"),
]
PHONE_FORMATS = ["({a}) {b}-{c}", "{a}.{b}.{c}", "+1{a}{b}{c}", "{a}{b}{c}", "1-{a}-{b}-{c}"]


def _person(run: int, index: int) -> dict[str, str]:
    number = f"415{200 + index:03d}{1000 + run * 100 + index:04d}"
    assert phonenumbers.is_valid_number(phonenumbers.parse(number, "US")), number
    return {
        "external_id": f"P-{run}-{index}",
        "phone": number,
        "email": f"p{run}.{index}@example.com",
    }


def _payload(person: dict[str, str], fields: tuple[str, ...], rng: random.Random) -> dict[str, str]:
    phone = person["phone"]
    body: dict[str, str] = {}
    if "phone_number" in fields:
        template = rng.choice(PHONE_FORMATS)
        body["phone_number"] = template.format(a=phone[:3], b=phone[3:6], c=phone[6:])
    if "email" in fields:
        body["email"] = person["email"].upper() if rng.random() < 0.5 else person["email"]
    if "external_id" in fields:
        body["external_id"] = person["external_id"]
    return body


def _post_all(args: tuple[str, str, str, int, int]) -> int:
    base_url, token, config_id, run, seed = args
    rng = random.Random(seed)
    jobs = [
        (index, rng.choice(SUBSETS))
        for index in range(PERSONS)
        for _ in range(POSTS_PER_PERSON_PER_POSTER)
    ]
    rng.shuffle(jobs)
    accepted = 0
    for index, fields in jobs:
        body = json.dumps(_payload(_person(run, index), fields, rng)).encode()
        request = urllib.request.Request(
            f"{base_url}/api/lead-ingestion/{config_id}/upsert/",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            accepted += int(answer.status == 202)
    return accepted


@pytest.fixture(scope="module")
def stack(services: ServiceUrls) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    worker = start_worker(services.env(), concurrency=4, node_name="concurrency-worker")
    web = start_web(services.env(), workers=2)
    yield web, worker
    web.stop()
    worker.stop()


def _wait_terminal(session: Session, tenant: Tenant, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.expire_all()
        pending = session.scalar(
            select(func.count())
            .select_from(IngestionEvent)
            .where(
                IngestionEvent.organization_id == tenant.organization_id,
                IngestionEvent.status.not_in(
                    (EventStatus.done, EventStatus.failed, EventStatus.dead)
                ),
            )
        )
        if pending == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{pending} events still pending after {timeout} s")


@pytest.mark.parametrize("run", range(RUNS))
def test_overlapping_identifiers_from_many_processes_make_one_lead_per_person(
    run: int, stack: tuple[ServiceProcess, ServiceProcess], committed_session: Session
) -> None:
    web, _ = stack
    tenant = make_tenant(committed_session)
    committed_session.commit()
    args = [
        (web.extra["url"], tenant.token, str(tenant.config_id), run, run * 1000 + poster)
        for poster in range(POSTERS)
    ]
    with multiprocessing.get_context("spawn").Pool(POSTERS) as pool:
        accepted = sum(pool.map(_post_all, args))
    assert accepted == POSTERS * PERSONS * POSTS_PER_PERSON_PER_POSTER
    _wait_terminal(committed_session, tenant)

    events = committed_session.execute(
        select(IngestionEvent.status, IngestionEvent.raw_body).where(
            IngestionEvent.organization_id == tenant.organization_id
        )
    ).all()
    assert len(events) == accepted
    for status, raw_body in events:
        # Anything that carried a phone number can create, so it must have succeeded.
        if "phone_number" in json.loads(raw_body):
            assert status == EventStatus.done, raw_body
        else:
            assert status in (EventStatus.done, EventStatus.failed), raw_body

    leads = committed_session.scalars(
        select(Lead).where(Lead.organization_id == tenant.organization_id)
    ).all()
    by_phone: dict[str, list[Lead]] = {}
    for lead in leads:
        by_phone.setdefault(lead.phone_number, []).append(lead)
    assert len(leads) == PERSONS, f"{len(leads)} leads for {PERSONS} persons"
    assert all(len(group) == 1 for group in by_phone.values())
    external_ids = [lead.external_id for lead in leads if lead.external_id is not None]
    assert len(external_ids) == len(set(external_ids))
    for lead in leads:
        index = int(lead.phone_number[5:8]) - 200
        person = _person(run, index)
        assert lead.external_id in (None, person["external_id"])
        assert lead.email in (None, person["email"])
