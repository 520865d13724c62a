"""Fixtures shared by the webhook tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.support.factories import Tenant, make_tenant


@pytest.fixture
def tenant(committed_session: Session) -> Tenant:
    """An organization with a token and a config, committed so other processes see it."""
    created = make_tenant(committed_session)
    committed_session.commit()
    return created
