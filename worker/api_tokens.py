"""API tokens of an organization: issued (the plain token shown once), listed and revoked.

Plain functions that take a session and never commit; the CLI and the console call them.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from common.tokens import generate_token, hash_token, visible_prefix
from models import ApiToken
from models.base import utcnow
from worker.configs import check_name


def issue_token(
    session: Session, organization_id: int, name: str | None = None
) -> tuple[ApiToken, str]:
    """A new token of the organization: the row (hash only) and the plain token, shown once."""
    plain = generate_token()
    token = ApiToken(
        organization_id=organization_id,
        prefix=visible_prefix(plain),
        token_hash=hash_token(plain),
        name=check_name(name, "token") if name is not None else None,
    )
    session.add(token)
    session.flush()
    return token, plain


def revoke_token(token: ApiToken) -> bool:
    """Revoke the token now; False when it was already revoked."""
    if token.revoked_time is not None:
        return False
    token.revoked_time = utcnow()
    return True


def tokens_of(organization_id: int) -> Select[ApiToken]:
    """The organization's tokens, newest first (revoked ones included)."""
    return (
        select(ApiToken)
        .where(ApiToken.organization_id == organization_id)
        .order_by(ApiToken.created_time.desc(), ApiToken.id.desc())
    )


def own_token(session: Session, organization_id: int, token_id: int) -> ApiToken | None:
    """The organization's token with this id; None for another organization's or none."""
    token = session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    return token if token is not None and token.organization_id == organization_id else None
