"""Admin operations on rows: organizations, tokens, campaigns, representatives, configs.

Plain functions that take a session and never commit; the CLI and the demo call them. An
``AdminError`` carries a message a person can act on (which id, which rule, what was given).
Configs are the config service's (``worker.configs``), shared with the HTTP API; its refusals
are ``ConfigError``s.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.tokens import TOKEN_PREFIX, hash_token, visible_prefix
from models import ApiToken, Campaign, IngestionConfig, Organization, Representative
from worker import configs
from worker.api_tokens import issue_token, revoke_token
from worker.configs import (
    Author,
    ConfigError,
    ConfigOptions,
    MappingRefused,
    check_match_keys,
    check_name,
    config_as_dict,
    update_config,
)

# The config service's names the CLI and the demo use through this module.
__all__ = [
    "AdminError",
    "ConfigError",
    "ConfigOptions",
    "MappingRefused",
    "check_name",
    "config_as_dict",
    "create_config",
    "get_config",
    "parse_match_keys",
    "revoke_token",
    "update_config",
]


class AdminError(Exception):
    """An admin request that cannot be carried out; the message says why."""


def get_organization(session: Session, organization_id: int) -> Organization:
    """The organization with this id, or an error naming it."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise AdminError(f"no organization with id {organization_id}")
    return organization


def create_organization(session: Session, name: str) -> Organization:
    """A new organization."""
    organization = Organization(name=check_name(name, "organization"))
    session.add(organization)
    session.flush()
    return organization


def create_token(
    session: Session, organization_id: int, name: str | None = None
) -> tuple[ApiToken, str]:
    """A new token for the organization: the row (hash only) and the plain token, shown once."""
    get_organization(session, organization_id)
    return issue_token(session, organization_id, name)


def find_token(session: Session, reference: str) -> ApiToken:
    """A token by id, by its visible prefix, or by the whole token."""
    reference = reference.strip()
    if reference.isdigit():
        found = session.get(ApiToken, int(reference))
        if found is None:
            raise AdminError(f"no token with id {reference}")
        return found
    if reference.startswith(TOKEN_PREFIX) and len(reference) > len(visible_prefix(reference)):
        by_hash = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(reference))
        )
        if by_hash is not None:
            return by_hash
    matches = list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.prefix == visible_prefix(reference))
            .order_by(ApiToken.id)
        )
    )
    matches = [token for token in matches if reference.startswith(token.prefix)]
    if not matches:
        raise AdminError(f"no token with id or prefix {reference!r}")
    if len(matches) > 1:
        ids = ", ".join(str(token.id) for token in matches)
        raise AdminError(f"prefix {reference!r} names several tokens (ids {ids}); give the id")
    return matches[0]


def create_campaign(session: Session, organization_id: int, name: str) -> Campaign:
    """A new campaign in the organization."""
    get_organization(session, organization_id)
    campaign = Campaign(organization_id=organization_id, name=check_name(name, "campaign"))
    session.add(campaign)
    session.flush()
    return campaign


def create_representative(session: Session, organization_id: int, name: str) -> Representative:
    """A new representative in the organization."""
    get_organization(session, organization_id)
    representative = Representative(
        organization_id=organization_id, name=check_name(name, "representative")
    )
    session.add(representative)
    session.flush()
    return representative


def load_json_file(path: str, what: str) -> Any:
    """The JSON value in a file (``-`` for stdin); an error naming the file and why otherwise."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise AdminError(f"cannot read the {what} file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise AdminError(f"the {what} file {path} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise AdminError(f"the {what} file {path} is not valid JSON: {error}") from None


def load_json_object(path: str, what: str) -> dict[str, Any]:
    """Read a file (``-`` for stdin) that must hold one JSON object."""
    value = load_json_file(path, what)
    if not isinstance(value, dict):
        raise AdminError(
            f"the {what} file {path} must hold a JSON object, not {type(value).__name__}"
        )
    return value


def parse_match_keys(text: str) -> list[str]:
    """``"external_id,email"`` as a list, each key one of external_id, phone_number, email."""
    return check_match_keys([key.strip() for key in text.split(",") if key.strip()])


def get_config(session: Session, config_id: uuid.UUID) -> IngestionConfig:
    """The ingestion config with this UUID, or an error naming it."""
    return configs.get_config(session, config_id)


def create_config(session: Session, campaign_id: int, options: ConfigOptions) -> IngestionConfig:
    """A new ingestion config for the campaign, saved by the CLI's user."""
    return configs.create_config(session, campaign_id, options, Author.cli_user())
