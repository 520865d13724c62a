"""Ingestion configs: the one service the CLI and the HTTP API create, change and show them with.

Plain functions that take a session and never commit. Every refusal is a ``ConfigError`` naming
the field and the rule, with the same words whichever door the request came through.
"""

from __future__ import annotations

import getpass
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from models import Campaign, IngestionConfig, LeadType, MappingVersion
from models.base import utcnow
from models.enums import MATCH_KEYS, AuthMode
from worker.callback_settings import (
    CallbackError,
    CallbackOptions,
    apply_callback,
    callback_summary,
)
from worker.config_credentials import (
    CredentialError,
    CredentialOptions,
    apply_credentials,
    credential_summary,
)
from worker.health.drift import LIMIT_RANGES
from worker.ingest.jsonb import fits_jsonb
from worker.ingest.mapping import MappingConfigError, compile_mapping

MAX_NAME_LENGTH = 255
MAX_MESSAGE_LENGTH = 1000
# The integer columns (ids, lead_type, days, limits) are PostgreSQL ``integer``.
INT_MAX = 2**31 - 1
# Endpoint limits by column: whole numbers or any positive number.
LIMIT_COLUMNS = {
    "max_body_bytes": int,
    "rate_limit_per_second": float,
    "rate_limit_burst": int,
    "fan_in_limit": int,
    "fan_in_window_days": int,
}


class ConfigError(ValueError):
    """A config request that cannot be carried out; ``field`` names what was wrong, if one was."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class MappingRefused(ConfigError):
    """A mapping that does not validate; ``problems`` names every bad rule."""

    def __init__(self, problems: list[str]) -> None:
        text = "mapping refused:\n" + "\n".join(f"  {problem}" for problem in problems)
        super().__init__(text, "mapping")
        self.problems = problems


@dataclass(frozen=True)
class Author:
    """Who saves a change, as the mapping versions record it."""

    label: str
    token_id: int | None = None

    @classmethod
    def cli_user(cls) -> Author:
        """The operator running the CLI, by their login name."""
        try:
            return cls(f"cli {getpass.getuser()}"[:MAX_NAME_LENGTH])
        except (OSError, KeyError):  # no login name in some containers
            return cls("cli")

    @classmethod
    def token(cls, token_id: int) -> Author:
        """An API token, by its id."""
        return cls(f"token {token_id}", token_id)


def check_name(name: str, what: str) -> str:
    """A trimmed, non-empty name of at most 255 characters."""
    name = name.strip()
    if not name:
        raise ConfigError(f"the {what} name must not be empty", "name")
    if len(name) > MAX_NAME_LENGTH:
        raise ConfigError(
            f"the {what} name is {len(name)} characters long; at most 255 are allowed", "name"
        )
    if not fits_jsonb(name):
        raise ConfigError(f"the {what} name must be text without NUL characters", "name")
    return name


def check_match_keys(keys: list[str]) -> list[str]:
    """Match keys in order, each one of external_id, phone_number, email, none twice."""
    if not keys:
        raise ConfigError(f"match needs at least one of: {', '.join(MATCH_KEYS)}", "match")
    unknown = [key for key in keys if key not in MATCH_KEYS]
    if unknown:
        raise ConfigError(
            f"unknown match key {', '.join(unknown)}; the keys are {', '.join(MATCH_KEYS)}",
            "match",
        )
    if len(set(keys)) != len(keys):
        raise ConfigError(f"match names a key twice: {','.join(keys)}", "match")
    return keys


def check_count(value: int | None, name: str) -> int | None:
    """A whole number from 0 to 2^31-1 (lead_type, min_reengagement_days), or None."""
    if value is not None and not 0 <= value <= INT_MAX:
        raise ConfigError(f"{name} must be a whole number from 0 to {INT_MAX}", name)
    return value


def check_limits(limits: dict[str, int | float | None]) -> dict[str, int | float | None]:
    """Endpoint limits: whole numbers >= 1 (bytes, burst) or a positive rate; None clears one."""
    for column, value in limits.items():
        kind = LIMIT_COLUMNS[column]
        if value is None:
            continue
        if not value > 0 or math.isinf(value):
            raise ConfigError(f"{column} must be a positive number", column)
        if kind is int and (value != int(value) or value > INT_MAX):
            raise ConfigError(f"{column} must be a whole number from 1 to {INT_MAX}", column)
        limits[column] = kind(value)
    return limits


def check_drift_limits(limits: dict[str, Any] | None) -> dict[str, Any] | None:
    """A config's own drift limits: known names, each a number in its range; None when empty."""
    if not limits:
        return None
    checked: dict[str, Any] = {}
    for name, value in limits.items():
        if name not in LIMIT_RANGES:
            raise ConfigError(
                f"drift_limits: unknown limit {name!r}; the limits are {', '.join(LIMIT_RANGES)}",
                "drift_limits",
            )
        kind, low, high = LIMIT_RANGES[name]
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not low <= number <= high or (kind is int and number != int(number)):
            whole = "a whole number" if kind is int else "a number"
            raise ConfigError(
                f"drift_limits: {name} must be {whole} from {low:g} to {high:g}", "drift_limits"
            )
        checked[name] = kind(number)
    return checked


