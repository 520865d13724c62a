"""``leadgate lead-type``: the kinds of lead an organization takes, and their campaigns."""

from __future__ import annotations

import click
from sqlalchemy import select

from leadgate.cli import records
from leadgate.cli.context import admin_session
from leadgate.cli.lead_type_records import (
    LeadTypeOptions,
    create_lead_type,
    get_lead_type,
    load_fields_file,
    update_lead_type,
)
from leadgate.cli.output import emit, emit_json, emit_table, say
from models import LeadType
from webhook.serializers import lead_type_json

FIELDS_HELP = (
    "JSON file with the lead's metadata fields: a list of "
    '{"key", "label", "helpText", "type", "required"} (- for stdin).'
)


@click.group("lead-type")
def lead_type_group() -> None:
    """Lead types: which campaign a standard API lead goes to, and its metadata fields."""


@lead_type_group.command("create")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
@click.option("--campaign", "campaign_id", type=int, required=True, help="Campaign of new leads.")
@click.option("--fields", "fields_file", default=None, metavar="FILE", help=FIELDS_HELP)
@click.option("--default", "make_default", is_flag=True, help="Make it the organization's default.")
@click.argument("name")
def lead_type_create(
    organization_id: int, campaign_id: int, fields_file: str | None, make_default: bool, name: str
) -> None:
    """Create a lead type and print its id."""
    fields = load_fields_file(fields_file) if fields_file else None
    options = LeadTypeOptions(name, campaign_id, fields, make_default)
    with admin_session() as session:
        lead_type = create_lead_type(session, organization_id, options)
        lead_type_id = lead_type.id
    default = ", the organization's default" if make_default else ""
    say(
        f"created lead type {lead_type_id} ({name.strip()}{default}) for campaign {campaign_id} "
        f"in organization {organization_id}"
    )
    emit(lead_type_id)


@lead_type_group.command("list")
@click.option("--org", "organization_id", type=int, default=None, help="Only this organization.")
def lead_type_list(organization_id: int | None) -> None:
    """List lead types."""
    with admin_session(read_only=True) as session:
        query = select(LeadType).order_by(LeadType.organization_id, LeadType.id)
        if organization_id is not None:
            records.get_organization(session, organization_id)
            query = query.where(LeadType.organization_id == organization_id)
        rows = [
            (t.id, t.organization_id, t.campaign_id, t.name, "yes" if t.is_default else "no",
             len(t.lead_metadata_fields or []))
            for t in session.scalars(query)
        ]  # fmt: skip
    emit_table(("ID", "ORG", "CAMPAIGN", "NAME", "DEFAULT", "FIELDS"), rows)


@lead_type_group.command("show")
@click.argument("lead_type_id", type=int)
def lead_type_show(lead_type_id: int) -> None:
    """Print a lead type as JSON, as the API shows it."""
    with admin_session(read_only=True) as session:
        lead_type = get_lead_type(session, lead_type_id)
        emit_json({**lead_type_json(lead_type), "organization": lead_type.organization_id})


@lead_type_group.command("update")
@click.argument("lead_type_id", type=int)
@click.option("--name", default=None, help="New name.")
@click.option("--campaign", "campaign_id", type=int, default=None, help="Campaign of new leads.")
@click.option("--fields", "fields_file", default=None, metavar="FILE", help=FIELDS_HELP)
@click.option("--default", "make_default", is_flag=True, help="Make it the organization's default.")
def lead_type_update(
    lead_type_id: int,
    name: str | None,
    campaign_id: int | None,
    fields_file: str | None,
    make_default: bool,
) -> None:
    """Change a lead type; leads it already has keep their campaign."""
    fields = load_fields_file(fields_file) if fields_file else None
    options = LeadTypeOptions(name, campaign_id, fields, make_default)
    with admin_session() as session:
        changed = update_lead_type(session, get_lead_type(session, lead_type_id), options)
    if changed:
        say(f"updated {', '.join(changed)} of lead type {lead_type_id}")
    else:
        say(f"nothing to change in lead type {lead_type_id}")
