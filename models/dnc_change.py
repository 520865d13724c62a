"""The DNC ledger: every change of a lead's do-not-call or do-not-text flag, append-only."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class DncChange(Base):
    """One DNC flag of one lead changed: which channel, from what to what, by which door."""

    __tablename__ = "dnc_changes"
    __table_args__ = (Index("ix_dnc_changes_lead_id_id", "lead_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))  # "sms" or "call"
    old_value: Mapped[bool | None]
    new_value: Mapped[bool]
    # The door: the event's endpoint ("upsert", "leads.patch", ...), and the event itself.
    door: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changed_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
