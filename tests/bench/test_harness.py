"""The benchmark harness at tiny sizes: every piece runs, the report has its shape.

No timing is asserted anywhere: this machine is shared, and benchmark figures are data.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest

from bench import contention, end_to_end, report
from bench.accept import endurance_summary, endurance_windows
from bench.door_floor import budget_ms_per_lead
from bench.end_to_end import in_stream_order, split_by_person, split_indices
from bench.load import Answer, LoadResult, Target, event_id_of, percentile
from bench.naive_app import QUEUE, naive_row, normalized_phone
from bench.naive_peer import naive_worker_arguments
from bench.payloads import NESTED_MAPPING, build_stream, phone_for
from bench.procfile import expand_command, procfile_commands
from bench.procstats import cpu_seconds, ms_per_item, process_tree, rss_bytes
from bench.run import main
from bench.stack import (
    Servers,
    create_database,
    service_env,
    start_web,
    with_database,
    with_redis_db,
)
from bench.wrk import run_wrk, run_wrk_paced
from tests.support.services import ServiceUrls
from worker.ingest.mapping import compile_mapping
from worker.ingest.phones import normalize_phone
from worker.ingest.prepare import prepare_lead

SUMMARY = re.compile(
    r"^summary: accept_rps=\d+ bare_rps=\d+ accept_ratio=\d+\.\d\d"
    r" e2e_lps=\d+ raw_lps=\d+ e2e_ratio=\d+\.\d\d naive_lps=\d+ vs_naive=\d+\.\d\d"
    r" b2_trust_ratio=\d+\.\d\d$"
)
# The tests' own Redis database is 1 (and a session worker consumes it); the harness gets another.
HARNESS_REDIS_DB = 3


def test_expand_command_reads_variables_like_the_shell() -> None:
    command = "gunicorn --bind 0.0.0.0:$PORT --workers ${WEB_CONCURRENCY:-2} webhook.wsgi:app"
    assert expand_command(command, {"PORT": "8123"})[1:] == [
        "--bind",
        "0.0.0.0:8123",
        "--workers",
        "2",
        "webhook.wsgi:app",
    ]
    assert expand_command(command, {"PORT": "1", "WEB_CONCURRENCY": "4"})[4] == "4"


def test_procfile_names_the_services_the_harness_starts() -> None:
    assert {"web", "worker", "beat"} <= set(procfile_commands())


def test_stream_shares_and_every_payload_is_valid() -> None:
    stream = build_stream(1_000, update_share=0.3, seed=1)
    assert len(stream.events) == 1_000
    assert 650 <= stream.persons <= 750  # about 70% new persons
    mapping = compile_mapping(NESTED_MAPPING)
    for event in stream.events:
        prepared = prepare_lead(mapping, json.loads(event.body))
        assert prepared.ok, prepared.errors


def test_hot_stream_aims_at_the_hot_leads() -> None:
    stream = build_stream(2_000, update_share=0.0, hot_share=0.3, hot_leads=50, seed=1)
    hot = [event for event in stream.events if event.person_key.startswith("hot")]
    assert 500 <= len(hot) <= 700
    assert stream.hot_persons == len({event.person_key for event in hot}) == 50


def test_phones_are_valid_and_distinct() -> None:
    phones = {normalize_phone(phone_for(person)) for person in range(0, 200_000, 97)}
    assert len(phones) == len(range(0, 200_000, 97))


def test_split_by_person_keeps_each_person_on_one_client_in_order() -> None:
    stream = build_stream(500, update_share=0.5, seed=4)
    position = {event.body: index for index, event in enumerate(stream.events)}
    assert len(position) == 500
    lists = split_by_person(stream, 3)
    assert sorted(position[body] for bodies in lists for body in bodies) == list(range(500))
    clients_of: dict[str, set[int]] = {}
    for client, bodies in enumerate(lists):
        assert [position[body] for body in bodies] == sorted(position[body] for body in bodies)
        for body in bodies:
            clients_of.setdefault(json.loads(body)["lead"]["id"], set()).add(client)
    assert all(len(clients) == 1 for clients in clients_of.values())


def test_answers_go_back_to_the_stream_order() -> None:
    stream = build_stream(200, update_share=0.3, hot_share=0.3, hot_leads=5, seed=5)
    split = split_indices(stream, 3)
    per_client = [[Answer((202,), f"e{index}") for index in indices] for indices in split]
    answers = in_stream_order(split, per_client)
    assert [answer.event_id for answer in answers] == [f"e{index}" for index in range(200)]


def test_event_id_of_an_answer_body() -> None:
    assert event_id_of(b'{"id": "abc", "status": "received"}') == "abc"
    assert event_id_of(b"") is None
    assert event_id_of(b"[1]") is None


def test_checker_inputs_expect_what_the_mapping_stores() -> None:
    stream = build_stream(400, update_share=0.2, hot_share=0.3, hot_leads=10, seed=7)
    answers = [Answer((503, 202), str(uuid.uuid4())) for _ in stream.events]
    requests, persons = contention.checker_inputs(stream, answers)
    assert len(requests) == 400
    assert len(persons) == stream.persons
    by_key = {person.key: person for person in persons}
    assert all(person.reengagements == 0 for person in persons)
    mapping = compile_mapping(NESTED_MAPPING)
    for request, answer in zip(requests, answers, strict=True):
        assert request.accepted and request.event_id == answer.event_id
        assert (request.tries, request.answers) == (2, ["503", "202"])
        prepared = prepare_lead(mapping, request.body)
        identifiers = by_key[request.person].identifiers
        assert identifiers == {
            name: prepared.values[name] for name in ("external_id", "phone_number")
        }
        assert request.checked == {
            "email": prepared.values["email"],
            "metadata.loan_amount": prepared.metadata["loan_amount"],
        }
    # Each hot person's events carry different amounts, so I3 can tell them apart.
    amounts: dict[str, set[int]] = {}
    for request in requests:
        amounts.setdefault(request.person, set()).add(request.checked["metadata.loan_amount"])
    counts = {key: sum(r.person == key for r in requests) for key in amounts}
    assert all(len(amounts[key]) == counts[key] for key in amounts if key.startswith("hot"))


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.99) == 0.0


def test_process_stats_of_this_process() -> None:
    import os

    assert os.getpid() in process_tree(os.getpid())
    assert cpu_seconds([os.getpid()]) > 0
    assert rss_bytes(os.getpid()) > 10 * 1024 * 1024


def test_summary_line_without_results_says_not_available() -> None:
    line = report.summary_line({})
    assert line == (
        "summary: accept_rps=n/a bare_rps=n/a accept_ratio=n/a e2e_lps=n/a raw_lps=n/a"
        " e2e_ratio=n/a naive_lps=n/a vs_naive=n/a b2_trust_ratio=n/a"
    )


def test_summary_line_carries_the_naive_peer() -> None:
    results = {
        "B1": {"accept_rps": 812.4, "bare_rps": 1624.8, "accept_ratio": 0.5},
        "B2": {
            "leads_per_s": 450.0,
            "raw": {"leads_per_s": 900.0},
            "e2e_ratio": 0.5,
            "naive": {"leads_per_s": 300.0},
            "vs_naive": 1.5,
            "trust_off": {"leads_per_s": 480.0},
            "b2_trust_ratio": 0.9375,
        },
    }
    assert report.summary_line(results) == (
        "summary: accept_rps=812 bare_rps=1625 accept_ratio=0.50 e2e_lps=450 raw_lps=900"
        " e2e_ratio=0.50 naive_lps=300 vs_naive=1.50 b2_trust_ratio=0.94"
    )


def test_the_table_shows_b2_with_trust_off_and_on_side_by_side() -> None:
    b2 = {
        "events": 10, "persons": 8, "posted": {"rps": 100.0}, "by_status": {"done": 10},
        "accept_s": 0.1, "wall_s": 0.2, "leads_per_s": 470.0, "cpu_s": {"web": 1.0},
        "cpu_s_per_lead": 0.01, "machine_busy_pct": 50.0, "memory": [],
        "trust_off": {"leads_per_s": 500.0}, "b2_trust_ratio": 0.94,
    }  # fmt: skip
    shown = report.table({"B2": b2}, {}).splitlines()
    for metric, value in (
        ("trust off (no field history): leads/s", "500.0"),
        ("trust on (every trust feature): leads/s", "470.0"),
        ("b2_trust_ratio (on / off)", "0.940"),
    ):
        assert any(metric in line and value in line for line in shown), metric


def test_cpu_budget_is_the_cores_over_the_rate_and_shows_beside_the_spend() -> None:
    assert budget_ms_per_lead(1000.0, cores=2) == 2.0
    assert budget_ms_per_lead(400.0, cores=2) == 5.0
    assert ms_per_item(10.0, 12.5, 1000) == 2.5
    assert ms_per_item(10.0, 12.5, 0) is None
    b2 = {
        "events": 10, "persons": 8, "posted": {"rps": 100.0}, "by_status": {"done": 10},
        "accept_s": 0.1, "wall_s": 0.2, "leads_per_s": 470.0, "cpu_s": {"web": 1.0},
        "cpu_s_per_lead": 0.01, "machine_busy_pct": 50.0, "memory": [],
        "machine_cpu_ms_per_lead": 4.75, "naive": {"accept_s": 1.0, "wall_s": 1.0,
        "leads_per_s": 500.0, "machine_cpu_ms_per_lead": 3.5},
        "raw": {"leads_per_s": 2000.0, "machine_cpu_ms_per_lead": 0.75},
        "door_floor": {"requests_per_s": 900.0, "machine_cpu_ms_per_request": 1.25,
                       "web_cpu_ms_per_request": 0.5},
        "cpu_budget_ms_per_lead": {"1000.0": 2.0, "750.0": 2.667},
    }  # fmt: skip
    shown = report.table({"B2": b2}, {}).splitlines()
    for metric, value in (
        (
            "machine CPU ms per lead: leadgate / naive / raw loop / bare door",
            "4.750 / 3.500 / 0.750 / 1.250",
        ),
        ("bare door: req/s, web CPU ms per request", "900.0, 0.500"),
        ("CPU budget ms per lead at 1000 leads/s", "2.000"),
        ("CPU budget ms per lead at 750 leads/s", "2.667"),
    ):
        assert any(metric in line and value in line for line in shown), metric


def test_trust_ratio_is_on_over_off() -> None:
    assert end_to_end.trust_ratio(450.0, 500.0) == 0.9
    worker = {"by_status": {"done": 400}, "cpu_s": {"web": 9.0, "worker": 2.0}}
    assert end_to_end.worker_cpu_per_lead(worker) == 0.005
    assert end_to_end.worker_cpu_per_lead({"by_status": {}, "cpu_s": {}}) is None
    assert end_to_end.trust_ratio(450.0, None) is None
    assert end_to_end.TRUST_OFF_ENV == {"LEADGATE_HISTORY_RETENTION_DAYS": "0"}


def test_endurance_windows_split_a_long_run() -> None:
    assert endurance_windows(60, 10) == (10, 40, 10)
    assert endurance_windows(4, 1) == (1, 2, 1)
    # A run shorter than two windows is two halves with nothing between.
    assert endurance_windows(6, 10) == (3, 0, 3)


def _load(requests: int, seconds: float) -> LoadResult:
    return LoadResult("wrk", requests, seconds, requests, 0, 0, 1.0, 2.0, 3.0)


def test_endurance_summary_compares_the_last_window_with_the_first() -> None:
    summary = endurance_summary(_load(5_000, 10), _load(4_000, 10), 60)
    assert (summary["first_rps"], summary["last_rps"]) == (500.0, 400.0)
    assert summary["last_vs_first"] == 0.8
    assert endurance_summary(_load(0, 10), _load(10, 10), 60)["last_vs_first"] is None


def test_naive_peer_normalizes_the_phone_and_picks_fields_by_hand() -> None:
    stream = build_stream(3, update_share=0.0, seed=3)
    payload = json.loads(stream.events[0].body)
    row = naive_row(payload, organization_id=7)
    assert row[0] == 7
    assert row[1] == str(payload["lead"]["id"])
    assert row[2] == normalize_phone(payload["contact"]["phone"])
    assert row[2] is not None and row[2].startswith("+1")
    assert normalized_phone("not a phone") is None
    assert normalized_phone(None) is None


def test_naive_worker_runs_the_procfile_command_on_its_own_app_and_queue() -> None:
    command = "celery -A worker.celery_app worker --concurrency ${WORKER_CONCURRENCY:-2} -Q a,b"
    arguments = naive_worker_arguments(command, {"WORKER_CONCURRENCY": "3"})
    assert arguments[1:] == [
        "-A",
        "bench.naive_app:celery",
        "worker",
        "--concurrency",
        "3",
        "-Q",
        QUEUE,
    ]


@pytest.fixture
def harness_urls(services: ServiceUrls) -> tuple[str, str]:
    """The test PostgreSQL server and a Redis database of the harness's own."""
    return (
        with_database(services.database_url, "postgres"),
        with_redis_db(services.redis_url, HARNESS_REDIS_DB),
    )