def validate_mapping(mapping: dict[str, Any]) -> None:
    """Compile the mapping as the worker will; MappingRefused lists every bad rule."""
    if not fits_jsonb(mapping):
        raise MappingRefused(["mapping: text must not contain NUL characters or lone surrogates"])
    try:
        compile_mapping(mapping)
    except MappingConfigError as error:
        raise MappingRefused(list(error.problems)) from None


def check_message(message: str | None) -> str | None:
    """A version's message: trimmed, at most 1000 characters; None when empty."""
    if message is None or not message.strip():
        return None
    if len(message) > MAX_MESSAGE_LENGTH or not fits_jsonb(message):
        raise ConfigError(
            f"message must be at most {MAX_MESSAGE_LENGTH} characters, without NUL", "message"
        )
    return message.strip()


def get_config(
    session: Session,
    config_id: uuid.UUID,
    organization_id: int | None = None,
    for_update: bool = False,
) -> IngestionConfig:
    """The config with this UUID (in this organization, when one is given), or an error."""
    statement = select(IngestionConfig).where(IngestionConfig.id == config_id)
    if for_update:
        # Saves of one config queue up, so each takes the next mapping version number.
        statement = statement.with_for_update()
    config = session.scalar(statement)
    if config is None or organization_id not in (None, config.organization_id):
        raise ConfigError(f"no ingestion config with id {config_id}", "id")
    return config


def check_lead_type(session: Session, organization_id: int, lead_type_id: int) -> None:
    """Refuse a lead type id that is not one of the organization's."""
    lead_type = session.get(LeadType, lead_type_id) if 0 <= lead_type_id <= INT_MAX else None
    if lead_type is None or lead_type.organization_id != organization_id:
        raise ConfigError(
            f"no lead type with id {lead_type_id} in organization {organization_id}; "
            "create one with `leadgate lead-type create`",
            "lead_type",
        )


@dataclass
class ConfigOptions:
    """What creating or changing a config may set; None leaves a value as it is."""

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
    # The provider outcome callback; a key it issues is left on it, to be shown once.
    callback: CallbackOptions = field(default_factory=CallbackOptions)
    # Hold the config by itself when its drift alarm goes off (worker.health).
    hold_on_drift: bool | None = None
    # A test config: every event it receives is a test-mode event, into test leads.
    test: bool | None = None
    # The config's own drift limits ({"recent_events": 20}); clear_drift_limits drops them.
    drift_limits: dict[str, Any] | None = None
    clear_drift_limits: bool = False
    # What a row of an uploaded file does: "create" or "upsert" (None: unchanged / upsert).
    file_endpoint: str | None = None
    # Saved with the mapping version a new mapping makes.
    message: str | None = None


# What a row of an uploaded file may do; the last is the default.
FILE_ENDPOINTS = ("create", "upsert")


def check_file_endpoint(value: str) -> str:
    """The config's file_endpoint, if it is one of FILE_ENDPOINTS."""
    if value not in FILE_ENDPOINTS:
        raise ConfigError(
            f"file_endpoint must be one of {', '.join(FILE_ENDPOINTS)}; got {value!r}",
            "file_endpoint",
        )
    return value


def _apply_credentials(config: IngestionConfig, options: ConfigOptions) -> list[str]:
    try:
        return apply_credentials(config, config.auth_mode, options.credentials)
    except CredentialError as error:
        raise ConfigError(str(error), error.field) from None


def _apply_callback(config: IngestionConfig, options: ConfigOptions) -> list[str]:
    try:
        return apply_callback(config, options.callback)
    except CallbackError as error:
        raise ConfigError(str(error), error.field) from None


def _save_version(
    session: Session, config: IngestionConfig, author: Author, message: str | None
) -> None:
    session.add(
        MappingVersion(
            config_id=config.id,
            number=config.mapping_version,
            mapping=config.mapping,
            saved_by=author.label,
            saved_by_token_id=author.token_id,
            message=message,
        )
    )


