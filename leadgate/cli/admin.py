"""``leadgate org | token | campaign | representative``: the tenancy rows."""

from __future__ import annotations

import click
from sqlalchemy import select

from leadgate.cli import records
from leadgate.cli.context import admin_session
from leadgate.cli.output import emit, emit_table, say
from models import ApiToken, Organization


@click.group("org")
def org_group() -> None:
    """Organizations: every other row belongs to one."""


@org_group.command("create")
@click.argument("name")
def org_create(name: str) -> None:
    """Create an organization and print its id."""
    with admin_session() as session:
        organization = records.create_organization(session, name)
        organization_id = organization.id
    say(f"created organization {organization_id} ({organization.name})")
    emit(organization_id)


@org_group.command("list")
def org_list() -> None:
    """List organizations."""
    with admin_session(read_only=True) as session:
        rows = [
            (organization.id, organization.name, organization.created_time)
            for organization in session.scalars(select(Organization).order_by(Organization.id))
        ]
    emit_table(("ID", "NAME", "CREATED"), rows)


@click.group("token")
def token_group() -> None:
    """API tokens: shown once at creation, stored only as a hash."""


@token_group.command("create")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
@click.option("--name", default=None, help="A label to tell tokens apart.")
def token_create(organization_id: int, name: str | None) -> None:
    """Create a token and print it; it cannot be shown again."""
    with admin_session() as session:
        token, plain = records.create_token(session, organization_id, name)
        token_id, prefix = token.id, token.prefix
    say(
        f"created token {token_id} ({prefix}) for organization {organization_id}; "
        "store it now, it is not shown again"
    )
    emit(plain)


@token_group.command("revoke")
@click.argument("reference", metavar="TOKEN_ID_OR_PREFIX")
def token_revoke(reference: str) -> None:
    """Revoke a token given its id, its prefix (lg_xxxxxx) or the token itself."""
    with admin_session() as session:
        token = records.find_token(session, reference)
        if records.revoke_token(token):
            say(f"revoked token {token.id} ({token.prefix})")
        else:
            say(f"token {token.id} ({token.prefix}) was already revoked at {token.revoked_time}")


@token_group.command("list")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
def token_list(organization_id: int) -> None:
    """List an organization's tokens (prefixes only)."""
    with admin_session(read_only=True) as session:
        records.get_organization(session, organization_id)
        tokens = session.scalars(
            select(ApiToken)
            .where(ApiToken.organization_id == organization_id)
            .order_by(ApiToken.id)
        )
        rows = [
            (t.id, t.prefix, t.name, t.created_time, t.last_used_time, t.revoked_time)
            for t in tokens
        ]
    emit_table(("ID", "PREFIX", "NAME", "CREATED", "LAST USED", "REVOKED"), rows)


@click.group("campaign")
def campaign_group() -> None:
    """Campaigns: new leads go to their ingestion config's campaign."""


@campaign_group.command("create")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
@click.argument("name")
def campaign_create(organization_id: int, name: str) -> None:
    """Create a campaign and print its id."""
    with admin_session() as session:
        campaign = records.create_campaign(session, organization_id, name)
        campaign_id = campaign.id
    say(f"created campaign {campaign_id} ({campaign.name}) in organization {organization_id}")
    emit(campaign_id)


@click.group("representative")
def representative_group() -> None:
    """Representatives: people leads may be assigned to."""


@representative_group.command("create")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
@click.argument("name")
def representative_create(organization_id: int, name: str) -> None:
    """Create a representative and print its id."""
    with admin_session() as session:
        representative = records.create_representative(session, organization_id, name)
        representative_id = representative.id
    say(
        f"created representative {representative_id} ({representative.name}) "
        f"in organization {organization_id}"
    )
    emit(representative_id)
