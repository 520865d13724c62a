"""Provider authentication (payload-key and signature modes) and the multipart file setting.

Revision ID: 0005_provider_auth
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_provider_auth"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONFIGS = "ingestion_configs"


def upgrade() -> None:
    """Widen the auth modes and add the provider credential columns with their checks."""
    op.drop_constraint(op.f("ck_ingestion_configs_auth_mode"), _CONFIGS, type_="check")
    op.create_check_constraint(
        op.f("ck_ingestion_configs_auth_mode"),
        _CONFIGS,
        "auth_mode IN ('token', 'open', 'payload_key', 'signature')",
    )
    op.add_column(_CONFIGS, sa.Column("payload_key_path", sa.String(length=255), nullable=True))
    op.add_column(_CONFIGS, sa.Column("payload_key_hash", sa.String(length=64), nullable=True))
    op.add_column(_CONFIGS, sa.Column("signature_header", sa.String(length=100), nullable=True))
    op.add_column(_CONFIGS, sa.Column("signature_encoding", sa.String(length=8), nullable=True))
    op.add_column(_CONFIGS, sa.Column("signature_prefix", sa.String(length=32), nullable=True))
    op.add_column(_CONFIGS, sa.Column("signing_secret", sa.Text(), nullable=True))
    op.add_column(
        _CONFIGS, sa.Column("previous_payload_key_hash", sa.String(length=64), nullable=True)
    )
    op.add_column(_CONFIGS, sa.Column("previous_signing_secret", sa.Text(), nullable=True))
    op.add_column(
        _CONFIGS,
        sa.Column("previous_secret_expires_time", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        _CONFIGS,
        sa.Column("ignore_file_parts", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_ingestion_configs_payload_key_complete"),
        _CONFIGS,
        "auth_mode <> 'payload_key' "
        "OR (payload_key_path IS NOT NULL AND payload_key_hash IS NOT NULL)",
    )
    op.create_check_constraint(
        op.f("ck_ingestion_configs_signature_complete"),
        _CONFIGS,
        "auth_mode <> 'signature' OR (signature_header IS NOT NULL "
        "AND signature_encoding IS NOT NULL AND signing_secret IS NOT NULL)",
    )
    op.create_check_constraint(
        op.f("ck_ingestion_configs_signature_encoding_known"),
        _CONFIGS,
        "signature_encoding IS NULL OR signature_encoding IN ('base64', 'hex')",
    )


def downgrade() -> None:
    """Drop the provider columns (their checks go with them) and narrow the auth modes again."""
    for column in (
        "ignore_file_parts",
        "previous_secret_expires_time",
        "previous_signing_secret",
        "previous_payload_key_hash",
        "signing_secret",
        "signature_prefix",
        "signature_encoding",
        "signature_header",
        "payload_key_hash",
        "payload_key_path",
    ):
        op.drop_column(_CONFIGS, column)
    op.drop_constraint(op.f("ck_ingestion_configs_auth_mode"), _CONFIGS, type_="check")
    op.create_check_constraint(
        op.f("ck_ingestion_configs_auth_mode"), _CONFIGS, "auth_mode IN ('token', 'open')"
    )
