"""B2's baseline revision: another commit's code, schema and services, run from an export."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory

from bench import end_to_end, report
from bench.payloads import build_stream
from bench.procfile import REPO_ROOT
from bench.revision import TRUST_BASELINE_REVISION, SourceTree, export_revision
from bench.stack import Servers, create_database, start_stack, with_database, with_redis_db
from models.migrate import alembic_config
from tests.support.services import ServiceUrls

HARNESS_REDIS_DB = 3


def test_the_table_sets_this_tree_beside_the_revision() -> None:
    b2: dict[str, Any] = {
        "events": 10, "persons": 8, "posted": {"rps": 100.0}, "by_status": {"done": 10},
        "accept_s": 0.1, "wall_s": 0.2, "leads_per_s": 450.0, "cpu_s": {"web": 1.0},
        "cpu_s_per_lead": 0.01, "machine_busy_pct": 50.0, "memory": [],
        "worker_cpu_s_per_lead": 0.002, "b2_vs_revision": 0.9,
        "at_revision": end_to_end.revision_figures(
            "abc1234", SourceTree("abc1234", "abc1234" + "0" * 33, REPO_ROOT), None,
            [{"leads_per_s": 480.0, "by_status": {"done": 10}, "load_average_before": [2.5],
              "worker_cpu_s_per_lead": 0.0014, "cpu_s_per_lead": 0.008},
             {"leads_per_s": 520.0, "by_status": {"done": 9, "failed": 1},
              "worker_cpu_s_per_lead": 0.0016, "cpu_s_per_lead": 0.008}]),
    }  # fmt: skip
    assert b2["at_revision"]["worker_cpu_s_per_lead"] == 0.0015
    shown = report.table({"B2": b2}, {}).splitlines()
    for metric, value in (
        ("revision abc1234 (before the trust features): leads/s, mean of 2 passes", "500.0"),
        ("revision pass 1: leads/s, load before, events by status", "480.0, 2.5, done=10"),
        ("revision pass 2: leads/s, load before, events by status", "520.0, n/a, done=9"),
        ("this tree: leads/s", "450.0"),
        ("b2_vs_revision (this tree / revision)", "0.900"),
        ("worker CPU s per lead: revision / this tree", "0.00150 / 0.00200"),
    ):
        assert any(metric in line and value in line for line in shown), metric


def test_a_revision_that_cannot_be_exported_is_shown_as_such() -> None:
    assert end_to_end.export_baseline(None) == (None, None)
    source, error = end_to_end.export_baseline("no-such-revision-anywhere")
    assert source is None and error is not None and "cannot export" in error
    assert end_to_end.revision_figures("x", None, error, [])["error"] == error
    b2 = {
        "events": 1, "persons": 1, "posted": {"rps": 1.0}, "by_status": {"done": 1},
        "wall_s": 1.0, "leads_per_s": 1.0, "cpu_s": {}, "cpu_s_per_lead": 0.0,
        "machine_busy_pct": 1.0, "memory": [],
        "at_revision": {"revision": "0000000", "error": "cannot export 0000000: unknown"},
    }  # fmt: skip
    shown = report.table({"B2": b2}, {})
    assert "cannot export 0000000: unknown" in shown
    with pytest.raises(subprocess.CalledProcessError):
        export_revision("no-such-revision-anywhere")


def _has_commit(revision: str) -> bool:
    if shutil.which("git") is None:
        return False
    found = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


@pytest.mark.integration
@pytest.mark.skipif(
    not _has_commit(TRUST_BASELINE_REVISION),
    reason=f"this checkout has no git history holding {TRUST_BASELINE_REVISION} (a shallow clone?)",
)
def test_the_revision_runs_its_own_migrations_tenant_and_web(services: ServiceUrls) -> None:
    source = export_revision(TRUST_BASELINE_REVISION)
    servers = Servers(
        with_database(services.database_url, "postgres"),
        with_redis_db(services.redis_url, HARNESS_REDIS_DB),
    )
    database = create_database(servers, "revision", source.migrate)
    try:
        expected = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", TRUST_BASELINE_REVISION],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert source.commit == expected
        assert (source.root / "Procfile").is_file()
        with psycopg.connect(database.url) as connection:
            version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            # The revision's own migrations ran: its head, not this tree's.
            head = ScriptDirectory.from_config(
                alembic_config(database.sqlalchemy_url)
            ).get_current_head()
            assert version is not None and version[0] != head
        tenant = source.create_tenant(database.sqlalchemy_url)
        stack = start_stack(
            database, servers, worker=False, extra_env=source.environment(), root=source.root
        )
        try:
            assert stack.web is not None
            body = build_stream(1, seed=5).events[0].body
            request = urllib.request.Request(
                stack.web.url + tenant.upsert_path,
                data=body,
                headers={
                    "Authorization": f"Token {tenant.token}",
                    "Content-Type": "application/json",
                },
                method="POST",
            )
            # This tree's web would write columns the revision's schema does not have, and fail;
            # the revision's web stores the event.
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status == 202
                event_id = json.loads(answer.read())["id"]
        finally:
            stack.stop()
        with psycopg.connect(database.url) as connection:
            stored = connection.execute(
                "SELECT organization_id FROM ingestion_events WHERE id = %s", (event_id,)
            ).fetchone()
        assert stored == (tenant.organization_id,)
    finally:
        database.drop()
        shutil.rmtree(source.root, ignore_errors=True)
