"""wrk: at saturation (``bench/upsert.lua``, a fresh nested upsert per request) and at a fixed rate.

Debian's wrk has no ``-R`` (wrk2's fixed rate); ``bench/paced.lua`` paces the same upserts from
wrk's ``delay()`` hook instead, open loop, and reports how late requests left their slots.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from bench.load import LoadResult, Target

LUA_SCRIPT = Path(__file__).with_name("upsert.lua")
PACED_SCRIPT = Path(__file__).with_name("paced.lua")


def find_wrk(install: bool) -> str | None:
    """The wrk executable; installed from Debian's packages when missing and allowed."""
    found = shutil.which("wrk")
    if found or not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        try:
            subprocess.run(command, capture_output=True, timeout=600, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
    return shutil.which("wrk")


def run_wrk(
    wrk: str, target: Target, duration: float, connections: int, threads: int = 2
) -> LoadResult:
    """Saturation with wrk and ``bench/upsert.lua`` (a fresh person per request)."""
    return _wrk(wrk, LUA_SCRIPT, target, duration, connections, threads, {}, None)


def run_wrk_paced(
    wrk: str, target: Target, rate: float, duration: float, connections: int, threads: int = 2
) -> LoadResult:
    """``rate`` requests/s with wrk and ``bench/paced.lua``: latencies from each send."""
    settings = {"BENCH_RATE": f"{rate:.3f}", "BENCH_THREADS": str(threads)}
    return _wrk(wrk, PACED_SCRIPT, target, duration, connections, threads, settings, rate)


def _wrk(
    wrk: str,
    script: Path,
    target: Target,
    duration: float,
    connections: int,
    threads: int,
    settings: dict[str, str],
    target_rps: float | None,
) -> LoadResult:
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration))}s",
        "--timeout=10s",
        f"--script={script}",
        target.url,
    ]
    env = {
        **os.environ,
        **settings,
        "BENCH_PATH": target.path,
        "BENCH_TOKEN": target.token,
        "BENCH_SCRIPT_DIR": str(script.parent),
    }
    finished = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=duration + 60, check=True
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"wrk printed no result:\n{finished.stdout}\n{finished.stderr}")
    data = json.loads(lines[-1])
    requests = int(data["requests"])
    lag = data.get("send_lag_p99_ms")
    return LoadResult(
        generator="wrk-paced" if lag is not None else "wrk",
        requests=requests,
        duration_s=float(data["duration_s"]),
        ok=requests - int(data["non_2xx"]),
        non_2xx=int(data["non_2xx"]),
        socket_errors=int(data["socket_errors"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        max_ms=float(data["max_ms"]),
        target_rps=target_rps,
        send_lag_p99_ms=None if lag is None else float(lag),
    )
