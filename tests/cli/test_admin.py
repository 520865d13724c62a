"""``leadgate org | token | campaign | representative`` on the test database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common.tokens import hash_token
from models import ApiToken, Campaign, Organization, Representative
from tests.cli.conftest import Invoke, only_line


def test_org_create_prints_only_the_id(invoke: Invoke, engine: Engine) -> None:
    result = invoke("org", "create", "Acme Leads")

    organization_id = int(only_line(result))
    assert "Acme Leads" in result.stderr
    with Session(engine) as session:
        assert session.get(Organization, organization_id).name == "Acme Leads"  # type: ignore[union-attr]


def test_org_list_shows_created_organizations(invoke: Invoke, organization_id: int) -> None:
    listing = invoke("org", "list").stdout

    assert any(line.split()[0] == str(organization_id) for line in listing.splitlines()[1:])


def test_token_create_prints_the_token_once_and_stores_only_its_hash(
    invoke: Invoke, organization_id: int, engine: Engine
) -> None:
    result = invoke("token", "create", "--org", str(organization_id), "--name", "crm")

    token = only_line(result)
    assert token.startswith("lg_")
    assert token not in result.stderr
    with Session(engine) as session:
        row = session.scalars(
            select(ApiToken).where(ApiToken.organization_id == organization_id)
        ).one()
        assert row.token_hash == hash_token(token)
        assert token not in (row.token_hash, row.prefix, row.name)
        assert token.startswith(row.prefix)
        assert row.name == "crm"


def test_token_list_shows_prefixes_not_tokens(invoke: Invoke, organization_id: int) -> None:
    token = only_line(invoke("token", "create", "--org", str(organization_id)))

    listing = invoke("token", "list", "--org", str(organization_id)).stdout

    assert token[:9] in listing
    assert token not in listing


def _revoked_time(engine: Engine, token: str) -> object:
    with Session(engine) as session:
        row = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == hash_token(token))
        ).one()
        return row.revoked_time


def test_token_revoke_by_prefix_sets_revoked_time(
    invoke: Invoke, organization_id: int, engine: Engine
) -> None:
    token = only_line(invoke("token", "create", "--org", str(organization_id)))

    result = invoke("token", "revoke", token[:9])

    assert result.stdout == ""
    assert "revoked" in result.stderr
    assert _revoked_time(engine, token) is not None


def test_token_revoke_by_id_and_again(invoke: Invoke, organization_id: int, engine: Engine) -> None:
    token = only_line(invoke("token", "create", "--org", str(organization_id)))
    with Session(engine) as session:
        token_id = session.scalars(
            select(ApiToken.id).where(ApiToken.token_hash == hash_token(token))
        ).one()

    invoke("token", "revoke", str(token_id))
    first = _revoked_time(engine, token)
    again = invoke("token", "revoke", str(token_id))

    assert first is not None
    assert "already revoked" in again.stderr
    assert _revoked_time(engine, token) == first


def test_token_revoke_by_whole_token(invoke: Invoke, organization_id: int, engine: Engine) -> None:
    token = only_line(invoke("token", "create", "--org", str(organization_id)))

    invoke("token", "revoke", token)

    assert _revoked_time(engine, token) is not None


def test_campaign_and_representative_create_print_only_their_ids(
    invoke: Invoke, organization_id: int, engine: Engine
) -> None:
    campaign_id = int(only_line(invoke("campaign", "create", "--org", str(organization_id), "Q4")))
    rep_id = int(
        only_line(invoke("representative", "create", "--org", str(organization_id), "Ann Lee"))
    )

    with Session(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        representative = session.get(Representative, rep_id)
        assert campaign is not None and campaign.organization_id == organization_id
        assert representative is not None and representative.name == "Ann Lee"


def test_unknown_ids_are_clear_errors(invoke: Invoke) -> None:
    cases = [
        (("campaign", "create", "--org", "987654", "x"), "no organization with id 987654"),
        (("representative", "create", "--org", "987654", "x"), "no organization with id 987654"),
        (("token", "create", "--org", "987654"), "no organization with id 987654"),
        (("token", "list", "--org", "987654"), "no organization with id 987654"),
        (("token", "revoke", "987654"), "no token with id 987654"),
        (("token", "revoke", "lg_nothere"), "no token with id or prefix 'lg_nothere'"),
    ]
    for args, message in cases:
        result = invoke(*args, exit_code=1)
        assert result.stdout == ""
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_empty_names_are_refused(invoke: Invoke) -> None:
    result = invoke("org", "create", "  ", exit_code=1)

    assert "must not be empty" in result.stderr
