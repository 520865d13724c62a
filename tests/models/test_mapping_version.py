"""Mapping versions are history: the database refuses to change or delete one."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models import MappingVersion
from tests.support.factories import make_tenant


def test_a_saved_mapping_version_cannot_be_changed_or_deleted(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    where = MappingVersion.config_id == tenant.config_id
    for statement in (
        update(MappingVersion).where(where).values(mapping={"fields": {}}),
        delete(MappingVersion).where(where),
    ):
        with (
            pytest.raises(DBAPIError, match="cannot be changed or deleted"),
            db_session.begin_nested(),
        ):
            db_session.execute(statement)
    assert db_session.query(MappingVersion).filter(where).count() == 1
