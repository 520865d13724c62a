"""Mapping versions: every saved mapping of a config, kept as it was saved."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class MappingVersion(Base):
    """One saved mapping of a config; never changed once written (a restore adds a new one).

    Migration 0007 adds a trigger that refuses any UPDATE or DELETE of a row.
    """

    __tablename__ = "mapping_versions"
    __table_args__ = (UniqueConstraint("config_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    config_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingestion_configs.id"))
    # 1 for the mapping the config was created with, then one more per saved change.
    number: Mapped[int]
    mapping: Mapped[dict[str, Any]]
    saved_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Who saved it, for people: "token 12 (lg_3fa9c1)" or "cli alice".
    saved_by: Mapped[str] = mapped_column(String(255))
    saved_by_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    message: Mapped[str | None] = mapped_column(Text)
