"""Alembic environment: online migrations against the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from models import Base
from models.db import connection_options
from models.inbox_months import is_inbox_partition

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the inbox's partitions (made by migrations and worker.inbox_partitions) alone."""
    return not (type_ == "table" and name is not None and is_inbox_partition(name))


def run_migrations_online() -> None:
    """Migrate over one connection, inside one transaction."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable, target_metadata=target_metadata, include_name=include_name
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    # Migrations too may run through a transaction-mode pooler (see models.db).
    plain_url, connect_args = connection_options(url)
    connect_args.pop("options", None)
    engine = create_engine(plain_url, poolclass=pool.NullPool, connect_args=connect_args)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_name=include_name
        )
        with context.begin_transaction():
            # Several release processes may start at once; one migrates, the others wait.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7412001)")
            context.run_migrations()


run_migrations_online()
