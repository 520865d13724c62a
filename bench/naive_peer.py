"""B2's naive peer end to end: ``bench.naive_app`` under the Procfile's process counts.

The same stream, clients and posting as leadgate's run, on a database of its own: the web and
the worker run together, so posting and processing overlap. Timed from the first post to the
last lead written; the time to accept (the last answer) is reported beside it.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from bench.load import Target, post_in_order
from bench.naive_app import CREATE_TABLE, QUEUE
from bench.payloads import Stream
from bench.procfile import expand_command, procfile_commands
from bench.procstats import machine_cpu_seconds, ms_per_item
from bench.stack import (
    Servers,
    ServiceProcess,
    create_database,
    service_env,
    spawn,
    start_web,
    worker_answers,
)

NAIVE_MODULE = "bench.naive_app"
# Named explicitly: given the module alone, celery would pick its Flask ``app``.
NAIVE_CELERY = f"{NAIVE_MODULE}:celery"


def naive_worker_arguments(worker_command: str, env: dict[str, str]) -> list[str]:
    """The Procfile's worker command line with the naive app and its queue swapped in."""
    arguments = expand_command(worker_command, env)
    swapped = list(arguments)
    for index, argument in enumerate(arguments[:-1]):
        if argument == "-A":
            swapped[index + 1] = NAIVE_CELERY
        elif argument == "-Q":
            swapped[index + 1] = QUEUE
    return swapped


def start_naive_worker(env: dict[str, str], timeout: float = 90) -> ServiceProcess:
    """Start the naive worker and wait until it answers a ping."""
    worker = spawn("naive-worker", naive_worker_arguments(procfile_commands()["worker"], env), env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError(f"naive worker exited at start:\n{worker.log()}")
        if worker_answers(env, NAIVE_CELERY):
            return worker
        time.sleep(0.2)
    worker.stop()
    raise RuntimeError(f"naive worker not ready within {timeout} s:\n{worker.log()}")


def wait_until_applied(
    database_url: str, expected: int, timeout: float, poll: float = 0.25
) -> tuple[int, float | None]:
    """Poll until ``expected`` payloads are applied; how many were, and when the last one was."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as connection:
        while True:
            row = connection.execute(
                "SELECT coalesce(sum(events), 0), extract(epoch FROM max(modified_time))"
                " FROM naive_leads"
            ).fetchone()
            applied, last = (int(row[0]), row[1]) if row else (0, None)
            if applied >= expected or time.monotonic() > deadline:
                return applied, None if last is None else float(last)
            time.sleep(poll)


def run_naive(
    servers: Servers, stream: Stream, split: list[list[int]], drain_timeout_s: float
) -> dict[str, Any]:
    """Post the stream to the naive peer and wait until every accepted payload is applied."""
    database = create_database(servers, "b2naive")
    web = worker = None
    try:
        with psycopg.connect(database.url, autocommit=True) as connection:
            connection.execute(CREATE_TABLE)
        env = service_env(database.url, servers.redis_url)
        worker = start_naive_worker(env)
        web = start_web(env, app=f"{NAIVE_MODULE}:app")
        target = Target.at(web.url, "/api/lead-ingestion/naive/upsert/", "naive")
        busy_before = machine_cpu_seconds()[0]
        posted = post_in_order(target, stream.bodies_by_client(split))
        applied, last = wait_until_applied(database.url, posted.ok, drain_timeout_s)
        busy_after = machine_cpu_seconds()[0]
    finally:
        for service in (web, worker):
            if service is not None:
                service.stop()
        database.drop()
    end = last or posted.ended_at
    wall = max(end - posted.started_at, 1e-9)
    return {
        "events": len(stream.events),
        "posted": posted.as_dict(),
        "applied": applied,
        "complete": applied >= posted.ok,
        "accept_s": round(posted.ended_at - posted.started_at, 2),
        "wall_s": round(wall, 2),
        "leads_per_s": round(applied / wall, 1),
        "machine_cpu_ms_per_lead": ms_per_item(busy_before, busy_after, applied),
    }