@pytest.mark.integration
def test_b3_checker_reports_lost_events_and_missing_leads(harness_urls: tuple[str, str]) -> None:
    database_server, redis_url = harness_urls
    database = create_database(Servers(database_server, redis_url), "checker")
    try:
        stream = build_stream(6, update_share=0.0, hot_share=0.5, hot_leads=2, seed=1)
        answers = [Answer((202,), str(uuid.uuid4())) for _ in stream.events]
        checked = contention.check(database.url, 1, stream, answers, max_attempts=8)
    finally:
        database.drop()
    invariants = checked["invariants"]
    assert set(invariants) == {"I1", "I2", "I3", "I4"}
    assert not checked["invariants_hold"]
    assert not invariants["I1"]["holds"] and "is not stored" in invariants["I1"]["detail"]
    assert not invariants["I2"]["holds"] and "has no lead" in invariants["I2"]["detail"]
    assert invariants["I3"]["holds"] and invariants["I4"]["holds"]
    assert checked["invariant_counts"]["accepted"] == 6


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_posts_to_the_bare_view(harness_urls: tuple[str, str]) -> None:
    database_server, redis_url = harness_urls
    web = start_web(service_env(database_server, redis_url), app="bench.baseline_app:app")
    try:
        target = Target.at(web.url, "/api/lead-ingestion/x/upsert/", "t")
        result = run_wrk("wrk", target, duration=1, connections=2, threads=1)
    finally:
        web.stop()
    assert result.requests > 0
    assert result.non_2xx == 0
    assert result.p99_ms >= result.p50_ms > 0


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_paced_wrk_holds_its_rate_and_reports_its_send_lag(
    harness_urls: tuple[str, str],
) -> None:
    database_server, redis_url = harness_urls
    web = start_web(service_env(database_server, redis_url), app="bench.baseline_app:app")
    try:
        target = Target.at(web.url, "/api/lead-ingestion/x/upsert/", "t")
        result = run_wrk_paced("wrk", target, rate=50, duration=2, connections=4, threads=2)
    finally:
        web.stop()
    # Open loop at 50/s for 2 s: about 100 requests, however fast the view answers (closed
    # loop, 4 connections would send thousands).
    assert result.generator == "wrk-paced" and result.target_rps == 50
    assert 80 <= result.requests <= 110, result
    assert result.non_2xx == 0 and result.socket_errors == 0
    assert result.send_lag_p99_ms is not None and result.send_lag_p99_ms >= 0


