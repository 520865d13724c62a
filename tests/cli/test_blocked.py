"""``leadgate blocked``: an organization's lists from the command line."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import BlockedIdentifier, Organization
from tests.cli.conftest import Invoke, only_line


def test_add_list_remove(invoke: Invoke, organization_id: int, committed_session: Session) -> None:
    org = str(organization_id)
    phone_id = int(
        only_line(invoke("blocked", "add", "--org", org, "phone_number", "202-456-1111"))
    )
    email_id = int(only_line(invoke("blocked", "add", "--org", org, "email", "@Spam.io")))
    listed = invoke("blocked", "list", "--org", org).stdout
    assert "+12024561111" in listed and "@spam.io" in listed
    only_email = invoke("blocked", "list", "--org", org, "--kind", "email").stdout
    assert "@spam.io" in only_email and "+1202" not in only_email
    refused = invoke("blocked", "add", "--org", org, "email", "@", exit_code=1)
    assert "value:" in refused.stderr
    duplicate = invoke("blocked", "add", "--org", org, "email", "@spam.io", exit_code=1)
    assert "already has this entry" in duplicate.stderr
    invoke("blocked", "remove", "--org", org, str(phone_id))
    gone = invoke("blocked", "remove", "--org", org, str(phone_id), exit_code=1)
    assert f"no entry {phone_id}" in gone.stderr
    committed_session.expire_all()
    assert committed_session.get(BlockedIdentifier, phone_id) is None
    assert committed_session.get(BlockedIdentifier, email_id) is not None
    other = only_line(invoke("org", "create", "other-org"))
    invoke("blocked", "remove", "--org", other, str(email_id), exit_code=1)


def test_reserved_identifiers_switch(
    invoke: Invoke, organization_id: int, committed_session: Session
) -> None:
    organization = committed_session.get(Organization, organization_id)
    assert organization is not None and organization.blocks_reserved_identifiers
    invoke("blocked", "reserved", "--org", str(organization_id), "allow")
    committed_session.expire_all()
    assert not organization.blocks_reserved_identifiers
    invoke("blocked", "reserved", "--org", str(organization_id), "block")
    committed_session.expire_all()
    assert organization.blocks_reserved_identifiers
