"""Ingestion configs: one per provider endpoint URL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
        # A provider mode is usable only with its credential; the database refuses half a mode.
        CheckConstraint(
            "auth_mode <> 'payload_key' "
            "OR (payload_key_path IS NOT NULL AND payload_key_hash IS NOT NULL)",
            name="payload_key_complete",
        ),
        CheckConstraint(
            "auth_mode <> 'signature' OR (signature_header IS NOT NULL "
            "AND signature_encoding IS NOT NULL AND signing_secret IS NOT NULL)",
            name="signature_complete",
        ),
        CheckConstraint(
            "signature_encoding IS NULL OR signature_encoding IN ('base64', 'hex')",
            name="signature_encoding_known",
        ),
        # A custom-payload config routes new leads to its campaign; the standard API's config
        # routes them by lead type.
        CheckConstraint("standard_api OR campaign_id IS NOT NULL", name="campaign_required"),
        # A callback URL is only ever saved with the key that signs its deliveries.
        CheckConstraint(
            "callback_url IS NULL OR callback_secret IS NOT NULL", name="callback_secret_required"
        ),
        CheckConstraint("file_endpoint IN ('create', 'upsert')", name="file_endpoint_known"),
        CheckConstraint(
            "held_reason IS NULL OR held_reason IN ('manual', 'drift')", name="held_reason_known"
        ),
        # One standard-API config per organization.
        Index(
            "uq_ingestion_configs_organization_id_standard_api",
            "organization_id",
            unique=True,
            postgresql_where=text("standard_api"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
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
    # Fan-in quarantine: more than this many distinct external ids giving one phone number or
    # email within this many days quarantine it; None means the default (5 within 30 days).
    fan_in_limit: Mapped[int | None]
    fan_in_window_days: Mapped[int | None]
    # Provider credentials (auth modes payload-key and signature). Nothing here is in clear:
    # the payload key as a SHA-256 hex digest, the HMAC secret as a Fernet token under
    # LEADGATE_SECRET_KEY. Where the payload carries its key: "google_key" (a dotted path).
    payload_key_path: Mapped[str | None] = mapped_column(String(255))
    payload_key_hash: Mapped[str | None] = mapped_column(String(64))
    # The header with the body's HMAC: "Typeform-Signature"; its encoding (base64 or hex) and
    # the text before the digest ("sha256="; None for a bare digest).
    signature_header: Mapped[str | None] = mapped_column(String(100))
    signature_encoding: Mapped[str | None] = mapped_column(String(8))
    signature_prefix: Mapped[str | None] = mapped_column(String(32))
    signing_secret: Mapped[str | None] = mapped_column(Text)  # "gAAAAABn..." (Fernet)
    # The credential before the last rotation, valid until previous_secret_expires_time so that
    # a provider can be switched over without losing a lead.
    previous_payload_key_hash: Mapped[str | None] = mapped_column(String(64))
    previous_signing_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_time: Mapped[dt.datetime | None]
    # Provider outcome callbacks: when an event of this config reaches a terminal state, its
    # outcome is POSTed here ("https://provider.example.com/leadgate/outcomes"), signed with
    # callback_secret (a "whsec_..." key as a Fernet token under LEADGATE_SECRET_KEY). After a
    # rotation the previous key signs beside it until its expiry.
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    callback_secret: Mapped[str | None] = mapped_column(Text)
    previous_callback_secret: Mapped[str | None] = mapped_column(Text)
    previous_callback_secret_expires_time: Mapped[dt.datetime | None]
    # multipart/form-data: True drops file parts; False (the default) refuses them with a 415.
    ignore_file_parts: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)
    # The organization's internal config behind the standard lead API (/api/leads/): its events
    # go through the same inbox, claims, sweeper and replay as any other. It has no URL of its
    # own: the custom-payload doors answer 404 for it.
    standard_api: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A held config keeps accepting payloads, but its events wait (status held) until released.
    held: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Why and since when: "manual" (an operator) or "drift" (the alarm, with hold_on_drift).
    held_reason: Mapped[str | None] = mapped_column(String(16))
    held_time: Mapped[dt.datetime | None]
    # Hold the config by itself when its drift alarm goes off.
    hold_on_drift: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The raised drift alarm, None when there is none (worker.health.drift):
    # {"reasons": ["missing_path"], "raised_time": "...", "paths": [{"path": "contact.phone",
    #  "baseline_share": 0.98, "recent_missing_share": 0.3}], "failure_share": 0.3, ...}
    drift_alarm: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    )
    # The config's own drift limits, in place of the service's: {"recent_events": 20}
    drift_limits: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    )
    # What a row of an uploaded file does: "upsert" (the default) or "create", like the doors.
    file_endpoint: Mapped[str] = mapped_column(
        String(16), default="upsert", server_default="upsert"
    )
    # A test config: every event it receives is a test-mode event (see IngestionEvent.is_test).
    test: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Bumped on every change so caches of the compiled mapping know when to refresh.
    version: Mapped[int] = mapped_column(default=1)
    # The number of the mapping version the mapping column holds (models.mapping_version).
    mapping_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_time: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
