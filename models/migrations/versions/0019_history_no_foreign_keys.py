"""Field history rows without foreign keys; fan-in claims without an index their key already gives.

A foreign key check runs once per inserted row and locks the row it points at (FOR KEY SHARE):
a lead's history rows are written in the transaction that has just inserted or updated that
lead, so each check also turned the lead's lock into a multixact, and the history's INSERT cost
most of a batch's database time. The rows are written only with the lead the same transaction
wrote, and the one path that deletes leads (expired test leads) deletes their history itself.

Revision ID: 0019_history_no_foreign_keys
Revises: 0018_test_mode
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_history_no_foreign_keys"
down_revision: str | None = "0018_test_mode"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HISTORY = "lead_field_changes"
_CLAIMS = "identifier_claims"


def upgrade() -> None:
    """Drop the history's foreign keys and the claims' redundant index."""
    op.drop_constraint(op.f("fk_lead_field_changes_lead_id_leads"), _HISTORY, type_="foreignkey")
    op.drop_constraint(
        op.f("fk_lead_field_changes_organization_id_organizations"), _HISTORY, type_="foreignkey"
    )
    # The primary key (organization_id, kind, value, external_id) serves the same lookups.
    op.drop_index("ix_identifier_claims_identifier", table_name=_CLAIMS)


def downgrade() -> None:
    """Put the foreign keys back (dropping history rows whose lead is gone) and the index."""
    op.create_index(
        "ix_identifier_claims_identifier", _CLAIMS, ["organization_id", "kind", "value"]
    )
    op.execute(f"DELETE FROM {_HISTORY} WHERE lead_id NOT IN (SELECT id FROM leads)")  # noqa: S608
    op.create_foreign_key(
        op.f("fk_lead_field_changes_organization_id_organizations"),
        _HISTORY,
        "organizations",
        ["organization_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_lead_field_changes_lead_id_leads"),
        _HISTORY,
        "leads",
        ["lead_id"],
        ["id"],
        ondelete="CASCADE",
    )
