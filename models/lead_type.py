"""Lead types: the kind of lead a person is (and the campaign its new leads go to)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class LeadType(Base):
    """A lead type of an organization, with the metadata fields its leads carry."""

    __tablename__ = "lead_types"
    __table_args__ = (
        # One default lead type per organization: where a standard create without one goes.
        Index(
            "uq_lead_types_organization_id_default",
            "organization_id",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    # Where new leads of this type go.
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    # Sela's shape: [{"key": "loan_amount", "label": "Loan amount", "helpText": "",
    #                 "type": "number", "required": true}]
    lead_metadata_fields: Mapped[list[Any]] = mapped_column(default=list)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_time: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
