"""``python -m bench``: run the benchmarks, print the table, write the JSON, the summary last."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import (
    accept,
    contention,
    end_to_end,
    health,
    impact,
    imports,
    inbox_scale,
    outbound,
    profile,
    recovery,
    release,
    report,
    soak,
)
from bench.accept import AcceptPlan
from bench.end_to_end import PipelinePlan
from bench.outbound import OutboundPlan
from bench.procfile import REPO_ROOT, gunicorn_settings, procfile_commands
from bench.recovery import RecoveryPlan
from bench.revision import TRUST_BASELINE_REVISION
from bench.soak import SoakPlan
from bench.stack import Servers, find_servers

BENCHMARKS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B9", "B10", "B8", "RECOVERY")
RESULTS_DIR = REPO_ROOT / "bench" / "results"


@dataclass
class Plan:
    """Everything a run does, at full size unless ``--quick``."""

    accept: AcceptPlan = field(default_factory=AcceptPlan)
    end_to_end: PipelinePlan = field(default_factory=PipelinePlan)
    contention: PipelinePlan = field(default_factory=lambda: PipelinePlan(hot_share=0.3))
    soak: SoakPlan = field(default_factory=SoakPlan)
    health: health.HealthPlan = field(default_factory=health.HealthPlan)
    imports: imports.ImportPlan = field(default_factory=imports.ImportPlan)
    # Used for B4 when B2 did not run in the same invocation.
    soak_rate: float | None = None
    outbound: OutboundPlan = field(
        default_factory=lambda: OutboundPlan(PipelinePlan(round_trip_events=0))
    )
    recovery: RecoveryPlan = field(default_factory=RecoveryPlan)
    release: release.ReleasePlan = field(default_factory=release.ReleasePlan)
    inbox: inbox_scale.InboxPlan = field(default_factory=inbox_scale.InboxPlan)

    @classmethod
    def quick(cls) -> Plan:
        """Small counts and short durations: proves the harness works, measures little."""
        return cls(
            accept=AcceptPlan(
                saturation_s=2, fixed_s=2, warmup_s=0.5, connections=4, endurance_s=4, window_s=1
            ),
            end_to_end=PipelinePlan(
                events=300, drain_timeout_s=180, round_trip_events=5, baseline_revision=None
            ),
            contention=PipelinePlan(events=300, hot_share=0.3, drain_timeout_s=180),
            soak=SoakPlan(seconds=10, drain_timeout_s=120),
            outbound=OutboundPlan(
                PipelinePlan(events=300, drain_timeout_s=180, round_trip_events=0),
                delivery_timeout_s=120,
            ),
            health=health.HealthPlan(batches=20, rounds=3),
            recovery=RecoveryPlan(events=200, drain_timeout_s=180),
            imports=imports.ImportPlan(rows=2000, timeout_s=300),
            release=release.ReleasePlan(events=200),
            inbox=inbox_scale.InboxPlan(events=50_000, warmup=5, repeats=100),
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="e.g. B1,B2 (default all)")
    parser.add_argument("--soak-seconds", type=float, help="B4's length (default 600)")
    parser.add_argument("--soak-rate", type=float, help="B4's rate when B2 does not run first")
    parser.add_argument("--events", type=int, help="events in B2 and B3 (default 20000)")
    parser.add_argument("--clients", type=int, help="posting processes in B2 and B3 (default 4)")
    parser.add_argument("--b8-events", type=int, help="events in B8's inbox (default 5000000)")
    parser.add_argument(
        "--b8-rebuild", action="store_true", help="fill B8's inbox afresh even when one is kept"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy the web in B1, the web and worker in B2 and B3",
    )
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--python-load", action="store_true", help="B1 without wrk")
    parser.add_argument("--database-url", help="a PostgreSQL server to create databases on")
    parser.add_argument("--redis-url", help="a Redis database of the benchmarks' own")
    parser.add_argument(
        "--baseline-rev",
        metavar="REV",
        help=f"B2 also runs this git revision first (default {TRUST_BASELINE_REVISION}, before"
        " the trust features; 'none' skips it; --quick skips it unless given)",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    args.only = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {BENCHMARKS}")
    return args


def build_plan(args: argparse.Namespace) -> Plan:
    """The plan the arguments ask for."""
    plan = Plan.quick() if args.quick else Plan()
    if args.soak_seconds is not None:
        plan.soak.seconds = args.soak_seconds
    plan.soak_rate = args.soak_rate
    for pipeline in (plan.end_to_end, plan.contention, plan.outbound.pipeline):
        pipeline.events = args.events or pipeline.events
        pipeline.clients = args.clients or pipeline.clients
    if args.baseline_rev is not None:
        revision = args.baseline_rev.strip()
        plan.end_to_end.baseline_revision = None if revision.lower() in ("", "none") else revision
    plan.inbox.events = args.b8_events or plan.inbox.events
    plan.inbox.rebuild = args.b8_rebuild
    plan.accept.profile_dir = args.profile
    plan.end_to_end.profile_dir = args.profile
    # B3 is profiled with waits included: under contention, time goes to waiting for locks.
    plan.contention.profile_dir = args.profile
    plan.contention.profile_idle = True
    plan.accept.install_wrk = not args.no_install
    plan.accept.use_wrk = not args.python_load
    return plan


def run_benchmarks(
    servers: Servers, plan: Plan, only: list[str], say: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Run the chosen benchmarks in order; a failing one is recorded and the rest still run."""
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def soak_plan() -> SoakPlan:
        lps = results.get("B2", {}).get("leads_per_s")
        plan.soak.rate = plan.soak_rate or (lps / 2 if lps else plan.soak.rate)
        return plan.soak

    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "B1": lambda: accept.run(servers, plan.accept),
        "B2": lambda: end_to_end.run(servers, plan.end_to_end),
        "B3": lambda: contention.run(servers, plan.contention),
        "B4": lambda: soak.run(servers, soak_plan()),
        "B7": lambda: outbound.run(servers, plan.outbound),
        "B9": lambda: health.run(servers, plan.health),
        "RECOVERY": lambda: recovery.run(servers, plan.recovery),
        "B5": lambda: imports.run(servers, plan.imports),
        "B6": lambda: impact.run(servers, impact.ImpactPlan()),
        "B10": lambda: release.run(servers, plan.release),
        "B8": lambda: inbox_scale.run(servers, plan.inbox, say),
    }
    for name in BENCHMARKS:
        if name not in only:
            continue
        say(f"{name}: running")
        started = time.monotonic()
        # The machine may be shared: other work running beside a benchmark shows here.
        load_before = [round(value, 2) for value in os.getloadavg()]
        try:
            results[name] = steps[name]()
            results[name]["load_average_before"] = load_before
        except Exception:
            errors[name] = traceback.format_exc()
            say(f"{name}: failed\n{errors[name]}")
        else:
            say(f"{name}: finished in {time.monotonic() - started:.0f} s")
    return results, errors


