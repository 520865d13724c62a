"""Field provenance: every change to a lead's field, with the event that made it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

# A JSON value of any type (text, number, boolean, object); SQL NULL for no value.
_ANY_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class LeadFieldChange(Base):
    """One field of one lead changed: its old and new values, which event, which mapping."""

    __tablename__ = "lead_field_changes"
    __table_args__ = (
        Index("ix_lead_field_changes_lead_id_id", "lead_id", "id"),
        Index("ix_lead_field_changes_changed_time", "changed_time"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No foreign keys: their per-row checks lock the lead the same transaction has just written
    # and cost most of a batch's database time. A row is written only with that lead; deleting
    # a lead (worker.test_leads) deletes its history itself.
    organization_id: Mapped[int]
    lead_id: Mapped[int]
    # The lead's JSON field name; a metadata key as "metadata.KEY". Text: a payload's keys have
    # no length limit of their own (the body limit bounds them), and a change is never refused.
    field: Mapped[str] = mapped_column(Text)
    old_value: Mapped[Any] = mapped_column(_ANY_JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(_ANY_JSON, nullable=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    mapping_version: Mapped[int | None]
    changed_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
