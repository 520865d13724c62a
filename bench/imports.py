"""B5 file import: a 100,000-row CSV through ``leadgate import`` end to end, against a COPY.

The file has 2% bad rows (a phone number or an email that does not validate), so the error file
is exercised too. The import runs as the real command, a process of its own beside the Procfile's
worker and beat; the RSS of every one of those processes is sampled throughout (the file is
never held whole, so each stays small). The baseline is PostgreSQL's own bulk path on the same
machine in the same run: ``COPY ... FROM STDIN (FORMAT csv)`` of the same file into an unlogged
staging table of text columns, no validation, no matching, no events.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.end_to_end import memory_report
from bench.payloads import create_tenant
from bench.procfile import REPO_ROOT
from bench.procstats import RssSampler
from bench.stack import Servers, create_database, service_env, start_stack

MB = 1024 * 1024
# What the issue allows any process of the import: the file must never be loaded whole.
RSS_LIMIT_MB = 250
AREA_CODES = ("415", "628", "510", "650", "408", "212", "646", "718", "917", "347")
COPY_BLOCK = 64 * 1024
# The file's columns, read by a config's mapping as a provider's flat payload would be.
FLAT_MAPPING: dict[str, Any] = {
    "fields": {
        "phone_number": "phone_number",
        "email": "email",
        "lead_source": "lead_source",
    }
}


@dataclass
class ImportPlan:
    """How big the file is and how long the import may take."""

    rows: int = 100_000
    bad_every: int = 50  # 2%
    timeout_s: float = 3600.0


def write_file(path: Path, rows: int, bad_every: int) -> int:
    """Write the benchmark's CSV; the number of bad rows in it."""
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["phone_number", "email", "lead_source"])
        for index in range(rows):
            phone = f"+1{AREA_CODES[index % 10]}555{index // 10:04d}"
            email = f"b5.{index}@example.com"
            if bad_every and index % bad_every == bad_every - 1:
                bad += 1
                phone, email = ("12", email) if bad % 2 else (phone, "not an email")
            writer.writerow([phone, email, f"b5-{index + 1}"])
    return bad


def copy_seconds(database_url: str, path: Path) -> float:
    """Seconds to COPY the file into an unlogged staging table (created and dropped here)."""
    table = f"b5_staging_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            f"CREATE UNLOGGED TABLE {table} (phone_number text, email text, lead_source text)"
        )
        try:
            started = time.perf_counter()
            with (
                connection.cursor() as cursor,
                path.open("rb") as source,
                cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy,
            ):
                while block := source.read(COPY_BLOCK):
                    copy.write(block)
            seconds = time.perf_counter() - started
            count = connection.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            assert count is not None
        finally:
            connection.execute(f"DROP TABLE {table}")
    return seconds


def _data_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1  # less the header row


def _summary_value(stdout: str, prefix: str) -> str | None:
    for line in stdout.splitlines():
        if line.strip().startswith(prefix):
            return line.strip().removeprefix(prefix).strip()
    return None


def run(servers: Servers, plan: ImportPlan) -> dict[str, Any]:
    """Import the file with ``leadgate import``; rows/s, every process's peak RSS, the ratio."""
    database = create_database(servers, "b5")
    workdir = Path(tempfile.mkdtemp(prefix="leadgate-bench-b5-"))
    saved = os.environ.get("LEADGATE_UPLOAD_DIR")
    # The command and the worker must share the upload directory; the stack copies os.environ.
    os.environ["LEADGATE_UPLOAD_DIR"] = str(workdir / "uploads")
    try:
        tenant = create_tenant(database.sqlalchemy_url, mapping=FLAT_MAPPING)
        path = workdir / "b5.csv"
        bad = write_file(path, plan.rows, plan.bad_every)
        baseline = copy_seconds(database.url, path)
        stack = start_stack(database, servers, web=False)
        try:
            env = service_env(database.url, servers.redis_url)
            leadgate = str(Path(sys.executable).with_name("leadgate"))
            command = [leadgate, "import", str(path), "--config", str(tenant.config_id)]
            started = time.perf_counter()
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
            sampler = RssSampler({**stack.roots(), "import": process.pid}, interval=0.5).start()
            stdout, _ = process.communicate(timeout=plan.timeout_s)
            seconds = time.perf_counter() - started
            memory = memory_report(sampler)
        finally:
            stack.stop()
    finally:
        if saved is None:
            os.environ.pop("LEADGATE_UPLOAD_DIR", None)
        else:
            os.environ["LEADGATE_UPLOAD_DIR"] = saved
        database.drop()
    text = stdout.decode("utf-8", errors="replace")
    error_file = _summary_value(text, "error file:")
    error_rows = _data_rows(Path(error_file)) if error_file else 0
    peak = max((process["peak_rss_mb"] for process in memory), default=0.0)
    return {
        "rows": plan.rows,
        "bad_rows": bad,
        "exit_code": process.returncode,
        "summary": text.strip().splitlines(),
        "error_file_rows": error_rows,
        "import_seconds": round(seconds, 1),
        "rows_per_s": round(plan.rows / seconds, 1),
        "copy_seconds": round(baseline, 3),
        "copy_rows_per_s": round(plan.rows / baseline, 1),
        # How many times longer the import takes than the COPY of the same file.
        "copy_ratio": round(seconds / baseline, 1),
        "memory": memory,
        "max_peak_rss_mb": peak,
        "rss_under_limit": peak < RSS_LIMIT_MB,
    }
