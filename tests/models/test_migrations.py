"""The migrations and the models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from models import Base
from models.inbox_months import is_inbox_partition


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        # The inbox's partitions are made at run time, not declared: only their parent is.
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, type_, _: (
                    not (type_ == "table" and is_inbox_partition(name))
                )
            },
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ; add a migration: {differences}"
