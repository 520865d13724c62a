"""SIGTERM during load: the web drains the requests it holds, the worker hands work back.

Nothing answered 2xx is lost and nothing is applied twice: the checker's I1-I4 verdict after a
replacement worker drains what the stopped one left.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.faults.conftest import FaultStack, ScenarioReport
from tests.support.invariants import check_invariants, wait_for_drain
from tests.support.load import BackgroundLoad, LoadPlan
from tests.support.workload import interleaved_requests, make_person

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

# Two gunicorn workers (WEB_THREADS threads each, 16 by default: webhook/gunicorn_conf.py) hold
# at least eight at once.
IN_FLIGHT = 8


def _post_waiting(url: str, token: str, index: int, answers: list[object]) -> None:
    request = urllib.request.Request(
        f"{url}?wait=3",
        data=json.dumps({"phone_number": f"(415) 555-{3000 + index:04d}"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            answers.append((answer.status, json.loads(answer.read())["id"]))
    except (urllib.error.URLError, OSError) as error:
        answers.append(type(error).__name__)


def test_sigterm_to_web_finishes_requests_in_flight(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    web = stack.web(workers=2)
    url = f"{web.extra['url']}/api/lead-ingestion/{tenant.config_id}/upsert/"
    answers: list[object] = []
    # No worker runs yet, so every request waits out its 3 s in the web process.
    threads = [
        threading.Thread(target=_post_waiting, args=(url, tenant.token, index, answers))
        for index in range(IN_FLIGHT)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    web.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(60)
    exit_code = web.process.wait(30)
    accepted = [answer for answer in answers if isinstance(answer, tuple)]
    assert len(accepted) == IN_FLIGHT, answers
    assert all(status == 202 for status, _ in accepted)
    stack.worker("after-web-stop", concurrency=2)
    drain = wait_for_drain(stack.database_url, tenant.organization_id, timeout=60)
    scenario_report.figures.update(
        requests_in_flight_at_sigterm=IN_FLIGHT,
        answered_2xx=len(accepted),
        web_exit_code=exit_code,
        seconds_to_drain=round(drain, 1),
    )
    scenario_report.save()
    assert exit_code == 0


def test_sigterm_to_worker_hands_back_its_work(
    stack: FaultStack, scenario_report: ScenarioReport
) -> None:
    tenant = stack.tenant()
    persons = [make_person("G", index) for index in range(150)]
    requests = interleaved_requests(persons, 4, seed=7)
    web = stack.web()
    stack.beat()
    worker = stack.worker("stopping", concurrency=2)
    load = BackgroundLoad(
        LoadPlan(web.extra["url"], str(tenant.config_id), tenant.token, per_process_rate=40),
        requests,
    )
    time.sleep(3)
    stopped_at = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)  # Celery's warm shutdown
    exit_code = worker.process.wait(60)
    shutdown_seconds = time.monotonic() - stopped_at
    replacement = stack.worker("replacement", concurrency=2)
    sent = load.result(timeout=300)
    drain = wait_for_drain(stack.database_url, tenant.organization_id, timeout=120)
    verdict = check_invariants(stack.database_url, tenant.organization_id, sent, persons)
    scenario_report.figures.update(
        events_sent=len(sent),
        worker_exit_code=exit_code,
        warm_shutdown_seconds=round(shutdown_seconds, 1),
        seconds_to_drain_after_load=round(drain, 1),
        replacement_alive=replacement.alive(),
    )
    scenario_report.save(verdict)
    verdict.assert_ok()
    assert exit_code == 0
    assert verdict.counts["accepted"] == len(sent)