def create_config(
    session: Session,
    campaign_id: int,
    options: ConfigOptions,
    author: Author,
    organization_id: int | None = None,
) -> IngestionConfig:
    """A new config for the campaign (and its organization), with its mapping as version 1.

    ``organization_id``, when given, is the only organization whose campaigns may be named.
    """
    campaign = session.get(Campaign, campaign_id) if 0 < campaign_id <= INT_MAX else None
    if campaign is None or organization_id not in (None, campaign.organization_id):
        raise ConfigError(f"no campaign with id {campaign_id}", "campaign")
    mapping = options.mapping if options.mapping is not None else {}
    validate_mapping(mapping)
    message = check_message(options.message)
    lead_type = check_count(options.lead_type, "lead_type")
    if lead_type is not None:
        check_lead_type(session, campaign.organization_id, lead_type)
    config = IngestionConfig(
        organization_id=campaign.organization_id,
        campaign_id=campaign.id,
        name=check_name(options.name or campaign.name, "config"),
        mapping=mapping,
        auth_mode=options.auth_mode or AuthMode.token,
        match_keys=(
            list(MATCH_KEYS) if options.match_keys is None else check_match_keys(options.match_keys)
        ),
        default_lead_type=lead_type,
        min_reengagement_days=check_count(options.min_reengagement_days, "min_reengagement_days"),
        active=True if options.active is None else options.active,
        mapping_version=1,
        ignore_file_parts=options.ignore_file_parts or False,
        hold_on_drift=options.hold_on_drift or False,
        test=options.test or False,
        drift_limits=check_drift_limits(options.drift_limits),
        file_endpoint=check_file_endpoint(options.file_endpoint or FILE_ENDPOINTS[-1]),
        **check_limits(dict(options.limits)),
    )
    _apply_credentials(config, options)  # before the row is added: a refusal leaves nothing
    _apply_callback(config, options)
    session.add(config)
    session.flush()
    _save_version(session, config, author, message)
    session.flush()
    return config


def _wanted(options: ConfigOptions) -> dict[str, Any]:
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
        wanted["default_lead_type"] = check_count(options.lead_type, "lead_type")
    if options.match_keys is not None:
        wanted["match_keys"] = check_match_keys(options.match_keys)
    if options.clear_min_reengagement_days or options.min_reengagement_days is not None:
        days = check_count(options.min_reengagement_days, "min_reengagement_days")
        wanted["min_reengagement_days"] = days
    if options.ignore_file_parts is not None:
        wanted["ignore_file_parts"] = options.ignore_file_parts
    if options.hold_on_drift is not None:
        wanted["hold_on_drift"] = options.hold_on_drift
    if options.test is not None:
        wanted["test"] = options.test
    if options.clear_drift_limits or options.drift_limits is not None:
        wanted["drift_limits"] = check_drift_limits(options.drift_limits)
    if options.file_endpoint is not None:
        wanted["file_endpoint"] = check_file_endpoint(options.file_endpoint)
    wanted.update(check_limits(dict(options.limits)))
    return wanted


def update_config(
    config: IngestionConfig, options: ConfigOptions, author: Author | None = None
) -> list[str]:
    """Apply the options and bump the config's version; returns the names that changed.

    A changed mapping is saved as the config's next mapping version, by ``author`` (the CLI's
    user when None). Nothing is written when a check refuses any option. The standard lead
    API's own config is refused: its mapping must stay empty (it reads Sela's format) and it
    routes by lead type.
    """
    if config.standard_api:
        raise ConfigError(
            f"config {config.id} is the standard lead API's own; change lead types instead"
        )
    wanted = _wanted(options)
    message = check_message(options.message)  # before anything changes
    session = object_session(config)
    if options.lead_type is not None and session is not None:
        check_lead_type(session, config.organization_id, options.lead_type)
    changed = [name for name, value in wanted.items() if getattr(config, name) != value]
    previous = {name: getattr(config, name) for name in changed}
    for name in changed:
        setattr(config, name, wanted[name])
    try:
        changed += _apply_credentials(config, options)
        changed += _apply_callback(config, options)
    except ConfigError:
        for name, value in previous.items():  # a refused credential changes nothing
            setattr(config, name, value)
        raise
    if changed:
        config.version += 1
    if "mapping" in changed:
        assert session is not None, "a config is changed through its session"
        config.mapping_version += 1
        _save_version(session, config, author or Author.cli_user(), message)
        session.flush()
    return changed


def config_as_dict(config: IngestionConfig) -> dict[str, Any]:
    """The config as JSON-ready values, with the names the CLI options and the API use."""
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
        "fan_in_limit": config.fan_in_limit,
        "fan_in_window_days": config.fan_in_window_days,
        **credential_summary(config),
        "ignore_file_parts": config.ignore_file_parts,
        **callback_summary(config, utcnow()),
        "hold_on_drift": config.hold_on_drift,
        "test": config.test,
        "held": config.held,
        "held_reason": config.held_reason,
        "held_time": config.held_time.isoformat() if config.held_time else None,
        "drift_alarm": config.drift_alarm,
        "drift_limits": config.drift_limits,
        "file_endpoint": config.file_endpoint,
        "version": config.version,
        "mapping_version": config.mapping_version,
        "mapping": config.mapping,
        "created_time": config.created_time.isoformat(),
        "modified_time": config.modified_time.isoformat(),
    }
