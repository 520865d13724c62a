"""Scenario 7: poison and flaky events among healthy ones, then a replay of the dead ones.

- Malformed payloads fail at once (one attempt, their errors listed); the others are unaffected.
- A transient error injected three times is retried with backoff and then succeeds.
- One that never clears ends ``dead`` after the configured attempts, with its last error.
- Once the fault is gone (a fixed worker replaces the faulty one), replaying a dead event
  through the API applies it exactly once, however many replays race, and a replay of a done
  event is refused.
"""

from __future__ import annotations

import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from tests.faults.conftest import FaultStack, ScenarioReport
from tests.support.invariants import Person, SentRequest, check_invariants, wait_for_drain
from tests.support.load import LoadPlan, post_requests
from tests.support.workload import make_person, make_request

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

MAX_ATTEMPTS = 4
FLAKY_TIMES = 3
POISON = [
    {"phone_number": "12"},
    {"phone_number": "(415) 555-0100", "email": "not an email"},
    {"phone_number": "(415) 555-0101", "us_state": "Atlantis"},
    {"phone_number": "(415) 555-0102", "status": "somewhere"},
    {"phone_number": "(415) 555-0103", "external_id": "x" * 300},
]


def _replay(plan: LoadPlan, event_id: str) -> int:
    request = urllib.request.Request(
        f"{plan.base_url}/api/ingestion-events/{event_id}/replay/",
        data=b"",
        headers={"Authorization": f"Token {plan.token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


def test_poison_fails_flaky_retries_broken_dies_and_replays_once(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    rng = random.Random(7)
    healthy = [make_person("H", index) for index in range(30)]
    flaky = [make_person("F", 100 + index) for index in range(5)]
    broken = [make_person("X", 200 + index) for index in range(3)]
    poison = [Person(f"P-{index}", {}, has_lead=False) for index in range(len(POISON))]
    requests: list[SentRequest] = []
    for person in healthy:
        # (Their two events may run in either order, so their reengagement is not certain.)
        requests += [make_request(person, 0, rng), make_request(person, 1, rng, "create")]
    for person in flaky:
        requests += [make_request(person, 0, rng), make_request(person, 1, rng, fault="flaky")]
    for person in broken:
        person.reengagements = 0
        last = make_request(person, 1, rng, "create", fault="broken")
        requests += [make_request(person, 0, rng), replace(last, expect=("dead",))]
    for person, body in zip(poison, POISON, strict=True):
        requests.append(SentRequest(person.key, "upsert", body, expect=("failed",)))
    persons = healthy + flaky + broken + poison

    web = stack.web()
    faulty = stack.worker(
        "faulty",
        faults=f"transient:{FLAKY_TIMES}@flaky;transient:always@broken",
        LEADGATE_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        LEADGATE_RETRY_MAX_SECONDS="1",
    )
    plan = LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token)
    sent = post_requests(plan, requests)
    wait_for_drain(stack.database_url, tenant.organization_id, timeout=60)
    first = check_invariants(stack.database_url, tenant.organization_id, sent, persons, 4)
    states = stack.events([request.event_id or "" for request in sent])

    def kind(request: SentRequest) -> str:
        return str(request.body.get("fault") or request.person[0])

    by_kind: dict[str, list[int]] = {}
    for request in sent:
        by_kind.setdefault(kind(request), []).append(states[request.event_id or ""].attempts)
    first.assert_ok()
    assert by_kind["P"] == [1] * len(POISON)  # failed at once, never retried
    assert set(by_kind["H"]) == {1}  # the healthy ones were not held up
    assert by_kind["flaky"] == [FLAKY_TIMES + 1] * len(flaky)
    assert by_kind["broken"] == [MAX_ATTEMPTS] * len(broken)
    dead = [request for request in sent if request.body.get("fault") == "broken"]
    assert all("OperationalError" in (states[r.event_id or ""].last_error or "") for r in dead)

    # The fault is fixed: a healthy worker takes over, and each dead event is replayed by
    # three requests at once.
    faulty.stop()
    stack.worker("fixed")
    replayed_at = time.monotonic()
    with ThreadPoolExecutor(3 * len(dead)) as pool:
        codes = list(
            pool.map(lambda r: _replay(plan, r.event_id or ""), [r for r in dead for _ in range(3)])
        )
    dead_ids = [request.event_id or "" for request in dead]
    after = stack.wait_for_events(dead_ids, lambda state: state.terminal)
    replay_seconds = time.monotonic() - replayed_at
    again = [_replay(plan, event_id) for event_id in dead_ids]
    for person in broken:
        person.reengagements = 1
    final_requests = [replace(r, expect=("done",)) if r in dead else r for r in sent]
    verdict = check_invariants(
        stack.database_url, tenant.organization_id, final_requests, persons, MAX_ATTEMPTS
    )
    scenario_report.figures.update(
        events_sent=len(sent),
        faults_injected={
            "malformed_payloads": len(POISON),
            "transient_errors": len(stack.injected("transient")),
            "flaky_events": len(flaky),
            "never_clearing_events": len(broken),
        },
        attempts_by_kind={key: sorted(set(values)) for key, values in by_kind.items()},
        replay_answers=sorted(codes),
        replay_of_done_answers=again,
        drain_after_recovery_seconds=round(replay_seconds, 1),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert sorted(codes) == [202] * len(dead) + [409] * (2 * len(dead))
    # One failed attempt per fault (a batch that failed first, before its events ran alone,
    # logs the same attempt twice).
    injected = len({(line["event_id"], line["attempt"]) for line in stack.injected("transient")})
    assert injected == FLAKY_TIMES * len(flaky) + MAX_ATTEMPTS * len(broken)
    assert all(state.action == "reengaged" and state.attempts == 1 for state in after.values())
    assert again == [409] * len(dead)
