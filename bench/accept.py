"""B1 accept: requests/s at saturation, then p50/p99 at 80% of it; leadgate and a bare Flask view.

Only the web runs (with the database and Redis): the accept path is measured on its own, and
the bare baseline (``bench.baseline_app``) gets the same gunicorn command line from the Procfile.
Each side is held at 80% of its own saturation rate for its latencies; the generator's send lag
says when the generator, not the server, set the pace. Leadgate then runs a long saturation
(60 s) whose first and last windows (10 s) are compared: an inbox that grows must not slow the
door.
Both use wrk when it is there (installed from Debian when allowed): at saturation with
``bench/upsert.lua``, at the fixed rate with ``bench/paced.lua`` (open loop over twice the
connections, so a slow answer does not hold the schedule back). Without wrk, the Python
generators stand in (closed loop; open loop from asyncio, which on two cores cannot hold the
rates of the bare view and costs the server the CPU it spends).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench import profile
from bench.door_floor import BARE_APP
from bench.end_to_end import memory_report
from bench.events import backend_cpu_seconds
from bench.load import BodySource, LoadResult, Target, closed_loop, fixed_rate
from bench.payloads import create_tenant
from bench.procfile import gunicorn_settings, procfile_commands
from bench.procstats import RssSampler, machine_cpu_seconds, ms_per_item, tree_cpu
from bench.stack import Servers, create_database, service_env, start_web
from bench.wrk import find_wrk, run_wrk, run_wrk_paced


@dataclass
class AcceptPlan:
    """Durations and concurrency of B1."""

    saturation_s: float = 10.0
    fixed_s: float = 10.0
    warmup_s: float = 2.0
    connections: int = 32
    fixed_share: float = 0.8
    # The long saturation run and the windows at its start and end that are compared.
    endurance_s: float = 60.0
    window_s: float = 10.0
    install_wrk: bool = True
    use_wrk: bool = True
    # py-spy leadgate's web during its saturation and fixed-rate runs (not the endurance run).
    profile_dir: Path | None = None


def saturate(target: Target, plan: AcceptPlan, wrk: str | None, seconds: float) -> LoadResult:
    """Closed-loop load for ``seconds``: wrk when available, else Python."""
    if wrk is not None:
        return run_wrk(wrk, target, seconds, plan.connections)
    source = BodySource(count=20_000, run_tag="accept-sat")
    return closed_loop(target, source, plan.connections, seconds)


def hold_rate(target: Target, plan: AcceptPlan, wrk: str | None, rate: float) -> LoadResult:
    """Open-loop load at ``rate`` for ``fixed_s``: wrk paced when available, else Python."""
    if wrk is not None:
        return run_wrk_paced(wrk, target, rate, plan.fixed_s, 2 * plan.connections)
    source = BodySource(count=20_000, run_tag="accept-fixed")
    return fixed_rate(target, source, rate, plan.fixed_s)


def measure(
    target: Target, plan: AcceptPlan, wrk: str | None, pid: int, database_url: str | None = None
) -> dict[str, Any]:
    """Warm up, saturate, then hold 80% of that saturation rate.

    The web's CPU per request at saturation (its process tree, from ``/proc``) is the steadier
    figure on a shared machine: requests/s is whatever the other work left over. The whole
    machine's CPU per request (load generator included) and, given the web's database, its
    PostgreSQL backends' share say where the rest of a saturated box went.
    """
    saturate(target, plan, wrk, plan.warmup_s)
    cpu_before, busy_before = tree_cpu({"web": pid})["web"], machine_cpu_seconds()[0]
    database_before = backend_cpu_seconds(database_url)[0] if database_url else 0.0
    saturation = saturate(target, plan, wrk, plan.saturation_s)
    cpu_after, busy_after = tree_cpu({"web": pid})["web"], machine_cpu_seconds()[0]
    database_after = backend_cpu_seconds(database_url)[0] if database_url else 0.0
    rate = max(1.0, plan.fixed_share * saturation.rps)
    fixed = hold_rate(target, plan, wrk, rate)
    requests = saturation.requests
    return {
        "saturation": saturation.as_dict(),
        "web_cpu_ms_per_request": ms_per_item(cpu_before, cpu_after, requests),
        "machine_cpu_ms_per_request": ms_per_item(busy_before, busy_after, requests),
        "database_cpu_ms_per_request": ms_per_item(database_before, database_after, requests)
        if database_url
        else None,
        "fixed_rate": fixed.as_dict(),
    }


def endurance_windows(total_s: float, window_s: float) -> tuple[float, float, float]:
    """Seconds of the first window, the stretch between, and the last window of a long run."""
    window = min(window_s, total_s / 2)
    return window, max(0.0, total_s - 2 * window), window


def endurance_summary(first: LoadResult, last: LoadResult, total_s: float) -> dict[str, Any]:
    """The accept rate of the first and last windows, and the last as a share of the first."""
    return {
        "seconds": total_s,
        "first_window": first.as_dict(),
        "last_window": last.as_dict(),
        "first_rps": round(first.rps, 1),
        "last_rps": round(last.rps, 1),
        "last_vs_first": round(last.rps / first.rps, 3) if first.rps else None,
    }


def endurance(target: Target, plan: AcceptPlan, wrk: str | None) -> dict[str, Any]:
    """Saturate for ``endurance_s``, measuring its first and last windows on their own."""
    first_s, middle_s, last_s = endurance_windows(plan.endurance_s, plan.window_s)
    first = saturate(target, plan, wrk, first_s)
    if middle_s > 0:
        saturate(target, plan, wrk, middle_s)
    last = saturate(target, plan, wrk, last_s)
    return endurance_summary(first, last, plan.endurance_s)


def rows_per_commit(database_url: str) -> dict[str, Any]:
    """Events stored and the transactions that stored them: how well group commit batched."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*), count(DISTINCT xmin::text) FROM ingestion_events"
        ).fetchone()
    events, commits = row if row is not None else (0, 0)
    return {
        "events": events,
        "commits": commits,
        "rows_per_commit": round(events / commits, 2) if commits else None,
    }


