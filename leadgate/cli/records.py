"""Admin operations on rows: organizations, tokens, campaigns, representatives, configs.

Plain functions that take a session and never commit; the CLI and the demo call them. An
``AdminError`` carries a message a person can act on (which id, which rule, what was given).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from common.tokens import TOKEN_PREFIX, generate_token, hash_token, visible_prefix
from leadgate.cli.credentials import (
    CredentialError,
    CredentialOptions,
    apply_credentials,
    credential_summary,
)
from models import ApiToken, Campaign, IngestionConfig, LeadType, Organization, Representative
from models.base import utcnow
from models.enums import MATCH_KEYS, AuthMode

MAX_NAME_LENGTH = 255


class AdminError(Exception):
    """An admin request that cannot be carried out; the message says why."""


class MappingRefused(AdminError):
    """A mapping that does not validate; ``problems`` names every bad rule."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("mapping refused:\n" + "\n".join(f"  {problem}" for problem in problems))
        self.problems = problems


def check_name(name: str, what: str) -> str:
    """A trimmed, non-empty name of at most 255 characters."""
    name = name.strip()
    if not name:
        raise AdminError(f"the {what} name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise AdminError(f"the {what} name is {len(name)} characters long; at most 255 are allowed")
    return name


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


def revoke_token(token: ApiToken) -> bool:
    """Revoke the token now; False when it was already revoked."""
    if token.revoked_time is not None:
        return False
    token.revoked_time = utcnow()
    return True


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


def load_json_object(path: str, what: str) -> dict[str, Any]:
    """Read a file (``-`` for stdin) that must hold one JSON object."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise AdminError(f"cannot read the {what} file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise AdminError(f"the {what} file {path} is not UTF-8 text") from None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise AdminError(f"the {what} file {path} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise AdminError(
            f"the {what} file {path} must hold a JSON object, not {type(value).__name__}"
        )
    return value


def validate_mapping(mapping: dict[str, Any]) -> None:
    """Compile the mapping as the worker will; MappingRefused lists every bad rule."""
    if importlib.util.find_spec("worker.ingest.mapping") is None:
        raise AdminError("cannot validate the mapping: worker.ingest.mapping is not installed")
    from worker.ingest.mapping import MappingConfigError, compile_mapping

    try:
        compile_mapping(mapping)
    except MappingConfigError as error:
        raise MappingRefused(list(error.problems)) from None


def parse_match_keys(text: str) -> list[str]:
    """``"external_id,email"`` as a list, each key one of external_id, phone_number, email."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    if not keys:
        raise AdminError(f"--match needs at least one of: {', '.join(MATCH_KEYS)}")
    unknown = [key for key in keys if key not in MATCH_KEYS]
    if unknown:
        raise AdminError(
            f"unknown match key {', '.join(unknown)}; the keys are {', '.join(MATCH_KEYS)}"
        )
    if len(set(keys)) != len(keys):
        raise AdminError(f"--match names a key twice: {text}")
    return keys


def check_lead_type(session: Session, organization_id: int, lead_type_id: int) -> None:
    """Refuse a lead type id that is not one of the organization's."""
    lead_type = session.get(LeadType, lead_type_id)
    if lead_type is None or lead_type.organization_id != organization_id:
        raise AdminError(
            f"no lead type with id {lead_type_id} in organization {organization_id}; "
            "create one with `leadgate lead-type create`"
        )


def get_config(session: Session, config_id: uuid.UUID) -> IngestionConfig:
    """The ingestion config with this UUID, or an error naming it."""
    config = session.get(IngestionConfig, config_id)
    if config is None:
        raise AdminError(f"no ingestion config with id {config_id}")
    return config


@dataclass
class ConfigOptions:
    """What ``config create`` and ``config update`` may set; None leaves a value as it is."""

    name: str | None = None
    mapping: dict[str, Any] | None = None
    auth_mode: AuthMode | None = None
    active: bool | None = None
    lead_type: int | None = None
    clear_lead_type: bool = False
    match_keys: list[str] | None = None
    min_reengagement_days: int | None = None
    clear_min_reengagement_days: bool = False
    # Endpoint limits to set, by column (max_body_bytes, rate_limit_per_second, rate_limit_burst);
    # a None value clears one back to the default (no rate limit, the service's body limit).
    limits: dict[str, int | float | None] = field(default_factory=dict)
    # Provider credentials (payload-key and signature modes) and the multipart file setting.
    credentials: CredentialOptions = field(default_factory=CredentialOptions)
    ignore_file_parts: bool | None = None


def _apply_credentials(config: IngestionConfig, options: ConfigOptions) -> list[str]:
    try:
        return apply_credentials(config, config.auth_mode, options.credentials)
    except CredentialError as error:
        raise AdminError(str(error)) from None


def create_config(session: Session, campaign_id: int, options: ConfigOptions) -> IngestionConfig:
    """A new ingestion config for the campaign (and its organization); the mapping is validated."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise AdminError(f"no campaign with id {campaign_id}")
    mapping = options.mapping if options.mapping is not None else {}
    validate_mapping(mapping)
    if options.lead_type is not None:
        check_lead_type(session, campaign.organization_id, options.lead_type)
    config = IngestionConfig(
        organization_id=campaign.organization_id,
        campaign_id=campaign.id,
        name=check_name(options.name or campaign.name, "config"),
        mapping=mapping,
        auth_mode=options.auth_mode or AuthMode.token,
        match_keys=options.match_keys or list(MATCH_KEYS),
        default_lead_type=options.lead_type,
        min_reengagement_days=options.min_reengagement_days,
        active=True if options.active is None else options.active,
        ignore_file_parts=options.ignore_file_parts or False,
        **options.limits,
    )
    _apply_credentials(config, options)
    session.add(config)
    session.flush()
    return config


def update_config(config: IngestionConfig, options: ConfigOptions) -> list[str]:
    """Apply the options to the config and bump its version; returns the names that changed."""
    if config.standard_api:
        # Its mapping must stay empty (it reads Sela's format) and it routes by lead type.
        raise AdminError(
            f"config {config.id} is the standard lead API's own; change lead types instead"
        )
    session = object_session(config)
    if options.lead_type is not None and session is not None:
        check_lead_type(session, config.organization_id, options.lead_type)
    wanted: dict[str, Any] = {}
    if options.name is not None:
        wanted["name"] = check_name(options.name, "config")
    if options.mapping is not None:
        validate_mapping(options.mapping)
        wanted["mapping"] = options.mapping
    if options.auth_mode is not None:
        wanted["auth_mode"] = options.auth_mode
    if options.active is not None:
        wanted["active"] = options.active
    if options.clear_lead_type or options.lead_type is not None:
        wanted["default_lead_type"] = options.lead_type
    if options.match_keys is not None:
        wanted["match_keys"] = options.match_keys
    if options.clear_min_reengagement_days or options.min_reengagement_days is not None:
        wanted["min_reengagement_days"] = options.min_reengagement_days
    if options.ignore_file_parts is not None:
        wanted["ignore_file_parts"] = options.ignore_file_parts
    wanted.update(options.limits)
    changed = [name for name, value in wanted.items() if getattr(config, name) != value]
    for name in changed:
        setattr(config, name, wanted[name])
    changed += _apply_credentials(config, options)
    if changed:
        config.version += 1
    return changed


def config_as_dict(config: IngestionConfig) -> dict[str, Any]:
    """The config as JSON-ready values, with the names the CLI options use."""
    return {
        "id": str(config.id),
        "organization": config.organization_id,
        "campaign": config.campaign_id,
        "name": config.name,
        "auth": config.auth_mode.value,
        "active": config.active,
        "lead_type": config.default_lead_type,
        "match": list(config.match_keys),
        "min_reengagement_days": config.min_reengagement_days,
        "max_body_bytes": config.max_body_bytes,
        "rate_limit_per_second": config.rate_limit_per_second,
        "rate_limit_burst": config.rate_limit_burst,
        **credential_summary(config),
        "ignore_file_parts": config.ignore_file_parts,
        "version": config.version,
        "mapping": config.mapping,
        "created_time": config.created_time.isoformat(),
        "modified_time": config.modified_time.isoformat(),
    }
