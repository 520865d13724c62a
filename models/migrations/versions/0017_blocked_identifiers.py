"""Per-organization blocked identifiers and placeholder values (identifier hygiene).

Revision ID: 0017_blocked_identifiers
Revises: 0007_config_versions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_blocked_identifiers"
down_revision: str | None = "0007_config_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the blocked_identifiers table and the organization's reserved-identifier switch."""
    op.add_column(
        "organizations",
        sa.Column(
            "blocks_reserved_identifiers",
            sa.Boolean(),
            server_default=sa.true(),
            nullable=False,
        ),
    )
    op.create_table(
        "blocked_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_blocked_identifiers_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_identifiers")),
        sa.UniqueConstraint(
            "organization_id",
            "kind",
            "value",
            name=op.f("uq_blocked_identifiers_organization_id_kind_value"),
        ),
    )
    op.create_index(
        op.f("ix_blocked_identifiers_organization_id"),
        "blocked_identifiers",
        ["organization_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop the blocked_identifiers table."""
    op.drop_index(op.f("ix_blocked_identifiers_organization_id"), table_name="blocked_identifiers")
    op.drop_table("blocked_identifiers")
    op.drop_column("organizations", "blocks_reserved_identifiers")
