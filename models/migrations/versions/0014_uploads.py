"""File uploads, and what a row of an uploaded file does on each config.

Revision ID: 0014_uploads
Revises: 0007_config_versions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_uploads"
down_revision: str | None = "0013_config_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Add the uploads table and the configs' file_endpoint (existing configs upsert)."""
    op.add_column(
        "ingestion_configs",
        sa.Column("file_endpoint", sa.String(length=16), nullable=False, server_default="upsert"),
    )
    op.create_check_constraint(
        op.f("ck_ingestion_configs_file_endpoint_known"),
        "ingestion_configs",
        "file_endpoint IN ('create', 'upsert')",
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("config_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_upload",
                "processing",
                "done",
                "failed",
                name="upload_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("expires_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_received_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("delimiter", sa.String(length=1), nullable=True),
        sa.Column("header", _JSON, nullable=True),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column("actions", _JSON, nullable=False),
        sa.Column("failed_fields", _JSON, nullable=False),
        sa.Column("errors_bytes", sa.BigInteger(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress_time", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["config_id"],
            ["ingestion_configs.id"],
            name=op.f("fk_uploads_config_id_ingestion_configs"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_uploads_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index(op.f("ix_uploads_organization_id"), "uploads", ["organization_id"])


def downgrade() -> None:
    """Drop the uploads table and the configs' file_endpoint."""
    op.drop_index(op.f("ix_uploads_organization_id"), table_name="uploads")
    op.drop_table("uploads")
    op.drop_constraint(
        op.f("ck_ingestion_configs_file_endpoint_known"), "ingestion_configs", type_="check"
    )
    op.drop_column("ingestion_configs", "file_endpoint")
