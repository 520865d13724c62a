"""Admin operations on lead types: plain functions that take a session and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from leadgate.cli.records import AdminError, check_name, get_organization, load_json_file
from models import Campaign, LeadType
from worker.ingest.lead_types import parse_metadata_fields


@dataclass
class LeadTypeOptions:
    """What ``lead-type create`` and ``update`` may set; None leaves a value as it is."""

    name: str | None = None
    campaign_id: int | None = None
    fields: list[dict[str, Any]] | None = None
    make_default: bool = False


def load_fields_file(path: str) -> list[dict[str, Any]]:
    """Read and check a JSON file (``-`` for stdin) holding a list of metadata fields."""
    value = load_json_file(path, "fields")
    try:
        return parse_metadata_fields(value)
    except ValueError as error:
        raise AdminError(f"the fields file {path}: {error}") from None


def get_lead_type(session: Session, lead_type_id: int) -> LeadType:
    """The lead type with this id, or an error naming it."""
    lead_type = session.get(LeadType, lead_type_id)
    if lead_type is None:
        raise AdminError(f"no lead type with id {lead_type_id}")
    return lead_type


def _campaign_of(session: Session, organization_id: int, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.organization_id != organization_id:
        raise AdminError(f"no campaign with id {campaign_id} in organization {organization_id}")
    return campaign


def _make_default(session: Session, lead_type: LeadType) -> None:
    # One default per organization (a unique index says so): the old one steps down first.
    session.execute(
        update(LeadType)
        .where(
            LeadType.organization_id == lead_type.organization_id,
            LeadType.is_default,
            LeadType.id != lead_type.id,
        )
        .values(is_default=False)
    )
    session.flush()
    lead_type.is_default = True


def create_lead_type(session: Session, organization_id: int, options: LeadTypeOptions) -> LeadType:
    """A new lead type of the organization; with ``make_default``, its default one."""
    get_organization(session, organization_id)
    if options.campaign_id is None:
        raise AdminError("a lead type needs a campaign (--campaign ID)")
    campaign = _campaign_of(session, organization_id, options.campaign_id)
    lead_type = LeadType(
        organization_id=organization_id,
        name=check_name(options.name or "", "lead type"),
        campaign_id=campaign.id,
        lead_metadata_fields=options.fields or [],
        is_default=False,
    )
    session.add(lead_type)
    session.flush()
    if options.make_default:
        _make_default(session, lead_type)
        session.flush()
    return lead_type


def update_lead_type(session: Session, lead_type: LeadType, options: LeadTypeOptions) -> list[str]:
    """Apply the options to the lead type; returns the names that changed."""
    wanted: dict[str, Any] = {}
    if options.name is not None:
        wanted["name"] = check_name(options.name, "lead type")
    if options.campaign_id is not None:
        wanted["campaign_id"] = _campaign_of(
            session, lead_type.organization_id, options.campaign_id
        ).id
    if options.fields is not None:
        wanted["lead_metadata_fields"] = options.fields
    changed = [name for name, value in wanted.items() if getattr(lead_type, name) != value]
    for name in changed:
        setattr(lead_type, name, wanted[name])
    if options.make_default and not lead_type.is_default:
        _make_default(session, lead_type)
        changed.append("is_default")
    session.flush()
    return changed
