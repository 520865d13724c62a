"""An organization's own blocked identifiers and placeholder values (identifier hygiene)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class BlockedIdentifier(Base):
    """A phone number or email never matched nor stored, or a value taken as missing."""

    __tablename__ = "blocked_identifiers"
    __table_args__ = (UniqueConstraint("organization_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # "phone_number" (E.164), "email" (an address, or "@domain") or "placeholder" (case-folded).
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(255))
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
