"""``leadgate import`` with a real worker: progress, summary, the error file, no row twice."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.settings import get_settings
from models import IngestionEvent, Lead
from tests.cli.conftest import Invoke
from tests.support.factories import Tenant, make_tenant

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("celery_worker")]

AREA_CODES = ("415", "628", "510", "650", "408", "212", "646", "718", "917", "347")
HEADER = ["phone_number", "email", "lead_source"]


@pytest.fixture
def tenant(committed_session: Session) -> Tenant:
    created = make_tenant(committed_session)
    committed_session.commit()
    return created


@pytest.fixture(autouse=True)
def shared_upload_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the session's worker reads uploads (the CLI runs with another LEADGATE_HOME)."""
    upload_dir = get_settings().upload_dir
    monkeypatch.setenv("LEADGATE_UPLOAD_DIR", str(upload_dir))
    return upload_dir


def write_leads_file(path: Path, rows: int, bad_every: int = 0) -> set[str]:
    """A CSV of ``rows`` people; every ``bad_every``-th row is bad. The bad rows' sources."""
    bad: set[str] = set()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for index in range(rows):
            phone = f"+1{AREA_CODES[index % 10]}555{index // 10:04d}"
            source = f"row-{index + 1}"
            if bad_every and index % bad_every == bad_every - 1:
                bad.add(source)
                kind = (index // bad_every) % 3
                if kind == 0:
                    writer.writerow(["12", f"p{index}@example.com", source])  # no phone number
                elif kind == 1:
                    writer.writerow([phone, f"p{index}@example.com", source, "extra"])  # ragged
                else:
                    writer.writerow([phone, "not an email", source])
                continue
            writer.writerow([phone, f"p{index}@example.com", source])
    return bad


def _counts(session: Session, tenant: Tenant) -> tuple[int, int]:
    session.expire_all()
    leads = session.scalar(
        select(func.count()).where(Lead.organization_id == tenant.organization_id)
    )
    events = session.scalar(
        select(func.count()).where(IngestionEvent.organization_id == tenant.organization_id)
    )
    return int(leads or 0), int(events or 0)


def _error_sources(stdout: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.startswith("error file: "))
    with Path(line.removeprefix("error file: ")).open(newline="", encoding="utf-8") as handle:
        return [row["lead_source"] for row in csv.DictReader(handle)]


def _import_twice(
    invoke: Invoke, tenant: Tenant, session: Session, path: Path, rows: int, bad: set[str]
) -> None:
    result = invoke("import", str(path), "--config", str(tenant.config_id))
    assert "done" in result.stdout.splitlines()[0]
    assert f"rows: {rows} of {rows}, {len(bad)} failed" in result.stdout
    assert f"created: {rows - len(bad)}" in result.stdout
    assert "rows/s" in result.stderr and "ETA" in result.stderr
    errors = _error_sources(result.stdout)
    assert sorted(errors) == sorted(bad)
    assert _counts(session, tenant)[0] == rows - len(bad)
    before = _counts(session, tenant)

    again = invoke("import", str(path), "--config", str(tenant.config_id))
    assert f"already_imported: {rows - len(bad)}" in again.stdout
    assert "created" not in again.stdout
    assert _counts(session, tenant) == before
    assert sorted(_error_sources(again.stdout)) == sorted(bad)


def test_import_shows_progress_and_writes_the_error_file(
    invoke: Invoke, tenant: Tenant, committed_session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    bad = write_leads_file(path, 1200, bad_every=50)
    _import_twice(invoke, tenant, committed_session, path, 1200, bad)


@pytest.mark.slow
# About 300 rows/s on a busy 2-core machine: the first import takes minutes, the second less.
@pytest.mark.timeout(2400)
def test_a_100000_row_file_with_2_percent_bad_rows(
    invoke: Invoke, tenant: Tenant, committed_session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "leads-100k.csv"
    bad = write_leads_file(path, 100_000, bad_every=50)
    assert len(bad) == 2000
    _import_twice(invoke, tenant, committed_session, path, 100_000, bad)


def test_a_file_without_a_header_fails_with_its_reason(
    invoke: Invoke, tenant: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "no-header.csv"
    path.write_text("+14155550100,a@example.com,x\n", encoding="utf-8")
    result = invoke("import", str(path), "--config", str(tenant.config_id), exit_code=1)
    assert "failed" in result.stdout and "no header row" in result.stdout


def test_an_unknown_config_is_an_error(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    write_leads_file(path, 1)
    result = invoke(
        "import", str(path), "--config", "00000000-0000-0000-0000-000000000000", exit_code=1
    )
    assert "no ingestion config" in result.stderr
