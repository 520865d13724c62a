"""Leads, with Sela's field names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.enums import US_STATE_CODES, LeadStatus, StatusOutcome, StatusReason

# The test leads' partial index condition, stated once: the sweep (worker.test_leads) puts the
# same text in its WHERE clause so that a generic plan can still use the index.
TEST_LEADS = "is_test"


def _enum(cls: type, name: str) -> Enum:
    return Enum(cls, native_enum=False, create_constraint=True, length=32, name=name)


class Lead(Base):
    """A person a provider sent us; one row per person per organization."""

    __tablename__ = "leads"
    __table_args__ = (
        # I2: no two leads of an organization share an external id. Test leads have a namespace
        # of their own, so a provider's test run may reuse the external ids of real leads.
        Index(
            "uq_leads_organization_id_is_test_external_id",
            "organization_id",
            "is_test",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index("ix_leads_organization_id_phone_number", "organization_id", "phone_number"),
        Index(
            "ix_leads_organization_id_email",
            "organization_id",
            "email",
            postgresql_where=text("email IS NOT NULL"),
        ),
        Index("ix_leads_organization_id_modified_time", "organization_id", "modified_time"),
        # The sweep's question: which test leads are past their time to live?
        Index("ix_leads_created_time_test", "created_time", postgresql_where=text(TEST_LEADS)),
        CheckConstraint(
            "us_state IS NULL OR us_state IN ({})".format(
                ", ".join(f"'{code}'" for code in US_STATE_CODES)
            ),
            name="us_state_known",
        ),
        CheckConstraint("reengagements_count >= 0", name="reengagements_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    representative_id: Mapped[int | None] = mapped_column(ForeignKey("representatives.id"))
    # E.164: "+14155552671"
    phone_number: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    external_id: Mapped[str | None] = mapped_column(String(255))
    us_state: Mapped[str | None] = mapped_column(String(2))
    lead_source: Mapped[str | None] = mapped_column(String(255))
    lead_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    status: Mapped[LeadStatus] = mapped_column(
        _enum(LeadStatus, "lead_status"), default=LeadStatus.NEW
    )
    status_outcome: Mapped[StatusOutcome | None] = mapped_column(
        _enum(StatusOutcome, "status_outcome")
    )
    status_reason: Mapped[StatusReason | None] = mapped_column(_enum(StatusReason, "status_reason"))
    lead_type: Mapped[int | None]
    sms_dnc: Mapped[bool] = mapped_column(default=False)
    call_dnc: Mapped[bool] = mapped_column(default=False)
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    received_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reengagements_count: Mapped[int] = mapped_column(default=0)
    last_reengagement_time: Mapped[dt.datetime | None]
    next_call_time: Mapped[dt.datetime | None]
    next_call_time_reason: Mapped[str | None] = mapped_column(String(255))
    call_schedule_start_time: Mapped[dt.datetime | None]
    # IANA zone: "America/Los_Angeles"
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Receive order (ingestion_events.seq) of the newest event applied; older ones are stale (I3).
    last_event_seq: Mapped[int | None] = mapped_column(BigInteger)
    # When each field was last written, by the writing event's time (its event_time, else its
    # receipt): {"email": "2026-01-15T14:05:00+00:00", "metadata.loan": ..., "@event": ...}.
    field_times: Mapped[dict[str, Any] | None]
    # Made by a test-mode event (Leadgate-Test: true, or a config marked test): matched only with
    # other test leads, left out of lists, stats and lead webhooks, deleted after its TTL.
    is_test: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Optimistic version: an update whose version moved underneath it is retried, never applied.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
