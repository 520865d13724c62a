"""Replay jobs: a filter's failed and dead events replayed in the background, with progress.

Revision ID: 0012_replay_jobs
Revises: 0007_config_versions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_replay_jobs"
down_revision: str | None = "0014_uploads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Add the replay_jobs table."""
    op.create_table(
        "replay_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("filter", _JSON, nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "done",
                "cancelled",
                "failed",
                name="replay_job_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("by_action", _JSON, nullable=False),
        sa.Column("failed_fields", _JSON, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("started_by", sa.String(length=255), nullable=False),
        sa.Column("started_by_token_id", sa.Integer(), nullable=True),
        sa.Column("started_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_replay_jobs_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["started_by_token_id"],
            ["api_tokens.id"],
            name=op.f("fk_replay_jobs_started_by_token_id_api_tokens"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replay_jobs")),
        sa.UniqueConstraint("seq", name=op.f("uq_replay_jobs_seq")),
    )
    op.create_index("ix_replay_jobs_organization_id_seq", "replay_jobs", ["organization_id", "seq"])


def downgrade() -> None:
    """Drop the replay_jobs table."""
    op.drop_index("ix_replay_jobs_organization_id_seq", table_name="replay_jobs")
    op.drop_table("replay_jobs")
