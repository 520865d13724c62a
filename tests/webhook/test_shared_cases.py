"""Every shared provider case, run through HTTP, a real worker process and the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.support.cases import (
    case_files,
    load_case,
    run_case,
    standard_case_files,
    tenant_for_case,
)
from tests.support.factories import make_tenant
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

CASES = case_files()
STANDARD_CASES = standard_case_files()


def test_the_shared_cases_are_present() -> None:
    assert CASES, "shared/payloads/cases not found beside the repository"


@pytest.mark.parametrize(
    "path", CASES + STANDARD_CASES, ids=[path.stem for path in CASES + STANDARD_CASES]
)
def test_shared_case(
    path: Path,
    client: FlaskClient,
    committed_session: Session,
    celery_worker: ServiceProcess,
) -> None:
    case = load_case(path)
    own = tenant_for_case(committed_session, case)
    other = make_tenant(committed_session)
    committed_session.commit()
    run_case(client, case, own, other)


def test_the_standard_api_cases_are_present() -> None:
    assert {path.stem for path in STANDARD_CASES} >= {"standard-writes", "standard-bulk"}
