"""Tokens are issued as a hash with a visible prefix, listed per organization, revoked once."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from common.tokens import hash_token
from tests.support.factories import make_tenant
from worker.api_tokens import issue_token, own_token, revoke_token, tokens_of

pytestmark = pytest.mark.integration


def test_issue_list_and_revoke(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    other = make_tenant(db_session)
    token, plain = issue_token(db_session, tenant.organization_id, "ci")
    assert token.token_hash == hash_token(plain) and plain.startswith(token.prefix)
    listed = list(db_session.scalars(tokens_of(tenant.organization_id)))
    assert listed[0] is token and len(listed) == 2
    assert own_token(db_session, tenant.organization_id, token.id) is token
    assert own_token(db_session, other.organization_id, token.id) is None
    assert own_token(db_session, tenant.organization_id, 0) is None
    assert revoke_token(token) is True
    assert revoke_token(token) is False
