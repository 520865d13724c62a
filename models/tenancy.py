"""Organizations and what belongs to them directly: tokens, campaigns, representatives."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class Organization(Base):
    """A tenant; every other row belongs to exactly one."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Identifier hygiene: the numbers (555-01XX) and domains (RFC 2606) reserved for examples
    # are blocked like placeholders unless the organization uses them on purpose (a demo).
    blocks_reserved_identifiers: Mapped[bool] = mapped_column(default=True, server_default=true())


class ApiToken(Base):
    """An API token, stored only as a hash; the plain token is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # The first characters of the plain token, to tell tokens apart in listings: "lg_3fa9c1".
    prefix: Mapped[str] = mapped_column(String(16))
    # SHA-256 hex of the plain token; the token has 256 random bits, so no salt is needed.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_time: Mapped[dt.datetime | None]
    last_used_time: Mapped[dt.datetime | None]


class Campaign(Base):
    """A campaign; new leads are routed to their ingestion config's campaign."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Representative(Base):
    """A person a lead may be assigned to."""

    __tablename__ = "representatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
