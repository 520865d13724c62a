"""What the inbox says about a benchmark's events: status counts, completion, and timing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg

from bench.procstats import cpu_seconds

TERMINAL = ("done", "failed", "dead")


@dataclass
class Completion:
    """Where the events stood when waiting ended."""

    by_status: dict[str, int] = field(default_factory=dict)
    complete: bool = False
    waited_s: float = 0.0
    # Epoch seconds of the first event received and the last one processed.
    first_received: float | None = None
    last_processed: float | None = None

    @property
    def total(self) -> int:
        """Events in the inbox."""
        return sum(self.by_status.values())

    @property
    def terminal(self) -> int:
        """Events in a terminal state."""
        return sum(self.by_status.get(status, 0) for status in TERMINAL)

    @property
    def done(self) -> int:
        """Events processed successfully."""
        return self.by_status.get("done", 0)


def status_counts(connection: psycopg.Connection, organization_id: int) -> dict[str, int]:
    """Events of the organization by status."""
    rows = connection.execute(
        "SELECT status, count(*) FROM ingestion_events WHERE organization_id = %s GROUP BY status",
        (organization_id,),
    ).fetchall()
    return {str(status): int(count) for status, count in rows}


def wait_until_terminal(
    database_url: str, organization_id: int, expected: int, timeout: float, poll: float = 0.25
) -> Completion:
    """Poll until ``expected`` events of the organization are terminal, or ``timeout`` passes."""
    started = time.monotonic()
    completion = Completion()
    with psycopg.connect(database_url, autocommit=True) as connection:
        while True:
            completion.by_status = status_counts(connection, organization_id)
            completion.waited_s = time.monotonic() - started
            if completion.terminal >= expected:
                completion.complete = True
                break
            if completion.waited_s > timeout:
                break
            time.sleep(poll)
        first, last = connection.execute(
            "SELECT extract(epoch FROM min(received_time)), extract(epoch FROM max(processed_time))"
            " FROM ingestion_events WHERE organization_id = %s",
            (organization_id,),
        ).fetchone() or (None, None)
    completion.first_received = None if first is None else float(first)
    completion.last_processed = None if last is None else float(last)
    return completion


def received_to_done_ms(
    database_url: str, organization_id: int, since_epoch: float | None = None
) -> dict[str, float]:
    """p50, p99 and max of processed_time - received_time over done events, in milliseconds."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY ms),
                   max(ms), count(*)
            FROM (SELECT extract(epoch FROM processed_time - received_time) * 1000 AS ms
                  FROM ingestion_events
                  WHERE organization_id = %s AND status = 'done'
                    AND received_time >= to_timestamp(%s)) AS latencies
            """,
            (organization_id, since_epoch or 0.0),
        ).fetchone()
    p50, p99, most, count = row or (None, None, None, 0)
    return {
        "p50_ms": round(float(p50 or 0), 1),
        "p99_ms": round(float(p99 or 0), 1),
        "max_ms": round(float(most or 0), 1),
        "events": int(count or 0),
    }


def backend_cpu_seconds(database_url: str) -> tuple[float, int]:
    """CPU seconds of the PostgreSQL backends now connected to this database (but ours).

    The services' pools keep their connections for the whole run, so this is close to what the
    database spent serving them; it reads ``/proc``, so only for a server on this machine.
    """
    with psycopg.connect(database_url, autocommit=True) as connection:
        pids = [
            int(pid)
            for (pid,) in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        ]
    return cpu_seconds(pids), len(pids)
