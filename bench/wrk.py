"""wrk at saturation: ``bench/upsert.lua`` posts a fresh nested upsert per request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from bench.load import LoadResult, Target

LUA_SCRIPT = Path(__file__).with_name("upsert.lua")


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
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration))}s",
        "--timeout=10s",
        f"--script={LUA_SCRIPT}",
        target.url,
    ]
    env = {**os.environ, "BENCH_PATH": target.path, "BENCH_TOKEN": target.token}
    finished = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=duration + 60, check=True
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"wrk printed no result:\n{finished.stdout}\n{finished.stderr}")
    data = json.loads(lines[-1])
    requests = int(data["requests"])
    return LoadResult(
        generator="wrk",
        requests=requests,
        duration_s=float(data["duration_s"]),
        ok=requests - int(data["non_2xx"]),
        non_2xx=int(data["non_2xx"]),
        socket_errors=int(data["socket_errors"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        max_ms=float(data["max_ms"]),
    )
