"""Fan-in quarantine: which external ids gave each phone number and email, and the quarantined."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class IdentifierClaim(Base):
    """An external id gave this phone number or email; ``claimed_time`` is its latest time."""

    __tablename__ = "identifier_claims"
    # The primary key's leading (organization_id, kind, value) serves lookups by identifier.

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)  # phone_number or email
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    claimed_time: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QuarantinedIdentifier(Base):
    """A phone number or email too many external ids claimed: no longer used to match."""

    __tablename__ = "quarantined_identifiers"
    __table_args__ = (UniqueConstraint("organization_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(255))
    # How many distinct external ids had claimed it within the window when it was quarantined.
    claimants: Mapped[int]
    quarantined_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
