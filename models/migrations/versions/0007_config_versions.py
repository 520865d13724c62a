"""Mapping versions; each event's mapping version and parsed payload; indexes for the events list.

Revision ID: 0007_config_versions
Revises: 0008_lead_types
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_config_versions"
down_revision: str | None = "0008_lead_types"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the versions table (version 1 of every config is its mapping now) and the columns."""
    op.create_table(
        "mapping_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("config_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "mapping", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("saved_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=255), nullable=False),
        sa.Column("saved_by_token_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["config_id"],
            ["ingestion_configs.id"],
            name=op.f("fk_mapping_versions_config_id_ingestion_configs"),
        ),
        sa.ForeignKeyConstraint(
            ["saved_by_token_id"],
            ["api_tokens.id"],
            name=op.f("fk_mapping_versions_saved_by_token_id_api_tokens"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_versions")),
        sa.UniqueConstraint(
            "config_id", "number", name=op.f("uq_mapping_versions_config_id_number")
        ),
    )
    # A saved version is history: the database refuses to change or delete one.
    op.execute(
        "CREATE FUNCTION mapping_versions_are_immutable() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'mapping versions cannot be changed or deleted' "
        "USING ERRCODE = 'restrict_violation'; END $$"
    )
    op.execute(
        "CREATE TRIGGER mapping_versions_immutable BEFORE UPDATE OR DELETE ON mapping_versions "
        "FOR EACH ROW EXECUTE FUNCTION mapping_versions_are_immutable()"
    )
    op.add_column(
        "ingestion_configs",
        sa.Column("mapping_version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.execute(
        "INSERT INTO mapping_versions (config_id, number, mapping, saved_time, saved_by) "
        "SELECT id, 1, mapping, modified_time, 'migration' FROM ingestion_configs"
    )
    op.add_column(
        "ingestion_events",
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
    )
    op.add_column("ingestion_events", sa.Column("mapping_version", sa.Integer(), nullable=True))
    # if_not_exists: on a large inbox, build it beforehand with CREATE INDEX CONCURRENTLY
    # (docs/operations.md, Upgrades) and this step finds it there.
    op.create_index(
        "ix_ingestion_events_organization_id_seq",
        "ingestion_events",
        ["organization_id", "seq"],
        if_not_exists=True,
    )
    # Every existing event's copy is NULL, so this index starts empty and builds at once.
    op.create_index(
        "ix_ingestion_events_payload",
        "ingestion_events",
        ["payload"],
        postgresql_using="gin",
        postgresql_ops={"payload": "jsonb_path_ops"},
    )


def downgrade() -> None:
    """Drop the indexes, the columns and the versions."""
    op.drop_index("ix_ingestion_events_payload", table_name="ingestion_events")
    op.drop_index("ix_ingestion_events_organization_id_seq", table_name="ingestion_events")
    op.drop_column("ingestion_events", "mapping_version")
    op.drop_column("ingestion_events", "payload")
    op.drop_column("ingestion_configs", "mapping_version")
    op.drop_table("mapping_versions")  # its trigger goes with it
    op.execute("DROP FUNCTION mapping_versions_are_immutable()")
