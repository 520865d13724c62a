"""B2 end to end: post a stream of events as fast as possible, time until the last one is done.

70% of the events are new persons and 30% updates to persons sent earlier, posted by several
client processes (each person always by the same client, so a person's events arrive in order).
The worker runs while the clients post, so posting and processing overlap; the time to accept
(first post to last answer) and the time to drain (first post to last event done) are both kept.
Two baselines: ``bench.raw_baseline`` (one process, one ``INSERT ... ON CONFLICT`` and one commit
per lead, on the same database with the services stopped), and the naive Flask + Celery peer
(``bench.naive_peer``), posted the same stream by the same clients under the same process counts.
Two more baselines post the same stream: the services of the revision before the trust features
(``bench.revision``), before and again after the measured pass (``b2_vs_revision`` is what the
features cost as a whole), and a stack of this tree that keeps no field history
(``TRUST_OFF_ENV``; ``b2_trust_ratio`` is what provenance alone costs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import profile
from bench.door_floor import budget_ms_per_lead, run_door_floor
from bench.events import backend_cpu_seconds, wait_until_terminal
from bench.load import Answer, Target, post_in_order
from bench.naive_peer import run_naive
from bench.payloads import Stream, Tenant, build_stream, create_tenant
from bench.procfile import REPO_ROOT
from bench.procstats import RssSampler, machine_cpu_seconds, ms_per_item, tree_cpu
from bench.raw_baseline import run_raw_loop
from bench.revision import TRUST_BASELINE_REVISION, SourceTree, export_revision
from bench.round_trips import measure_round_trips
from bench.stack import BenchDatabase, Servers, create_database, start_stack

MB = 1024 * 1024
# The trust-off pass: the worker writes no field history (the setting's "keep none").
TRUST_OFF_ENV = {"LEADGATE_HISTORY_RETENTION_DAYS": "0"}
# The end-to-end target on this box, leads per second.
B2_TARGET_LPS = 1000.0


@dataclass
class PipelinePlan:
    """How big an end-to-end run is and what it records besides the timing."""

    events: int = 20_000
    clients: int = 4
    update_share: float = 0.3
    hot_share: float = 0.0
    drain_timeout_s: float = 1800.0
    profile_dir: Path | None = None
    # Profile waits too (lock polling, socket reads), not only running code.
    profile_idle: bool = False
    round_trip_events: int = 50
    # B2 only: run the stream once with TRUST_OFF_ENV first, for b2_trust_ratio.
    trust_off_pass: bool = True
    # B2 only: run the stream first at this git revision, for b2_vs_revision (None: skip).
    baseline_revision: str | None = TRUST_BASELINE_REVISION


def split_indices(stream: Stream, clients: int) -> list[list[int]]:
    """The stream's event indices in per-client lists; a person's events all go to one client."""
    lists: list[list[int]] = [[] for _ in range(clients)]
    for index, event in enumerate(stream.events):
        lists[zlib.crc32(event.person_key.encode()) % clients].append(index)
    return [indices for indices in lists if indices]


def split_by_person(stream: Stream, clients: int) -> list[list[bytes]]:
    """The stream's bodies in per-client lists; a person's events all go to one client."""
    return stream.bodies_by_client(split_indices(stream, clients))


def in_stream_order(split: list[list[int]], answers: list[list[Answer]]) -> list[Answer]:
    """Per-client answers put back in the order of the stream the split was made from."""
    ordered: list[Answer | None] = [None] * sum(map(len, split))
    for indices, client_answers in zip(split, answers, strict=True):
        for index, answer in zip(indices, client_answers, strict=True):
            ordered[index] = answer
    assert all(answer is not None for answer in ordered), "an event has no answer"
    return [answer for answer in ordered if answer is not None]


@dataclass
class PipelineRun:
    """A finished pipeline load: its figures, and what is left to check before dropping it."""

    result: dict[str, Any]
    database: BenchDatabase
    tenant: Tenant
    # What each event of the stream got, in the stream's order.
    answers: list[Answer]


def memory_report(sampler: RssSampler) -> list[dict[str, Any]]:
    """Peak and last RSS of every process the sampler saw, in MB."""
    return [
        {
            "role": seen.role,
            "pid": seen.pid,
            "peak_rss_mb": round(seen.max_rss / MB, 1),
            "first_rss_mb": round(seen.first_rss / MB, 1),
            "last_rss_mb": round(seen.last_rss / MB, 1),
        }
        for seen in sampler.stop()
    ]


def run_pipeline_load(
    servers: Servers,
    label: str,
    stream: Stream,
    plan: PipelinePlan,
    prepare: Callable[[BenchDatabase, Tenant], None] | None = None,
    settle: Callable[[BenchDatabase, Tenant], dict[str, Any]] | None = None,
    extra_env: Mapping[str, str] | None = None,
    source: SourceTree | None = None,
) -> PipelineRun:
    """Post the stream to a fresh stack and wait until every event is terminal.

    Returns the measurements, the answers, and the database and tenant (still there) for
    further checks. The caller drops the database. ``prepare`` adds rows before the services
    start (B7's webhooks); ``settle`` runs once the events are terminal, before the services
    stop, and its figures go in the result as ``settled``; ``extra_env`` adds settings to the
    services; ``source`` runs another revision's migrations, tenant and services instead.
    """
    database = create_database(servers, label, source.migrate if source else None)
    try:
        tenant = (source.create_tenant if source else create_tenant)(database.sqlalchemy_url)
        if prepare is not None:
            prepare(database, tenant)
        env = {**(extra_env or {}), **(source.environment() if source else {})}
        root = source.root if source else REPO_ROOT
        stack = start_stack(database, servers, extra_env=env, root=root)
    except BaseException:
        database.drop()
        raise
    recordings: list[profile.Recording] = []
    try:
        assert stack.web is not None
        roots = stack.roots()
        sampler = RssSampler(roots).start()
        cpu_before, machine_before = tree_cpu(roots), machine_cpu_seconds()
        py_spy = profile.find_py_spy() if plan.profile_dir else None
        if plan.profile_dir is not None and py_spy is not None:
            recordings = [
                profile.start_recording(
                    py_spy, f"{label}-{name}", roots[name], plan.profile_dir, idle=plan.profile_idle
                )
                for name in ("web", "worker")
            ]
        target = Target.at(stack.web.url, tenant.upsert_path, tenant.token)
        split = split_indices(stream, plan.clients)
        posted = post_in_order(target, stream.bodies_by_client(split))
        completion = wait_until_terminal(
            database.url, tenant.organization_id, posted.ok, plan.drain_timeout_s
        )
        cpu_after, machine_after = tree_cpu(roots), machine_cpu_seconds()
        database_cpu, backends = backend_cpu_seconds(database.url)
        memory = memory_report(sampler)
        settled = settle(database, tenant) if settle is not None else None
    finally:
        for recording in recordings:
            recording.stop()
        stack.stop()
        if sys.exc_info()[0] is not None:
            database.drop()
    end = completion.last_processed or posted.ended_at
    wall = max(end - posted.started_at, 1e-9)
    cpu = {name: round(cpu_after[name] - cpu_before[name], 2) for name in roots}
    service_cpu = cpu["web"] + cpu["worker"]
    busy = machine_after[0] - machine_before[0]
    total = machine_after[1] - machine_before[1]
    result: dict[str, Any] = {
        "events": len(stream.events),
        "persons": stream.persons,
        "clients": plan.clients,
        "posted": posted.as_dict(),
        "by_status": completion.by_status,
        "complete": completion.complete,
        "accept_s": round(posted.ended_at - posted.started_at, 2),
        "wall_s": round(wall, 2),
        "leads_per_s": round(completion.done / wall, 1),
        "cpu_s": cpu,
        "cpu_s_per_lead": round(service_cpu / max(completion.done, 1), 5),
        "database_cpu_s": round(database_cpu, 2),
        "database_backends": backends,
        "database_cpu_s_per_lead": round(database_cpu / max(completion.done, 1), 5),
        "machine_busy_pct": round(100 * busy / total, 1) if total else None,
        "machine_cpu_ms_per_lead": ms_per_item(0.0, busy, completion.done),
        "memory": memory,
        "peak_rss_mb": _peak_by_role(memory),
    }
    if settled is not None:
        result["settled"] = settled
    if recordings:
        result["profiles"] = {
            recording.name: {
                "file": str(recording.output),
                "top": profile.summarize(recording.output, top=15),
            }
            for recording in recordings
        }
    return PipelineRun(result, database, tenant, in_stream_order(split, posted.answers))


def _peak_by_role(memory: list[dict[str, Any]]) -> dict[str, float]:
    peaks: dict[str, float] = {}
    for process in memory:
        peaks[process["role"]] = max(peaks.get(process["role"], 0.0), process["peak_rss_mb"])
    return peaks


_BASELINE_FIGURES = (
    "leads_per_s", "wall_s", "accept_s", "by_status", "complete", "cpu_s", "cpu_s_per_lead",
    "database_cpu_s_per_lead", "machine_busy_pct", "machine_cpu_ms_per_lead", "load_average_before",
    "profiles",
)  # fmt: skip


def run_baseline_pass(
    servers: Servers,
    label: str,
    stream: Stream,
    plan: PipelinePlan,
    extra_env: Mapping[str, str] | None = None,
    source: SourceTree | None = None,
) -> dict[str, Any]:
    """One baseline pass of the stream on a fresh stack: the figures a ratio is made of."""
    load_before = [round(value, 2) for value in os.getloadavg()]
    pipeline = run_pipeline_load(servers, label, stream, plan, extra_env=extra_env, source=source)
    pipeline.database.drop()
    pipeline.result["load_average_before"] = load_before
    figures = {key: pipeline.result[key] for key in _BASELINE_FIGURES if key in pipeline.result}
    figures["worker_cpu_s_per_lead"] = worker_cpu_per_lead(figures)
    return figures


def run_trust_off(servers: Servers, stream: Stream, plan: PipelinePlan) -> dict[str, Any]:
    """The stream through a stack that keeps no field history: its figures, for the ratio."""
    off = run_baseline_pass(servers, "b2off", stream, plan, extra_env=TRUST_OFF_ENV)
    return {"settings": dict(TRUST_OFF_ENV), **off}


def export_baseline(revision: str | None) -> tuple[SourceTree | None, str | None]:
    """The exported revision, or the reason it could not be exported (None, None: not asked).

    A checkout without that commit (a shallow clone, an export) gets the error in the results
    and the report, and the rest of B2 still runs.
    """
    if not revision:
        return None, None
    try:
        return export_revision(revision), None
    except (OSError, subprocess.CalledProcessError) as error:
        return None, f"cannot export {revision}: {error}"


def _mean(values: list[Any]) -> float | None:
    known = [value for value in values if value is not None]
    return round(sum(known) / len(known), 5) if known else None


def revision_figures(
    revision: str, source: SourceTree | None, error: str | None, passes: list[dict[str, Any]]
) -> dict[str, Any]:
    """The revision's figures: the mean of its passes (one before, one after this tree's)."""
    if source is None:
        return {"revision": revision, "error": error or f"{revision} was not run"}
    keys = ("leads_per_s", "cpu_s_per_lead", "worker_cpu_s_per_lead", "database_cpu_s_per_lead")
    figures: dict[str, Any] = {key: _mean([each.get(key) for each in passes]) for key in keys}
    if figures["leads_per_s"] is not None:
        figures["leads_per_s"] = round(figures["leads_per_s"], 1)
    return {"revision": revision, "commit": source.commit, **figures, "passes": passes}


def worker_cpu_per_lead(result: dict[str, Any]) -> float | None:
    """The worker tree's CPU seconds per done event: what trust costs, whatever paces the posts.

    When the worker keeps up with the posting (accept time close to wall time), leads/s is the
    web's pace and hides the worker's cost; its CPU per lead does not.
    """
    done = result.get("by_status", {}).get("done", 0)
    worker = result.get("cpu_s", {}).get("worker")
    return round(worker / done, 5) if done and worker is not None else None


def trust_ratio(on_lps: float, off_lps: float | None) -> float | None:
    """Leads/s with every trust feature on over leads/s of a baseline pass."""
    return round(on_lps / off_lps, 3) if off_lps else None


def run(servers: Servers, plan: PipelinePlan) -> dict[str, Any]:
    """B2: the baseline revision, the trust-off pass, leadgate end to end, the raw psycopg loop,
    then the naive peer."""
    stream = build_stream(plan.events, update_share=plan.update_share, seed=2)
    # Each pass on a fresh database. The revision runs first and again after this tree, and its
    # figure is the mean of the two: a machine whose load drifts during the run favours neither
    # side. The trust-off pass runs before the measured one.
    source, export_error = export_baseline(plan.baseline_revision)
    revision_passes: list[dict[str, Any]] = []
    try:
        if source is not None:
            revision_passes.append(run_baseline_pass(servers, "b2rev", stream, plan, source=source))
        trust_off = run_trust_off(servers, stream, plan) if plan.trust_off_pass else None
        load_before = [round(value, 2) for value in os.getloadavg()]
        pipeline = run_pipeline_load(servers, "b2", stream, plan)
        if source is not None:
            try:
                again = run_baseline_pass(servers, "b2rev2", stream, plan, source=source)
            except BaseException:
                pipeline.database.drop()
                raise
            revision_passes.append(again)
    finally:
        if source is not None:
            shutil.rmtree(source.root, ignore_errors=True)
    at_revision = (
        revision_figures(plan.baseline_revision, source, export_error, revision_passes)
        if plan.baseline_revision
        else None
    )
    pipeline.result["load_average_before_on_pass"] = load_before
    result, database = pipeline.result, pipeline.database
    if trust_off is not None:
        result["trust_off"] = trust_off
        result["b2_trust_ratio"] = trust_ratio(result["leads_per_s"], trust_off["leads_per_s"])
    if at_revision is not None:
        result["at_revision"] = at_revision
        result["b2_vs_revision"] = trust_ratio(
            result["leads_per_s"], at_revision.get("leads_per_s")
        )
    result["worker_cpu_s_per_lead"] = worker_cpu_per_lead(result)
    try:
        busy_before = machine_cpu_seconds()[0]
        raw = run_raw_loop(database.url, [event.body for event in stream.events])
        result["raw"] = {
            "leads": raw.leads,
            "seconds": round(raw.seconds, 2),
            "leads_per_s": round(raw.leads_per_second, 1),
            "machine_cpu_ms_per_lead": ms_per_item(
                busy_before, machine_cpu_seconds()[0], raw.leads
            ),
        }
        result["e2e_ratio"] = (
            round(result["leads_per_s"] / raw.leads_per_second, 3) if raw.leads_per_second else None
        )
        if plan.round_trip_events:
            result["round_trips"] = measure_round_trips(
                database.url, servers.redis_url, plan.round_trip_events
            )
    finally:
        database.drop()
    split = split_indices(stream, plan.clients)
    naive = run_naive(servers, stream, split, plan.drain_timeout_s)
    result["naive"] = naive
    result["vs_naive"] = (
        round(result["leads_per_s"] / naive["leads_per_s"], 3) if naive["leads_per_s"] else None
    )
    result["door_floor"] = run_door_floor(servers, stream, split)
    result["cpu_budget_ms_per_lead"] = {
        str(rate): budget_ms_per_lead(rate)
        for rate in (B2_TARGET_LPS, 1.5 * naive["leads_per_s"])
        if rate
    }
    return result
