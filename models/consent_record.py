"""Consent evidence: append-only records of who consented to contact, how, and when."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class ConsentRecord(Base):
    """The consent evidence one event gave for one lead (the mapping's consent.KEY targets)."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_lead_id_id", "lead_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    trustedform_cert_url: Mapped[str | None] = mapped_column(Text)
    jornaya_leadid: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(Text)
    # When the person consented, as the payload says (consent.time).
    consent_time: Mapped[dt.datetime | None]
    source: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    recorded_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