def _profiled(
    name: str, pid: int, plan: AcceptPlan, target: Target, wrk: str | None, database_url: str
) -> dict[str, Any]:
    """``measure`` with py-spy on ``pid`` when the plan asks for a profile and py-spy is there."""
    py_spy = profile.find_py_spy() if plan.profile_dir else None
    if plan.profile_dir is None or py_spy is None:
        return measure(target, plan, wrk, pid, database_url)
    recording = profile.start_recording(py_spy, f"b1-{name}", pid, plan.profile_dir)
    try:
        result = measure(target, plan, wrk, pid, database_url)
    finally:
        recording.stop()
    result["profile"] = {
        "file": str(recording.output),
        "top": profile.summarize(recording.output, top=15),
    }
    return result


def run(servers: Servers, plan: AcceptPlan) -> dict[str, Any]:
    """B1 for leadgate's web and for the bare view, in that order, on one fresh database."""
    database = create_database(servers, "b1")
    try:
        tenant = create_tenant(database.sqlalchemy_url)
        env = service_env(database.url, servers.redis_url)
        wrk = find_wrk(plan.install_wrk) if plan.use_wrk else None
        results: dict[str, Any] = {
            "load_generator": "wrk" if wrk else "python",
            "connections": plan.connections,
        }
        for name, app in (("leadgate", None), ("bare", BARE_APP)):
            web = start_web(env, app=app)
            try:
                sampler = RssSampler({"web": web.pid}).start()
                target = Target.at(web.url, tenant.upsert_path, tenant.token)
                results[name] = (
                    _profiled(name, web.pid, plan, target, wrk, database.url)
                    if app is None
                    else measure(target, plan, wrk, web.pid)
                )
                if app is None:
                    results["endurance"] = endurance(target, plan, wrk)
                    results["batching"] = rows_per_commit(database.url)
                results[name]["memory"] = memory_report(sampler)
            finally:
                web.stop()
    finally:
        database.drop()
    leadgate, bare = results["leadgate"]["saturation"], results["bare"]["saturation"]
    results["web_settings"] = gunicorn_settings(procfile_commands()["web"])
    results["accept_rps"] = leadgate["rps"]
    results["bare_rps"] = bare["rps"]
    results["accept_ratio"] = round(leadgate["rps"] / bare["rps"], 3) if bare["rps"] else None
    results["p50_ms_at_80pct"] = results["leadgate"]["fixed_rate"]["p50_ms"]
    results["p99_ms_at_80pct"] = results["leadgate"]["fixed_rate"]["p99_ms"]
    results["bare_p99_ms_at_80pct"] = results["bare"]["fixed_rate"]["p99_ms"]
    return results
