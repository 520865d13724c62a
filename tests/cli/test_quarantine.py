"""``leadgate quarantine``: listing and releasing an organization's quarantined identifiers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import IdentifierClaim, QuarantinedIdentifier
from tests.cli.conftest import Invoke, only_line


def test_list_and_release(invoke: Invoke, organization_id: int, committed_session: Session) -> None:
    row = QuarantinedIdentifier(
        organization_id=organization_id, kind="email", value="desk@acme.io", claimants=7
    )
    committed_session.add(row)
    committed_session.add_all(
        IdentifierClaim(organization_id=organization_id, kind="email", value="desk@acme.io",
                        external_id=f"e-{i}")
        for i in range(7)
    )  # fmt: skip
    committed_session.commit()
    row_id = row.id
    listed = invoke("quarantine", "list", "--org", str(organization_id)).stdout
    assert "desk@acme.io" in listed and "7" in listed
    other = only_line(invoke("org", "create", "elsewhere"))
    refused = invoke("quarantine", "release", "--org", other, str(row_id), exit_code=1)
    assert f"no quarantined entry {row_id}" in refused.stderr
    invoke("quarantine", "release", "--org", str(organization_id), str(row_id))
    committed_session.expire_all()
    assert committed_session.get(QuarantinedIdentifier, row_id) is None
    # Released, it starts afresh: the claims that quarantined it are forgotten.
    assert committed_session.query(IdentifierClaim).filter_by(value="desk@acme.io").count() == 0