def _git_commit() -> str | None:
    try:
        finished = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return finished.stdout.strip()


def _profile_text(results: dict[str, Any]) -> str:
    b2 = results.get("B2", {})
    passes = [b2.get("trust_off", {}), b2, results.get("B3", {})]
    profiles = {
        name: data for result in passes for name, data in result.get("profiles", {}).items()
    }
    b1 = results.get("B1", {}).get("leadgate", {})
    if "profile" in b1:
        profiles = {"b1-leadgate": b1["profile"], **profiles}
    return "\n\n".join(profile.format_summary(name, data["top"]) for name, data in profiles.items())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit 1 when one of them failed to run (not when a target is missed)."""
    args = parse_args(argv)
    plan = build_plan(args)

    def say(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    started = dt.datetime.now(dt.UTC)
    servers = find_servers(args.database_url, args.redis_url)
    say(f"servers: {servers.database_server_url} and {servers.redis_url}")
    try:
        results, errors = run_benchmarks(servers, plan, args.only, say)
    finally:
        servers.stop()
    summary = report.summary_line(results)
    document = {
        "started": started.isoformat(),
        "finished": dt.datetime.now(dt.UTC).isoformat(),
        "command": sys.argv,
        "git_commit": _git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "procfile": procfile_commands(),
        "gunicorn": gunicorn_settings(procfile_commands().get("web", "")),
        "plan": asdict(plan),
        "results": results,
        "errors": errors,
        "summary": summary,
    }
    path = report.write_json(document, args.results_dir)
    print(report.table(results, errors))
    profiles = _profile_text(results)
    if profiles:
        print("\n" + profiles)
    print(f"\nresults: {path}")
    print(summary)
    return 1 if errors else 0