@pytest.mark.integration
@pytest.mark.slow
# Four benchmarks, each starting its services (B2 twice: leadgate and the naive peer), and B8's
# inbox filled once, on a machine other test runs share.
@pytest.mark.timeout(900)
def test_quick_run_prints_the_table_the_json_and_the_summary_last(
    harness_urls: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database_server, redis_url = harness_urls
    code = main(
        [
            "--quick",
            "--python-load",
            "--no-install",
            "--events=40",
            "--clients=2",
            "--soak-seconds=3",
            f"--database-url={database_server}",
            f"--redis-url={redis_url}",
            f"--results-dir={tmp_path}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.rstrip("\n").splitlines()
    assert SUMMARY.match(lines[-1]), lines[-1]
    assert lines[0].split() == ["benchmark", "metric", "value", "target"]
    names = ("B1 accept", "B2 end to end", "B3 contention", "B4 soak", "B5 import", "B6 impact")
    for name in (*names, "B7 outbound", "B9 health", "B10 release", "B8 inbox"):
        assert any(line.startswith(name) for line in lines), name

    (written,) = tmp_path.glob("*.json")
    document = json.loads(written.read_text())
    assert document["summary"] == lines[-1]
    assert document["errors"] == {}
    results = document["results"]
    assert set(results) == {
        "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B9", "B10", "B8", "RECOVERY"
    }  # fmt: skip
    # B8 keeps its 50,000-event database for the next quick run (bench/README.md).
    assert results["B8"]["rows"] == 50_000
    assert results["B8"]["queries"]["claim"]["returned_min"] >= 1
    assert results["B10"]["release_done"] == results["B10"]["usual_done"] == 200
    assert results["B7"]["outbound"]["delivered"] > 0
    assert results["B6"]["sample"] == 200
    assert 0 < results["B6"]["report_median_s"] <= results["B6"]["report_max_s"]
    for side in ("leadgate", "bare"):
        assert results["B1"][side]["saturation"]["ok"] > 0
        assert results["B1"][side]["fixed_rate"]["ok"] > 0
        assert results["B1"][side]["machine_cpu_ms_per_request"] > 0
    # The bare view never connects to the database; leadgate's web stores every request there.
    assert results["B1"]["leadgate"]["database_cpu_ms_per_request"] > 0
    assert results["B1"]["bare"]["database_cpu_ms_per_request"] is None
    endurance = results["B1"]["endurance"]
    assert endurance["first_window"]["ok"] > 0 and endurance["last_window"]["ok"] > 0
    assert endurance["last_vs_first"] > 0
    naive = results["B2"]["naive"]
    assert naive["complete"] and naive["applied"] == 40, naive
    assert results["B2"]["vs_naive"] > 0
    assert naive["machine_cpu_ms_per_lead"] > 0 and results["B2"]["machine_cpu_ms_per_lead"] > 0
    door = results["B2"]["door_floor"]
    assert door["posted"]["ok"] == 40 and door["machine_cpu_ms_per_request"] > 0, door
    assert door["web_cpu_ms_per_request"] > 0
    assert results["B2"]["raw"]["machine_cpu_ms_per_lead"] > 0
    assert any("machine CPU ms per lead: leadgate / naive / raw" in line for line in lines)
    assert results["B2"]["accept_s"] <= results["B2"]["wall_s"]
    trust_off = results["B2"]["trust_off"]
    assert trust_off["by_status"] == {"done": 40} and trust_off["leads_per_s"] > 0
    assert trust_off["worker_cpu_s_per_lead"] > 0 and results["B2"]["worker_cpu_s_per_lead"] > 0
    assert results["B2"]["b2_trust_ratio"] > 0
    assert any("b2_trust_ratio (on / off)" in line for line in lines)
    for name in ("B2", "B3"):
        assert results[name]["complete"]
        assert results[name]["by_status"] == {"done": 40}
        assert results[name]["cpu_s_per_lead"] > 0
        assert {"web child", "worker child"} <= set(results[name]["peak_rss_mb"])
    assert results["B2"]["raw"]["leads"] == 40
    assert results["B2"]["round_trips"]["worker_per_new_lead"]["db_statements"] > 0
    b3 = results["B3"]
    assert b3["invariants_hold"], b3["invariant_violations"]
    assert set(b3["invariants"]) == {"I1", "I2", "I3", "I4"}
    assert b3["invariant_counts"]["accepted"] == b3["invariant_counts"]["events"] == 40
    assert b3["invariant_counts"]["leads"] == b3["persons"]
    for name in ("I1", "I2", "I3", "I4"):
        assert any(re.match(rf"^B3 contention\s+{name}\s+holds: ", line) for line in lines), name
    assert results["B4"]["complete"]
    assert results["B4"]["received_to_done"]["events"] > 0
    assert results["B9"]["batches"] == 60 and results["B9"]["health_ms_per_batch"] > 0
    recovery = results["RECOVERY"]
    assert recovery["complete"] and recovery["by_status"] == {"done": recovery["events"]}
    assert recovery["held_at_kill"] > 0
    assert recovery["kill_to_held_done_s"] is not None
    assert any(line.startswith("recovery ") for line in lines)
    b5 = results["B5"]
    assert b5["exit_code"] == 0, b5["summary"]
    assert b5["error_file_rows"] == b5["bad_rows"] == 40
    assert b5["rows_per_s"] > 0 and b5["copy_ratio"] > 0
    assert {"worker child", "import master"} <= {process["role"] for process in b5["memory"]}
    assert b5["rss_under_limit"]
