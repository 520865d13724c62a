"""Ingestion configs: one per provider endpoint URL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.enums import MATCH_KEYS, AuthMode


class IngestionConfig(Base):
    """How payloads posted to one URL are authenticated, mapped and matched."""

    __tablename__ = "ingestion_configs"
    __table_args__ = (
        CheckConstraint(
            "min_reengagement_days IS NULL OR min_reengagement_days >= 0",
            name="min_reengagement_days_not_negative",
        ),
        CheckConstraint(
            "max_body_bytes IS NULL OR max_body_bytes > 0", name="max_body_bytes_positive"
        ),
        CheckConstraint(
            "rate_limit_per_second IS NULL OR rate_limit_per_second > 0",
            name="rate_limit_per_second_positive",
        ),
        CheckConstraint(
            "rate_limit_burst IS NULL OR rate_limit_burst > 0", name="rate_limit_burst_positive"
        ),
        CheckConstraint(
            "match_keys <@ ARRAY['external_id', 'phone_number', 'email']::varchar[]",
            name="match_keys_known",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    name: Mapped[str] = mapped_column(String(255))
    # The field mapping (SPEC section 4): {"fields": {"phone_number": "contact.phone"}, ...}
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    default_lead_type: Mapped[int | None]
    auth_mode: Mapped[AuthMode] = mapped_column(
        Enum(AuthMode, native_enum=False, create_constraint=True, length=16, name="auth_mode"),
        default=AuthMode.token,
    )
    # Tried in this order when matching an upsert: ["external_id", "phone_number", "email"]
    match_keys: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), default=lambda: list(MATCH_KEYS)
    )
    min_reengagement_days: Mapped[int | None]
    # Largest body accepted on this endpoint, in bytes; None means the service default (256 KiB).
    max_body_bytes: Mapped[int | None]
    # Token bucket: sustained requests per second and the burst above it; None means no limit.
    rate_limit_per_second: Mapped[float | None]
    rate_limit_burst: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on every change so caches of the compiled mapping know when to refresh.
    version: Mapped[int] = mapped_column(default=1)
    # The number of the mapping version the mapping column holds (models.mapping_version).
    mapping_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_time: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
